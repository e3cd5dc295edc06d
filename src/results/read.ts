// Answers supervisor questions from csat_rollup only (never a scan of cc_csat).
import { sql, type Kysely } from 'kysely';
import type { CsatRollupTable, Database } from '../db/schema.js';
import { readResultState } from './service.js';
import { addDays, dateOfDayNumber, dayNumber, nextPeriodStart, periodStart, periodStarts, type Period } from './zone.js';

export interface StatsRange {
  readonly period: Period;
  /** Inclusive local dates, already widened to whole periods. */
  readonly from: string;
  readonly to: string;
}

export type Distribution = Record<'1' | '2' | '3' | '4' | '5', number>;

type Bucket = Pick<CsatRollupTable, 'period_start' | 'count' | 'sum' | 'n1' | 'n2' | 'n3' | 'n4' | 'n5'>;

/**
 * Splits the inclusive local-date range into whole months, then whole ISO weeks, then single days:
 * the fewest stored rollups that add up to exactly the range (30 days: ~12 rows, a year: ~12).
 */
export function decompose(from: string, to: string): Array<{ period: Period; starts: string[] }> {
  const parts: Record<Period, string[]> = { month: [], week: [], day: [] };
  const last = dayNumber(to);
  for (let day = dayNumber(from); day <= last; ) {
    const date = new Date(day * 86_400_000);
    if (date.getUTCDate() === 1) {
      const nextMonth = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / 86_400_000;
      if (nextMonth - 1 <= last) {
        parts.month.push(dateOfDayNumber(day));
        day = nextMonth;
        continue;
      }
    }
    if (date.getUTCDay() === 1 && day + 6 <= last) {
      parts.week.push(dateOfDayNumber(day));
      day += 7;
      continue;
    }
    parts.day.push(dateOfDayNumber(day));
    day += 1;
  }
  return (['month', 'week', 'day'] as const).filter((period) => parts[period].length > 0).map((period) => ({ period, starts: parts[period] }));
}

/**
 * Per-agent (or per-queue) totals of agent-within-queue rollups over the range, read through
 * decompose(): rankings and an agent's queues come from these.
 */
async function agentQueueTotals(
  db: Kysely<Database>,
  range: StatsRange,
  filter: { queueId: string } | { agentId: string },
): Promise<Array<{ agent_id: string; queue_id: string; count: number; sum: number }>> {
  // GROUP BY +agent_id (an expression no index is ordered by) on purpose: with a plain GROUP BY,
  // SQLite without statistics picks whichever index yields rows in group order and scans every
  // agent's rows to skip a sort. This way a queue's rows are a primary-key range, an agent's go
  // through csat_rollup_agent (pinned: the planner otherwise scans the period), and the few
  // hundred rows are summed inside SQLite rather than turned into JavaScript objects.
  type Row = { agent_id: string; queue_id: string; count: number; sum: number };
  const parts = await Promise.all(
    decompose(range.from, range.to).map(async ({ period, starts }) => {
      const result = await ('queueId' in filter
        ? sql<Row>`SELECT agent_id, queue_id, sum(count) AS count, sum(sum) AS sum FROM csat_rollup
            WHERE scope = 'agent_queue' AND period = ${period} AND queue_id = ${filter.queueId} AND period_start IN (${sql.join(starts)})
            GROUP BY +agent_id, +queue_id`
        : sql<Row>`SELECT agent_id, queue_id, sum(count) AS count, sum(sum) AS sum FROM csat_rollup INDEXED BY csat_rollup_agent
            WHERE scope = 'agent_queue' AND period = ${period} AND agent_id = ${filter.agentId} AND period_start IN (${sql.join(starts)})
            GROUP BY +agent_id, +queue_id`
      ).execute(db);
      return result.rows;
    }),
  );
  const totals = new Map<string, { agent_id: string; queue_id: string; count: number; sum: number }>();
  for (const row of parts.flat()) {
    const key = `${row.queue_id}\u0000${row.agent_id}`;
    const entry = totals.get(key) ?? { agent_id: row.agent_id, queue_id: row.queue_id, count: 0, sum: 0 };
    entry.count += row.count;
    entry.sum += row.sum;
    totals.set(key, entry);
  }
  return [...totals.values()];
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
  const trend = periodStarts(range.period, range.from, range.to).map((start) => {
    const row = byStart.get(start);
    return { period_start: start, count: row?.count ?? 0, average: row ? average(row.sum, row.count) : null };
  });
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
  return rankAgents(await agentQueueTotals(db, range, { queueId }), minRatings);
}

export interface Snapshot {
  /** When the rollups were last refreshed: answers carry it as as_of. */
  readonly asOf: string | null;
  /**
   * Identifies one state of the rollups: any run that changes them moves the watermark or the
   * timezone, and every run stamps refreshed_at. Null before any run.
   */
  readonly version: string | null;
}

export async function readSnapshot(db: Kysely<Database>): Promise<Snapshot> {
  const state = await readResultState(db);
  if (state.refreshed_at === undefined) return { asOf: null, version: null };
  return { asOf: state.refreshed_at, version: `${state.refreshed_at}|${state.watermark}|${state.timezone}` };
}

export async function queueStats(db: Kysely<Database>, queueId: string, range: StatsRange, minRatings: number, asOf: string | null) {
  const [rows, ranking] = await Promise.all([
    buckets(db, { scope: 'queue', queueId }, range),
    queueRanking(db, queueId, range, minRatings),
  ]);
  return { queue_id: queueId, period: range.period, from: range.from, to: range.to, ...summarize(rows, range), agent_ranking: ranking, as_of: asOf };
}

export async function agentStats(db: Kysely<Database>, agentId: string, range: StatsRange, minRatings: number, asOf: string | null) {
  const [rows, mine] = await Promise.all([
    buckets(db, { scope: 'agent', agentId }, range),
    agentQueueTotals(db, range, { agentId }),
  ]);
  const queueIds = [...new Set(mine.map((row) => row.queue_id))].sort();
  const queues = await Promise.all(
    queueIds.map(async (queue_id) => {
      const ranking = await queueRanking(db, queue_id, range, minRatings);
      const entry = ranking.find((ranked) => ranked.agent_id === agentId)!;
      return { queue_id, rank: entry.rank, of: ranking.filter((ranked) => ranked.rank !== null).length, average: entry.average, count: entry.count };
    }),
  );
  return { agent_id: agentId, period: range.period, from: range.from, to: range.to, ...summarize(rows, range), queues, as_of: asOf };
}
