// Answers supervisor questions from csat_rollup and csat_queue_agent only (never a scan of cc_csat). Plain
// SELECTs on the pool: MVCC gives each the last committed result-service run, so a statistics request
// never waits behind a run. Named statements are parsed and planned once per pooled connection.
// A queue's answers, and an agent's standings in its queues, come from an in-memory copy of each queue's
// rollups at the version the caller read
// (stats-queue-copies.ts); the snapshot is read from the server only when something may have moved it
// since the last read (stats-state-watch.ts), and not again within the tick it was read in
// (stats-tick-snapshot.ts). The API's reads of a queue then cost no round trip between two runs.
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { rankAgents, snapshotOf, standingsOf, summarize, type BucketRow } from '../../results/stats-shape.js';
import type { AgentStats, QueueStats, RankedAgent, Snapshot, StatsRange, StatsStore } from '../../storage/ports.js';
import { agentBucketsSql } from './agent-buckets-sql.js';
import { storageCall } from './errors.js';
import { QueueCopies, type VersionedCopy } from './stats-queue-copies.js';
import { RollupStateWatch } from './stats-state-watch.js';
import { TickSnapshot } from './stats-tick-snapshot.js';

// The agent's buckets, summed from its (agent_queue, day) rows (agent-buckets-sql.ts): $2 is [agent].
const AGENT_BUCKETS = {
  name: 'cc_csat_agent_buckets',
  text: agentBucketsSql(false),
};

// The queues an agent was rated in around [from, to] (each pair's first and last day), in queue order.
// The agent's standing in each is read from that queue's copy in memory, as the queue's own ranking
// is (stats-queue-copy.ts): no running totals are stored on PostgreSQL (sql/postgres/019), and
// summing every agent's days of the range on the server cost ~20 ms for a year of two queues of 40
// agents on the benchmark host. Up to AGENT_QUEUES_FROM_COPIES queues: an agent in more would load
// (and hold) that many copies for one request, pushing out the queues other callers ask for (at
// most MAX_HELD are held); its standings are summed on the server instead (RANKINGS_SUMMED).
const AGENT_QUEUES = {
  name: 'cc_csat_agent_queues',
  text: `SELECT queue_id FROM csat_queue_agent WHERE agent_id = $1 AND last_day >= $2 AND first_day <= $3 ORDER BY queue_id`,
};
const AGENT_QUEUES_FROM_COPIES = 8;

// The rankings of queues `$1` (the agent's, from AGENT_QUEUES), in one round trip: every agent of each
// rated around the range, its (agent_queue, day) rows in the range summed (an index range each).
const RANKINGS_SUMMED = {
  name: 'cc_csat_rankings_summed',
  text: `SELECT qa.queue_id, qa.agent_id, in_range.count, in_range.sum
    FROM csat_queue_agent qa
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(r.count), 0)::bigint AS count, coalesce(sum(r.sum), 0)::bigint AS sum FROM csat_rollup r
      WHERE r.scope = 'agent_queue' AND r.period = 'day' AND r.queue_id = qa.queue_id AND r.agent_id = qa.agent_id
        AND r.period_start BETWEEN $2 AND $3
    ) AS in_range
    WHERE qa.queue_id = ANY ($1::text[]) AND qa.last_day >= $2 AND qa.first_day <= $3 AND in_range.count > 0
    ORDER BY qa.queue_id`,
};

type AgentTotal = { agent_id: string; count: number; sum: number };

const STATE = {
  name: 'cc_csat_result_state',
  text: `SELECT key, value FROM result_state WHERE key IN ('refreshed_at', 'watermark', 'timezone')`,
};

const QUEUE_EVER_RATED = {
  name: 'cc_csat_queue_ever_rated',
  text: 'SELECT EXISTS (SELECT 1 FROM cc_csat WHERE queue_id = $1)',
};

/** The statistics read model on PostgreSQL. */
export class PostgresStatsStore implements StatsStore {
  private readonly tick = new TickSnapshot();
  private readonly watch: RollupStateWatch;
  private readonly queueCopies: QueueCopies;

  constructor(pool: Pool) {
    this.watch = new RollupStateWatch(pool);
    this.queueCopies = new QueueCopies((work) => this.watch.read(work));
  }

  /** Queue copies held in memory now (bounded; see stats-queue-copies.ts). */
  get heldQueueCopies(): number {
    return this.queueCopies.size;
  }

  snapshot(): Promise<Snapshot> {
    const known = this.knownSnapshot();
    return known ? Promise.resolve(known) : storageCall(() => this.readSnapshot());
  }

  queueStats(queueId: string, range: StatsRange, minRatings: number, asOf: string | null): Promise<QueueStats> {
    return storageCall(async () => {
      const { snapshot, copy } = await this.queueCopy(queueId, await this.currentSnapshot(asOf));
      // The answer is this version's: what the caller's next snapshot() in this tick must report.
      this.tick.remember(snapshot);
      return {
        queue_id: queueId,
        period: range.period,
        from: range.from,
        to: range.to,
        ...summarize(copy.buckets(range), range),
        agent_ranking: rankAgents(copy.agentTotals(range), minRatings),
        as_of: asOf,
      };
    });
  }

