// Answers supervisor questions from csat_rollup only (never a scan of cc_csat).
import type { Kysely } from 'kysely';
import type { CsatRollupTable, Database } from '../db/schema.js';
import { readResultState } from './service.js';
import { addDays, nextPeriodStart, periodStart, type Period } from './zone.js';

export interface StatsRange {
  readonly period: Period;
  /** Inclusive local dates, already widened to whole periods. */
  readonly from: string;
  readonly to: string;
}

export type Distribution = Record<'1' | '2' | '3' | '4' | '5', number>;

type Bucket = Pick<CsatRollupTable, 'period_start' | 'count' | 'sum' | 'n1' | 'n2' | 'n3' | 'n4' | 'n5'>;

/** The (agent within queue) rollups of the range: rankings and an agent's queues come from these. */
function agentQueueRollups(db: Kysely<Database>, range: StatsRange) {
  return db
    .selectFrom('csat_rollup')
    .where('scope', '=', 'agent_queue')
    .where('period', '=', range.period)
    .where('period_start', '>=', range.from)
    .where('period_start', '<=', range.to);
}

/** Widens [from, to] to whole weeks (ISO, Monday) or months, so week/month rollups answer exactly. */
export function alignRange(period: Period, from: string, to: string): StatsRange {
  return { period, from: periodStart(period, from), to: addDays(nextPeriodStart(period, periodStart(period, to)), -1) };
}

/** Two decimals; null when nothing was rated. */
export function average(sum: number, count: number): number | null {
  return count === 0 ? null : Math.round((sum / count) * 100) / 100;
}

type Scope = { scope: 'agent'; agentId: string } | { scope: 'queue'; queueId: string };

async function buckets(db: Kysely<Database>, who: Scope, range: StatsRange): Promise<Bucket[]> {
  return db
    .selectFrom('csat_rollup')
    .select(['period_start', 'count', 'sum', 'n1', 'n2', 'n3', 'n4', 'n5'])
    .where('scope', '=', who.scope)
    .where('period', '=', range.period)
    .where('queue_id', '=', who.scope === 'queue' ? who.queueId : '')
    .where('agent_id', '=', who.scope === 'agent' ? who.agentId : '')
    .where('period_start', '>=', range.from)
    .where('period_start', '<=', range.to)
    .orderBy('period_start')
    .execute();
}

function summarize(rows: readonly Bucket[], range: StatsRange) {
  const byStart = new Map(rows.map((row) => [row.period_start, row]));
  const trend: Array<{ period_start: string; count: number; average: number | null }> = [];
  for (let start = range.from; start <= range.to; start = nextPeriodStart(range.period, start)) {
    const row = byStart.get(start);
    trend.push({ period_start: start, count: row?.count ?? 0, average: row ? average(row.sum, row.count) : null });
  }
  const total = { count: 0, sum: 0, distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 } as Distribution };
  for (const row of rows) {
    total.count += row.count;
    total.sum += row.sum;
    total.distribution['1'] += row.n1;
    total.distribution['2'] += row.n2;
    total.distribution['3'] += row.n3;
    total.distribution['4'] += row.n4;
    total.distribution['5'] += row.n5;
  }
  return { average: average(total.sum, total.count), count: total.count, distribution: total.distribution, trend };
}

export interface RankedAgent {
  rank: number | null;
  agent_id: string;
  average: number | null;
  count: number;
}

/**
 * Average desc (exact, not the rounded figure), then count desc, then agent_id asc. Agents with
 * fewer than `minRatings` ratings are listed after the ranked ones with rank null.
 */
export function rankAgents(rows: ReadonlyArray<{ agent_id: string; count: number; sum: number }>, minRatings: number): RankedAgent[] {
  const order = (a: { agent_id: string; count: number; sum: number }, b: typeof a): number =>
    b.sum * a.count - a.sum * b.count || b.count - a.count || (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0);
  const ranked = rows.filter((row) => row.count >= minRatings).sort(order);
  const unranked = rows.filter((row) => row.count < minRatings).sort(order);
  return [
    ...ranked.map((row, index) => ({ rank: index + 1, agent_id: row.agent_id, average: average(row.sum, row.count), count: row.count })),
    ...unranked.map((row) => ({ rank: null, agent_id: row.agent_id, average: average(row.sum, row.count), count: row.count })),
  ];
}

async function queueRanking(db: Kysely<Database>, queueId: string, range: StatsRange, minRatings: number): Promise<RankedAgent[]> {
  const rows = await agentQueueRollups(db, range)
    .select(({ fn }) => ['agent_id', fn.sum<number>('count').as('count'), fn.sum<number>('sum').as('sum')])
    .where('queue_id', '=', queueId)
    .groupBy('agent_id')
    .execute();
  return rankAgents(rows, minRatings);
}

export async function asOf(db: Kysely<Database>): Promise<string | null> {
  return (await readResultState(db)).refreshed_at ?? null;
}

export async function queueStats(db: Kysely<Database>, queueId: string, range: StatsRange, minRatings: number) {
  const [rows, ranking, refreshed] = await Promise.all([
    buckets(db, { scope: 'queue', queueId }, range),
    queueRanking(db, queueId, range, minRatings),
    asOf(db),
  ]);
  return { queue_id: queueId, period: range.period, from: range.from, to: range.to, ...summarize(rows, range), agent_ranking: ranking, as_of: refreshed };
}

export async function agentStats(db: Kysely<Database>, agentId: string, range: StatsRange, minRatings: number) {
  const [rows, queueIds, refreshed] = await Promise.all([
    buckets(db, { scope: 'agent', agentId }, range),
    agentQueueRollups(db, range).select('queue_id').distinct().where('agent_id', '=', agentId).orderBy('queue_id').execute(),
    asOf(db),
  ]);
  const queues = await Promise.all(
    queueIds.map(async ({ queue_id }) => {
      const ranking = await queueRanking(db, queue_id, range, minRatings);
      const mine = ranking.find((entry) => entry.agent_id === agentId)!;
      return { queue_id, rank: mine.rank, of: ranking.filter((entry) => entry.rank !== null).length, average: mine.average, count: mine.count };
    }),
  );
  return { agent_id: agentId, period: range.period, from: range.from, to: range.to, ...summarize(rows, range), queues, as_of: refreshed };
}
