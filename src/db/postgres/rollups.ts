// The result service's run on PostgreSQL: folds ratings into csat_rollup and csat_running by an id
// watermark, in one READ COMMITTED transaction, serialized across processes by a transaction
// advisory lock (locks.ts: resultRun).
//
// Ids are not committed in order here: an identity value is handed out when a row is inserted, and a
// transaction that took id 7 may commit after one that took id 8. Folding up to max(id) could then
// pass 7 by for good. So a run first waits until every id up to some bound is settled, and folds only
// ids in (watermark, bound]: LOCK TABLE cc_csat IN SHARE MODE is granted once every transaction that
// inserted into cc_csat has ended, and max(id) read under it is such a bound (ids handed out later are
// larger). The lock is taken in a savepoint that is rolled back at once: the rollback releases it, so
// inserts wait for it only while it is being granted, never for the rest of the run. Taking it under
// the run lock means no other run can move the watermark between the bound and the fold.
//
// Because the watermark is exact, an incremental run adds the new ratings to the rollups (see
// rollup-sql.ts: foldNewRatings); a full run recomputes everything and writes what differs.
//
// Readers never wait for a run: it only inserts, updates and deletes rows (no TRUNCATE, no lock a
// plain SELECT conflicts with), and readers see the previous run's rows until it commits.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import type { ZoneCalendar } from '../../results/zone.js';
import type { RefreshMode, RefreshReport, RollupStore } from '../../storage/ports.js';
import type { Database } from '../schema.js';
import { StorageError } from '../storage-error.js';
import { codeOf, storageCall } from './errors.js';
import { CC_CSAT_LOCK_CLASS, LOCK } from './locks.js';
import { analyze, foldNewRatings, rebuildAll, refreshRunning, saveState, selectState } from './rollup-sql.js';

export interface RollupOptions {
  /**
   * How long one attempt to settle the ids may wait for inserts in flight. New inserts queue behind
   * the waiting lock, so this is also the longest a rating insert waits because of a run. Default 500.
   */
  readonly settleWaitMs?: number;
  /** Attempts before the run gives up as 'locked' (a transaction holding an insert open); default 3. */
  readonly settleAttempts?: number;
}

const LOCK_NOT_AVAILABLE = '55P03';
const FULL_REBUILD_WORK_MEM = '64MB';
// autovacuum's default analyze_scale_factor.
const ANALYZE_AFTER_SHARE_WRITTEN = 0.1;
const PAUSE_BETWEEN_SETTLE_ATTEMPTS_MS = 250;

export class PostgresRollupStore implements RollupStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: RollupOptions = {},
  ) {}

  refresh(mode: RefreshMode, zone: ZoneCalendar, refreshedAt: string): Promise<RefreshReport> {
    // READ COMMITTED whatever the server's default: each statement must see what the previous run
    // committed while this one waited for the run lock (a REPEATABLE READ snapshot would be taken
    // before that wait).
    return storageCall(() =>
      this.db
        .transaction()
        .setIsolationLevel('read committed')
        .execute((trx) => new Run(trx, zone.zone, this.options).refresh(mode, refreshedAt)),
    );
  }
}

class Run {
  constructor(
    private readonly trx: Kysely<Database>,
    private readonly zone: string,
    private readonly options: RollupOptions,
  ) {}