  agentStats(agentId: string, range: StatsRange, minRatings: number, asOf: string | null): Promise<AgentStats> {
    return storageCall(async () => {
      const [buckets, queues] = await Promise.all([
        this.agentBuckets(agentId, range),
        this.query<[string]>({ ...AGENT_QUEUES, values: [agentId, range.from, range.to], rowMode: 'array' }),
      ]);
      const queueIds = queues.rows.map(([queueId]) => queueId);
      const rankings = queueIds.length > AGENT_QUEUES_FROM_COPIES ? await this.summedRankings(queueIds, range, minRatings) : await this.rankingsFromCopies(queueIds, range, minRatings, asOf);
      return {
        agent_id: agentId,
        period: range.period,
        from: range.from,
        to: range.to,
        ...summarize(buckets, range),
        queues: standingsOf(agentId, rankings),
        as_of: asOf,
      };
    });
  }

  queueEverRated(queueId: string): Promise<boolean> {
    return storageCall(async () => {
      const rows = (await this.query<[boolean]>({ ...QUEUE_EVER_RATED, values: [queueId], rowMode: 'array' })).rows;
      return rows[0]?.[0] === true;
    });
  }

  private async readSnapshot(): Promise<Snapshot> {
    const mark = this.watch.mark();
    const rows = (await this.query<[string, string]>({ ...STATE, rowMode: 'array' })).rows;
    const snapshot = snapshotOf(Object.fromEntries(rows));
    this.tick.remember(snapshot);
    this.watch.remember(snapshot, mark);
    return snapshot;
  }

  /**
   * Each queue's ranking from its copy. The copies must be of the version the caller read: one loaded
   * before a run the caller already saw (a load this request joined), or after one it did not, is
   * remembered for this tick, so the API's second snapshot differs from its first and it reads again
   * (src/http/snapshot-cache.ts) rather than serve, and cache, an answer mixing two runs. The buckets
   * are read by SQL, not from a copy: when every copy matches, nothing is remembered and the API's
   * second snapshot is read as it was before.
   */
  private async rankingsFromCopies(queueIds: readonly string[], range: StatsRange, minRatings: number, asOf: string | null): Promise<Array<{ queue_id: string; ranking: RankedAgent[] }>> {
    if (queueIds.length === 0) return [];
    const current = await this.currentSnapshot(asOf);
    const copies = await Promise.all(queueIds.map((queueId) => this.queueCopy(queueId, current)));
    const otherVersion = copies.find((held) => held.snapshot.version !== current.version);
    if (otherVersion) this.tick.remember(otherVersion.snapshot);
    return queueIds.map((queueId, index) => ({ queue_id: queueId, ranking: rankAgents(copies[index]!.copy.agentTotals(range), minRatings) }));
  }

  private async summedRankings(queueIds: readonly string[], range: StatsRange, minRatings: number): Promise<Array<{ queue_id: string; ranking: RankedAgent[] }>> {
    const rows = (await this.query<AgentTotal & { queue_id: string }>({ ...RANKINGS_SUMMED, values: [queueIds, range.from, range.to] })).rows;
    const byQueue = new Map<string, AgentTotal[]>();
    for (const row of rows) {
      const agents = byQueue.get(row.queue_id) ?? [];
      agents.push(row);
      byQueue.set(row.queue_id, agents);
    }
    return [...byQueue].map(([queue_id, agents]) => ({ queue_id, ranking: rankAgents(agents, minRatings) }));
  }

  /** A statement on the pool, as a statistics read (one that moves no snapshot). */
  private query<R extends object>(config: QueryConfig & { rowMode?: 'array' }): Promise<{ rows: R[] }> {
    return this.watch.read((client: PoolClient) => client.query<R>(config as QueryConfig));
  }

  /** The current snapshot when it is known without asking the server. */
  private knownSnapshot(): Snapshot | undefined {
    return this.tick.get() ?? this.watch.current();
  }

  /** The snapshot the caller read (the API gets it from snapshot() just before, in the same tick), else the one read now. */
  private async currentSnapshot(asOf: string | null): Promise<Snapshot> {
    const known = this.knownSnapshot();
    return known !== undefined && known.asOf === asOf ? known : this.readSnapshot();
  }

  /** The queue's copy at `current`; a load may find a newer one, which it then reports. */
  private async queueCopy(queueId: string, current: Snapshot): Promise<VersionedCopy> {
    const held = this.queueCopies.at(queueId, current.version);
    return held ? { snapshot: current, copy: held } : this.queueCopies.load(queueId);
  }

  private async agentBuckets(agentId: string, range: StatsRange): Promise<BucketRow[]> {
    // Raw rows (arrays): a trend of 30 buckets builds no row objects.
    const result = await this.query<[string, number, number, number, number, number, number, number]>({
      ...AGENT_BUCKETS,
      values: [range.period, [agentId], range.from, range.to],
      rowMode: 'array',
    });
    return result.rows;
  }
}
