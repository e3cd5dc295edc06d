// Answers supervisor questions from csat_rollup and csat_running only (never a scan of cc_csat), on
// a read-only connection of its own: WAL gives it the last committed result-service run while a run
// is writing, so a statistics request never waits behind a rebuild, nor sees half of one.
import type SqliteDatabase from 'better-sqlite3';
import { addDays, nextPeriodStart, periodStart, periodStarts, type Period } from './zone.js';

export interface StatsRange {
  readonly period: Period;
  /** Inclusive local dates, already widened to whole periods. */
  readonly from: string;
  readonly to: string;
}

export type Distribution = Record<'1' | '2' | '3' | '4' | '5', number>;

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

/** A bucket row as read (raw): period_start, count, sum, n1..n5. */
type BucketRow = [string, number, number, number, number, number, number, number];

// Rows arrive ordered by period_start, as periodStarts are: one merge walk fills the trend's gaps.
function summarize(rows: readonly BucketRow[], range: StatsRange) {
  const trend = [];
  let next = 0;
  for (const start of periodStarts(range.period, range.from, range.to)) {
    while (next < rows.length && rows[next]![0] < start) next++;
    const row = rows[next]?.[0] === start ? rows[next++] : undefined;
    trend.push({ period_start: start, count: row?.[1] ?? 0, average: row ? average(row[2], row[1]) : null });
  }
  let count = 0;
  let sum = 0;
  const distribution: Distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  for (const row of rows) {
    count += row[1];
    sum += row[2];
    distribution['1'] += row[3];
    distribution['2'] += row[4];
    distribution['3'] += row[5];
    distribution['4'] += row[6];
    distribution['5'] += row[7];
  }
  return { average: average(sum, count), count, distribution, trend };
}

// A scalar subquery yields one value, so an agent's running count and sum travel together packed as
// count * 2^28 + sum: one integer, no string to build in SQLite and split in JS. Exact while the
// packed value fits a double (below 2^53: some 33 million ratings of one agent in one queue); past
// that the reader falls back to the "count sum" text form.
const PACK = 2 ** 28;
const runningTotal = (bound: string, form: 'packed' | 'text'): string => `(
  SELECT ${form === 'packed' ? `r.count * ${PACK} + r.sum` : `r.count || ' ' || r.sum`} FROM csat_running r
  WHERE r.queue_id = qa.queue_id AND r.agent_id = qa.agent_id AND ${bound} ORDER BY r.day DESC LIMIT 1)`;
const queueAgentTotals = (form: 'packed' | 'text'): string =>
  `SELECT qa.agent_id, ${runningTotal('r.day <= @to', form)} AS through_to, ${runningTotal('r.day < @from', form)} AS before_from
   FROM csat_queue_agent qa
   WHERE qa.queue_id = @queue AND qa.last_day >= @from AND qa.first_day <= @to`;
type RangeParams = { queue: string; from: string; to: string };
type BucketParams = { scope: string; period: string; queue: string; agent: string; from: string; to: string };

const BUCKETS = `SELECT period_start, count, sum, n1, n2, n3, n4, n5 FROM csat_rollup
  WHERE scope = @scope AND period = @period AND queue_id = @queue AND agent_id = @agent AND period_start BETWEEN @from AND @to
  ORDER BY period_start`;

function prepareStatements(sqlite: SqliteDatabase.Database) {
  return {
    state: sqlite.prepare<[], { key: string; value: string }>('SELECT key, value FROM result_state'),
    // Raw rows (arrays): a trend of 30 buckets builds no row objects.
    queueBuckets: sqlite.prepare<BucketParams, BucketRow>(BUCKETS).raw(),
    // The agent index: through the primary key, an agent's rows sit among every agent's (queue_id '').
    agentBuckets: sqlite
      .prepare<BucketParams, BucketRow>(
        BUCKETS.replace('FROM csat_rollup', 'FROM csat_rollup INDEXED BY csat_rollup_agent'),
      )
      .raw(),
    // Each agent's totals in one queue over [from, to]: the last running total on or before `to`
    // minus the last one before `from`. Two index seeks per agent, whatever the range.
    queueAgentTotals: sqlite.prepare<RangeParams, [string, number | null, number | null]>(queueAgentTotals('packed')).raw(),
    queueAgentTotalsText: sqlite.prepare<RangeParams, [string, string | null, string | null]>(queueAgentTotals('text')).raw(),
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
    const params = { queue: queueId, from: range.from, to: range.to };
    const packed = this.statements.queueAgentTotals.all(params);
    const exact = packed.every(([, throughTo]) => throughTo === null || throughTo <= Number.MAX_SAFE_INTEGER);
    return rankAgents(exact ? totalsFromPacked(packed) : totalsFromText(this.statements.queueAgentTotalsText.all(params)), minRatings);
  }
}

type AgentTotals = Array<{ agent_id: string; count: number; sum: number }>;

function totalsFromPacked(rows: ReadonlyArray<[string, number | null, number | null]>): AgentTotals {
  const totals: AgentTotals = [];
  for (const [agentId, throughTo, beforeFrom] of rows) {
    // Running totals only grow, so the difference is itself count * 2^28 + sum, both non-negative.
    const inRange = (throughTo ?? 0) - (beforeFrom ?? 0);
    const count = Math.floor(inRange / PACK);
    if (count > 0) totals.push({ agent_id: agentId, count, sum: inRange - count * PACK });
  }
  return totals;
}

function totalsFromText(rows: ReadonlyArray<[string, string | null, string | null]>): AgentTotals {
  const totals: AgentTotals = [];
  for (const [agentId, throughTo, beforeFrom] of rows) {
    const [countTo = 0, sumTo = 0] = throughTo?.split(' ').map(Number) ?? [];
    const [countBefore = 0, sumBefore = 0] = beforeFrom?.split(' ').map(Number) ?? [];
    if (countTo > countBefore) totals.push({ agent_id: agentId, count: countTo - countBefore, sum: sumTo - sumBefore });
  }
  return totals;
}
