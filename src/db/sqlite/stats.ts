// Answers supervisor questions from csat_rollup and csat_running only (never a scan of cc_csat), on
// a read-only connection of its own: WAL gives it the last committed result-service run while a run
// is writing, so a statistics request never waits behind a rebuild.
import type SqliteDatabase from 'better-sqlite3';
import { rankAgents, snapshotOf, standingsOf, summarize, type BucketRow } from '../../results/stats-shape.js';
import type { AgentStats, QueueStats, RankedAgent, Snapshot, StatsRange, StatsStore } from '../../storage/ports.js';

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

/**
 * The statistics read model on SQLite. better-sqlite3 is synchronous and each answer is a few index
 * seeks: the methods do their work at once and hand back settled promises.
 */
export class SqliteStatsStore implements StatsStore {
  private prepared: ReturnType<typeof prepareStatements> | undefined;

  /** `connection()` gives the read connection (see open.ts), opened after the migrations ran. */
  constructor(private readonly connection: () => SqliteDatabase.Database) {}

  // Prepared on first use: the reader may be opened before the migrations create the tables.
  private get statements(): ReturnType<typeof prepareStatements> {
    return (this.prepared ??= prepareStatements(this.connection()));
  }

  async snapshot(): Promise<Snapshot> {
    return snapshotOf(Object.fromEntries(this.statements.state.all().map((row) => [row.key, row.value])));
  }

  async queueStats(queueId: string, range: StatsRange, minRatings: number, asOf: string | null): Promise<QueueStats> {
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

  async agentStats(agentId: string, range: StatsRange, minRatings: number, asOf: string | null): Promise<AgentStats> {
    const rows = this.statements.agentBuckets.all({ scope: 'agent', period: range.period, queue: '', agent: agentId, from: range.from, to: range.to });
    const rankings = this.statements.agentQueues
      .all({ agent: agentId, from: range.from, to: range.to })
      .map(({ queue_id }) => ({ queue_id, ranking: this.queueRanking(queue_id, range, minRatings) }));
    return { agent_id: agentId, period: range.period, from: range.from, to: range.to, ...summarize(rows, range), queues: standingsOf(agentId, rankings), as_of: asOf };
  }

  async queueEverRated(queueId: string): Promise<boolean> {
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
