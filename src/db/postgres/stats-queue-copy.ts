// One queue's rollups (its trend buckets and its agents' running totals) held in memory, as one
// result-service run left them. The running totals are not stored on PostgreSQL (sql/postgres/019):
// they are summed here, once per load, from the agents' (agent_queue, day) rows. On PostgreSQL an
// answer computed from the tables costs a round trip plus ~80 index seeks for a ranking (8-15 us each
// on the benchmark host, ~1 ms in all); from this copy it is two binary searches per agent. The copy
// is read in one statement, so it and the version it is returned with are one MVCC snapshot.
import type { PoolClient } from 'pg';
import { snapshotOf, type BucketRow } from '../../results/stats-shape.js';
import type { Snapshot, StatsRange } from '../../storage/ports.js';

// Each agent's day rows travel as one text per agent ("day count sum,..." in day order): the cheapest
// form to build on the server and take apart here (measured against one row per day, and JSON arrays).
const LOAD_QUEUE = {
  name: 'cc_csat_load_queue_copy',
  text: `SELECT
    (SELECT json_object_agg(key, value) FROM result_state WHERE key IN ('refreshed_at', 'watermark', 'timezone')) AS state,
    (SELECT json_agg(json_build_array(period, period_start, count, sum, n1, n2, n3, n4, n5) ORDER BY period, period_start)
       FROM csat_rollup WHERE scope = 'queue' AND period IN ('day', 'week', 'month') AND queue_id = $1 AND agent_id = '') AS buckets,
    (SELECT json_agg(json_build_array(agent_id, days)) FROM (
       SELECT agent_id, string_agg(period_start::text || ' ' || count || ' ' || sum, ',' ORDER BY period_start) AS days
       FROM csat_rollup WHERE scope = 'agent_queue' AND period = 'day' AND queue_id = $1 GROUP BY agent_id) AS per_agent) AS days`,
};

type LoadedRow = {
  state: Record<string, string> | null;
  buckets: Array<[string, ...BucketRow]> | null;
  days: Array<[string, string]> | null;
};

/** One agent's running totals in a queue: after each day it was rated on, its count and sum so far. */
interface AgentRunning {
  readonly agentId: string;
  readonly days: readonly string[];
  readonly counts: readonly number[];
  readonly sums: readonly number[];
}

export interface QueueTotals {
  readonly agent_id: string;
  readonly count: number;
  readonly sum: number;
}

export class QueueCopy {
  constructor(
    private readonly bucketsByPeriod: ReadonlyMap<string, readonly BucketRow[]>,
    private readonly agents: readonly AgentRunning[],
  ) {}

  /** No rollup row at all: a queue never rated (or an id nobody uses). */
  get empty(): boolean {
    return this.bucketsByPeriod.size === 0 && this.agents.length === 0;
  }

  /** The queue's buckets of `range.period` starting within the range, ordered by period_start. */
  buckets(range: StatsRange): BucketRow[] {
    const rows = this.bucketsByPeriod.get(range.period) ?? [];
    return rows.slice(countBefore(rows, (row) => row[0], range.from), countAtOrBefore(rows, (row) => row[0], range.to));
  }

  /** Each agent's count and sum within the range: running total through `to` minus the one before `from`. */
  agentTotals(range: StatsRange): QueueTotals[] {
    const totals: QueueTotals[] = [];
    for (const agent of this.agents) {
      const through = countAtOrBefore(agent.days, (day) => day, range.to) - 1;
      const before = countBefore(agent.days, (day) => day, range.from) - 1;
      const count = valueAt(agent.counts, through) - valueAt(agent.counts, before);
      if (count > 0) totals.push({ agent_id: agent.agentId, count, sum: valueAt(agent.sums, through) - valueAt(agent.sums, before) });
    }
    return totals;
  }
}

/** Reads a queue's copy and the version of the rollups it is, in one statement. */
export async function loadQueueCopy(client: PoolClient, queueId: string): Promise<{ snapshot: Snapshot; copy: QueueCopy }> {
  const row = (await client.query<LoadedRow>({ ...LOAD_QUEUE, values: [queueId] })).rows[0];
  const bucketsByPeriod = new Map<string, BucketRow[]>();
  for (const [period, ...bucket] of row?.buckets ?? []) {
    const rows = bucketsByPeriod.get(period) ?? [];
    rows.push(bucket);
    bucketsByPeriod.set(period, rows);
  }
  const agents = (row?.days ?? []).map(([agentId, days]) => runningOf(agentId, days));
  return { snapshot: snapshotOf(row?.state ?? {}), copy: new QueueCopy(bucketsByPeriod, agents) };
}

/** Running totals from an agent's day rows ("day count sum,..." in day order). */
function runningOf(agentId: string, dayRows: string): AgentRunning {
  const days: string[] = [];
  const counts: number[] = [];
  const sums: number[] = [];
  let count = 0;
  let sum = 0;
  for (const entry of dayRows.split(',')) {
    const [day, dayCount, daySum] = entry.split(' ');
    days.push(day!);
    counts.push((count += Number(dayCount)));
    sums.push((sum += Number(daySum)));
  }
  return { agentId, days, counts, sums };
}

/** A running total at `index`; 0 before the first day (index -1). */
function valueAt(totals: readonly number[], index: number): number {
  return index < 0 ? 0 : totals[index]!;
}

/** How many of `sorted` (ascending by key) have a key strictly below `bound`. */
function countBefore<T>(sorted: readonly T[], key: (item: T) => string, bound: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (key(sorted[middle]!) < bound) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** How many of `sorted` (ascending by key) have a key at or below `bound`. */
function countAtOrBefore<T>(sorted: readonly T[], key: (item: T) => string, bound: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (key(sorted[middle]!) <= bound) low = middle + 1;
    else high = middle;
  }
  return low;
}