  async refresh(mode: RefreshMode, refreshedAt: string): Promise<RefreshReport> {
    // jit off: a run's statements are long CTE chains whose row estimates look huge to the planner;
    // it would spend seconds JIT-compiling them (measured: 2.8 s of a 5 s rebuild) to save milliseconds.
    await sql`SELECT set_config('jit', 'off', true), pg_advisory_xact_lock(${CC_CSAT_LOCK_CLASS}::int, ${LOCK.resultRun}::int)`.execute(this.trx);
    const bound = await this.settledBound();
    const state = Object.fromEntries((await selectState().execute(this.trx)).rows.map((row) => [row.key, row.value]));
    const watermark = state['watermark'] === undefined ? undefined : Number(state['watermark']);
    // Only a first run, a changed timezone or a shrunk table needs everything rebuilt; any backlog of
    // new ratings goes the incremental way, whose cost follows the new ratings and the rows they touch.
    const needsFull = mode === 'full' || watermark === undefined || state['timezone'] !== this.zone || bound < watermark;

    if (needsFull) {
      const total = await this.rebuildAll(bound);
      await saveState(bound, this.zone, refreshedAt).execute(this.trx);
      return { kind: 'full', newRatings: total, touchedDays: -1, watermark: bound, refreshedAt };
    }
    if (bound === watermark) {
      await saveState(bound, this.zone, refreshedAt).execute(this.trx);
      return { kind: 'unchanged', newRatings: 0, touchedDays: 0, watermark: bound, refreshedAt };
    }
    const folded = (await foldNewRatings(this.zone, watermark, bound).execute(this.trx)).rows[0]!;
    await refreshRunning(this.zone, watermark, bound).execute(this.trx);
    await saveState(bound, this.zone, refreshedAt).execute(this.trx);
    return { kind: 'incremental', newRatings: folded.ratings, touchedDays: folded.days, watermark: bound, refreshedAt };
  }

  /** The largest id up to which every rating is committed (or never will be): see the top of this file. */
  private async settledBound(): Promise<number> {
    const waitMs = this.options.settleWaitMs ?? 500;
    const attempts = this.options.settleAttempts ?? 3;
    for (let attempt = 1; attempt < attempts; attempt++) {
      const bound = await this.trySettling(waitMs);
      if (bound !== undefined) return bound;
      await sleep(PAUSE_BETWEEN_SETTLE_ATTEMPTS_MS);
    }
    const bound = await this.trySettling(waitMs);
    if (bound !== undefined) return bound;
    throw new StorageError(
      'locked',
      `ratings were still being inserted after ${attempts} waits of ${waitMs} ms: a transaction holds an insert into cc_csat open (look for "idle in transaction" in pg_stat_activity); nothing was folded`,
    );
  }

  /** One wait of at most `waitMs` for the inserts in flight; undefined when they did not all end in time. */
  private async trySettling(waitMs: number): Promise<number | undefined> {
    await sql`SAVEPOINT settle_ids`.execute(this.trx);
    let bound: number | undefined;
    try {
      // Local to the savepoint: its rollback undoes it.
      await sql`SELECT set_config('lock_timeout', ${`${waitMs}ms`}, true)`.execute(this.trx);
      await sql`LOCK TABLE cc_csat IN SHARE MODE`.execute(this.trx);
      bound = (await sql<{ id: number | null }>`SELECT max(id) AS id FROM cc_csat`.execute(this.trx)).rows[0]?.id ?? 0;
    } catch (err) {
      if (codeOf(err) !== LOCK_NOT_AVAILABLE) throw err;
    }
    // Releases the SHARE lock (and lock_timeout) at once, whichever way the attempt went.
    await sql`ROLLBACK TO SAVEPOINT settle_ids`.execute(this.trx);
    await sql`RELEASE SAVEPOINT settle_ids`.execute(this.trx);
    return bound;
  }

  /** Every rollup from every rating up to `bound`; returns how many ratings that is. */
  private async rebuildAll(bound: number): Promise<number> {
    // The base is one hash aggregate over cc_csat, and the rest is derived from it in memory: room
    // for their groups in memory, not batches on disk.
    await sql`SELECT set_config('work_mem', ${FULL_REBUILD_WORK_MEM}, true)`.execute(this.trx);
    const counts = (await rebuildAll(this.zone, bound).execute(this.trx)).rows[0]!;
    // What autovacuum would do once the run commits, done before: after a first rebuild or a new
    // timezone the API's first queries already see planner statistics for the new rows.
    const rewritten = [
      ['csat_rollup', counts.rollup_written, counts.rollup_rows],
      ['csat_running', counts.running_written, counts.running_rows],
      ['csat_queue_agent', counts.queue_agent_written, counts.queue_agent_rows],
    ] as const;
    const stale = rewritten.filter(([, written, rows]) => written > ANALYZE_AFTER_SHARE_WRITTEN * rows).map(([table]) => table);
    if (stale.length > 0) await analyze(stale).execute(this.trx);
    return counts.ratings ?? 0;
  }

}
