// Answers supervisor questions from csat_rollup and csat_running only (never a scan of cc_csat), on
// a read-only connection of its own: WAL gives it the last committed result-service run while a run
// is writing, so a statistics request never waits behind a rebuild, nor sees half of one.
import type SqliteDatabase from 'better-sqlite3';
import type { CsatRollupTable } from '../db/schema.js';
import { addDays, nextPeriodStart, periodStart, periodStarts, type Period } from './zone.js';

export interface StatsRange {
  readonly period: Period;
  /** Inclusive local dates, already widened to whole periods. */
  readonly from: string;
  readonly to: string;
}

export type Distribution = Record<'1' | '2' | '3' | '4' | '5', number>;

type Bucket = Pick<CsatRollupTable, 'period_start' | 'count' | 'sum' | 'n1' | 'n2' | 'n3' | 'n4' | 'n5'>;

export interface RankedAgent {
  rank: number | null;
  agent_id: string;
  average: number | null;
  count: number;
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

/** Widens [from, to] to whole weeks (ISO, Monday) or months, so week/month rollups answer exactly. */
export function alignRange(period: Period, from: string, to: string): StatsRange {
  return { period, from: periodStart(period, from), to: addDays(nextPeriodStart(period, periodStart(period, to)), -1) };
}

/** Two decimals; null when nothing was rated. */
export function average(sum: number, count: number): number | null {
  return count === 0 ? null : Math.round((sum / count) * 100) / 100;
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

// A scalar subquery yields one value, so an agent's running count and sum travel together as "count sum".
const runningTotal = (bound: string): string => `(
  SELECT r.count || ' ' || r.sum FROM csat_running r
  WHERE r.queue_id = qa.queue_id AND r.agent_id = qa.agent_id AND ${bound} ORDER BY r.day DESC LIMIT 1)`;

const BUCKETS = `SELECT period_start, count, sum, n1, n2, n3, n4, n5 FROM csat_rollup
  WHERE scope = @scope AND period = @period AND queue_id = @queue AND agent_id = @agent AND period_start BETWEEN @from AND @to
  ORDER BY period_start`;

function prepareStatements(sqlite: SqliteDatabase.Database) {
  return {
    state: sqlite.prepare<[], { key: string; value: string }>('SELECT key, value FROM result_state'),
    queueBuckets: sqlite.prepare<{ scope: string; period: string; queue: string; agent: string; from: string; to: string }, Bucket>(BUCKETS),
    // The agent index: through the primary key, an agent's rows sit among every agent's (queue_id '').
    agentBuckets: sqlite.prepare<{ scope: string; period: string; queue: string; agent: string; from: string; to: string }, Bucket>(
      BUCKETS.replace('FROM csat_rollup', 'FROM csat_rollup INDEXED BY csat_rollup_agent'),
    ),
    // Each agent's totals in one queue over [from, to]: the last running total on or before `to`
    // minus the last one before `from`. Two index seeks per agent, whatever the range.
    queueAgentTotals: sqlite.prepare<{ queue: string; from: string; to: string }, { agent_id: string; through_to: string | null; before_from: string | null }>(
      `SELECT qa.agent_id, ${runningTotal('r.day <= @to')} AS through_to, ${runningTotal('r.day < @from')} AS before_from
       FROM csat_queue_agent qa
       WHERE qa.queue_id = @queue AND qa.last_day >= @from AND qa.first_day <= @to`,
    ),
    agentQueues: sqlite.prepare<{ agent: string; from: string; to: string }, { queue_id: string }>(
      `SELECT queue_id FROM csat_queue_agent WHERE agent_id = @agent AND last_day >= @from AND first_day <= @to ORDER BY queue_id`,
    ),
    anyRatingInQueue: sqlite.prepare<[string], { one: number }>('SELECT 1 AS one FROM cc_csat WHERE queue_id = ? LIMIT 1'),
  };
}

/** The statistics read model. Synchronous: better-sqlite3 is, and each answer is a few index seeks. */
export class StatsReader {
  private prepared: ReturnType<typeof prepareStatements> | undefined;
  private readonly inTransaction: (read: () => unknown) => unknown;

  /** `sqlite` is a connection of its own (see db/open.ts), opened after the migrations ran. */
  constructor(private readonly sqlite: SqliteDatabase.Database) {
    this.inTransaction = sqlite.transaction((read: () => unknown) => read());
  }

  // Prepared on first use: the reader may be opened before the migrations create the tables.
  private get statements(): ReturnType<typeof prepareStatements> {
    return (this.prepared ??= prepareStatements(this.sqlite));
  }

  /**
   * Runs `read` in one read transaction, so that the snapshot stamp and every row read belong to
   * the same committed run, even if `cc-csat aggregate` in another process commits meanwhile.
   */
  consistent<T>(read: () => T): T {
    return this.inTransaction(read) as T;
  }

  snapshot(): Snapshot {
    const state = Object.fromEntries(this.statements.state.all().map((row) => [row.key, row.value]));
    if (state['refreshed_at'] === undefined) return { asOf: null, version: null };
    return { asOf: state['refreshed_at'], version: `${state['refreshed_at']}|${state['watermark']}|${state['timezone']}` };
  }

  queueStats(queueId: string, range: StatsRange, minRatings: number, asOf: string | null) {
    const rows = this.statements.queueBuckets.all({ scope: 'queue', period: range.period, queue: queueId, agent: '', from: range.from, to: range.to });
    return {
      queue_id: queueId,
      period: range.period,
      from: range.from,
      to: range.to,
      ...summarize(rows, range),
      agent_ranking: this.queueRanking(queueId, range, minRatings),
      as_of: asOf,
    };
  }

  agentStats(agentId: string, range: StatsRange, minRatings: number, asOf: string | null) {
    const rows = this.statements.agentBuckets.all({ scope: 'agent', period: range.period, queue: '', agent: agentId, from: range.from, to: range.to });
    const queues = [];
    for (const { queue_id } of this.statements.agentQueues.all({ agent: agentId, from: range.from, to: range.to })) {
      const ranking = this.queueRanking(queue_id, range, minRatings);
      const entry = ranking.find((ranked) => ranked.agent_id === agentId);
      // Rated in this queue before or after the range, not within it.
      if (!entry) continue;
      queues.push({ queue_id, rank: entry.rank, of: ranking.filter((ranked) => ranked.rank !== null).length, average: entry.average, count: entry.count });
    }
    return { agent_id: agentId, period: range.period, from: range.from, to: range.to, ...summarize(rows, range), queues, as_of: asOf };
  }

  /** Whether any rating ever named this queue (tells a typo in a URL from a quiet queue). */
  queueEverRated(queueId: string): boolean {
    return this.statements.anyRatingInQueue.get(queueId) !== undefined;
  }

  private queueRanking(queueId: string, range: StatsRange, minRatings: number): RankedAgent[] {
    const totals: Array<{ agent_id: string; count: number; sum: number }> = [];
    for (const row of this.statements.queueAgentTotals.all({ queue: queueId, from: range.from, to: range.to })) {
      const [countTo = 0, sumTo = 0] = row.through_to?.split(' ').map(Number) ?? [];
      const [countBefore = 0, sumBefore = 0] = row.before_from?.split(' ').map(Number) ?? [];
      if (countTo > countBefore) totals.push({ agent_id: row.agent_id, count: countTo - countBefore, sum: sumTo - sumBefore });
    }
    return rankAgents(totals, minRatings);
  }
}
