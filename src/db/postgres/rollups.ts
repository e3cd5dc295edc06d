// The result service's run on PostgreSQL: folds ratings into csat_rollup and csat_queue_agent by an id
// watermark, in one READ COMMITTED transaction, serialized across processes by a transaction
// advisory lock (locks.ts: resultRun).
//
// Ids are not committed in order here: an identity value is handed out when a row is inserted, and a
// transaction that took id 7 may commit after one that took id 8. Folding up to max(id) could then
// pass 7 by for good. So a run first waits until every id up to some bound is settled, and folds only
// ids in (watermark, bound]: LOCK TABLE cc_csat IN SHARE MODE is granted once every transaction that
// inserted into cc_csat has ended, and max(id) read under it is such a bound (ids handed out later are
// larger). survey_answer and survey_outcome are locked with it and their bounds read under the same
// lock: the per-question and funnel rollups (../survey-rollups.ts) fold by id watermarks too, in the
// same transaction, after the csat part. The lock is taken in a savepoint that is rolled back at once:
// the rollback releases it, so inserts wait for it only while it is being granted, never for the rest
// of the run. Taking it under
// the run lock means no other run can move the watermark between the bound and the fold.
//
// Because the watermark is exact, an incremental run adds the new ratings to the rollups in one
// statement (rollup-fold-sql.ts); a full run recomputes everything and writes what differs
// (rollup-sql.ts: rebuildAll), or, when every row has to be written, loads emptied tables
// (rollup-bulk-load.ts).
//
// Readers never wait for an incremental run or a full run over rollups already there: those only
// insert, update and delete rows (no lock a plain SELECT conflicts with), and readers see the previous
// run's rows until it commits. A bulk load (a first run, a change of zone) locks the rollup tables
// until it commits.
//
// Round trips are part of an incremental run's cost, more so on a busy host (each one waits for both
// processes to be scheduled): the csat part of an incremental run makes six, the statements that need
// no parameters sent together (see settle() and trySettling()); the survey rollups add one, and three
// more for each of their two tables that has new rows.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ZoneCalendar } from '../../results/zone.js';
import type { RefreshMode, RefreshReport, RollupStore } from '../../storage/ports.js';
import type { Database } from '../schema.js';
import { StorageError } from '../storage-error.js';
import { codeOf, storageCall } from './errors.js';
import { CC_CSAT_LOCK_CLASS, LOCK } from './locks.js';
import { loadAll, mayBulkLoad } from './rollup-bulk-load.js';
import { foldNewRatings } from './rollup-fold-sql.js';
import { localDayOf, type TimeSpan } from './rollup-local-day.js';
import { analyze, rebuildAll, saveState, selectRollupsEmpty, selectSettled } from './rollup-sql.js';
import { refreshSurveyRollups, type SurveyBounds } from '../survey-rollups.js';
import { postgresSurveyDialect } from './survey-rollup-dialect.js';

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
const RELEASE_SETTLE_LOCK = 'ROLLBACK TO SAVEPOINT settle_ids; RELEASE SAVEPOINT settle_ids';
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
        .execute((trx) => new Run(trx, zone, this.options).refresh(mode, refreshedAt)),
    );
  }
}

interface Settled {
  /** Every id up to it is committed or never will be. */
  readonly bound: number;
  /** The same for survey_answer and survey_outcome. */
  readonly surveyBounds: SurveyBounds;
  /** Where the last run stopped, in which zone; null before the first run. */
  readonly watermark: number | null;
  readonly zone: string | null;
  /** When the ratings up to the bound, and those after the watermark, were made; null when there are none. */
  readonly allSpan: TimeSpan | null;
  readonly newSpan: TimeSpan | null;
}

const spanOf = (first: string | null, last: string | null): TimeSpan | null =>
  first === null || last === null ? null : { fromMs: Date.parse(first), toMs: Date.parse(last) };

class Run {
  private readonly zone: string;

  constructor(
    private readonly trx: Kysely<Database>,
    private readonly calendar: ZoneCalendar,
    private readonly options: RollupOptions,
  ) {
    this.zone = calendar.zone;
  }

  async refresh(mode: RefreshMode, refreshedAt: string): Promise<RefreshReport> {
    const settled = await this.settle();
    const { report, full } = await this.refreshCsat(mode, refreshedAt, settled);
    // Same transaction: the per-question and funnel rollups commit with the csat ones, or neither does.
    const survey = await refreshSurveyRollups(this.trx, postgresSurveyDialect(this.calendar), full, settled.surveyBounds);
    return { ...report, ...survey };
  }

  private async refreshCsat(mode: RefreshMode, refreshedAt: string, settled: Settled): Promise<{ report: RefreshReport; full: boolean }> {
    const { bound, watermark, zone, allSpan, newSpan } = settled;
    // Only a first run, a changed timezone or a shrunk table needs everything rebuilt; any backlog of
    // new ratings goes the incremental way, whose cost follows the new ratings and the rows they touch.
    const needsFull = mode === 'full' || watermark === null || zone !== this.zone || bound < watermark;

    if (needsFull) {
      // The base is one hash aggregate over cc_csat, and the rest is derived from it in memory: room
      // for their groups in memory, not batches on disk.
      await sql`SELECT set_config('work_mem', ${FULL_REBUILD_WORK_MEM}, true)`.execute(this.trx);
      const localDay = localDayOf(this.calendar, allSpan);
      // Nothing to keep: every row is new (empty tables) or moves (another zone's local days).
      const everyRowWritten = (zone !== null && zone !== this.zone) || (await selectRollupsEmpty().execute(this.trx)).rows[0]!.empty;
      const total = everyRowWritten && (await mayBulkLoad(this.trx)) ? await loadAll(this.trx, localDay, bound) : await this.rebuildAll(localDay, bound);
      await saveState(bound, this.zone, refreshedAt).execute(this.trx);
      return { report: { kind: 'full', newRatings: total, touchedDays: -1, watermark: bound, refreshedAt }, full: true };
    }
    if (bound === watermark) {
      await saveState(bound, this.zone, refreshedAt).execute(this.trx);
      return { report: { kind: 'unchanged', newRatings: 0, touchedDays: 0, watermark: bound, refreshedAt }, full: false };
    }
    const localDay = localDayOf(this.calendar, newSpan);
    const folded = (await foldNewRatings(localDay, this.zone, watermark, bound, refreshedAt).execute(this.trx)).rows[0]!;
    return { report: { kind: 'incremental', newRatings: folded.ratings, touchedDays: folded.days, watermark: bound, refreshedAt }, full: false };
  }

  /**
   * Takes the run lock, waits until the ids are settled, and reads the bound and the state left by the
   * last run (after both waits: what the previous run committed while this one waited).
   */
  private async settle(): Promise<Settled> {
    // For this transaction only:
    // - no statement_timeout or lock_timeout (the pool's session defaults for requests): a run may
    //   wait for another engine's run, and a full one takes seconds; it has its own limit on the wait
    //   for inserts (settleWaitMs). Set before the first wait: a statement's timeout starts with it.
    // - jit off: a run's statements are long CTE chains whose row estimates look huge to the planner;
    //   it would spend seconds JIT-compiling them (measured: 2.8 s of a 5 s rebuild) to save milliseconds.
    // - synchronous_commit off: the run's COMMIT does not wait for its WAL to reach the disk (the WAL
    //   writer flushes it within wal_writer_delay). A crash in between loses the whole run, never part
    //   of it (rollups and watermark are one transaction), and the next run folds the same ratings from
    //   the older watermark: the rollups are derived data, the ratings themselves stay durable.
    // All in the first attempt's round trip: each statement of a query string gets its own statement
    // timeout, from the settings the statements before it made. With no lock_timeout the run lock
    // cannot fail the way a settle attempt does, so a failure there is not mistaken for one.
    const runSettingsAndLock = `SELECT set_config('statement_timeout', '0', true), set_config('lock_timeout', '0', true),
      set_config('jit', 'off', true), set_config('synchronous_commit', 'off', true);
      SELECT pg_advisory_xact_lock(${CC_CSAT_LOCK_CLASS}, ${LOCK.resultRun});`;
    const waitMs = Math.max(1, Math.round(this.options.settleWaitMs ?? 500));
    const attempts = this.options.settleAttempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const runLock = attempt === 1 ? runSettingsAndLock : '';
      if (await this.trySettling(runLock, waitMs)) {
        const settled = (await selectSettled().execute(this.trx)).rows[0]!;
        // Releases the SHARE lock (and lock_timeout) at once: inserts wait for it only while it is granted.
        await sql.raw(RELEASE_SETTLE_LOCK).execute(this.trx);
        return {
          bound: settled.bound,
          surveyBounds: { answers: settled.answer_bound, outcomes: settled.outcome_bound },
          watermark: settled.watermark,
          zone: settled.zone,
          allSpan: spanOf(settled.first_at, settled.last_at),
          newSpan: spanOf(settled.first_new_at, settled.last_new_at),
        };
      }
      if (attempt < attempts) await sleep(PAUSE_BETWEEN_SETTLE_ATTEMPTS_MS);
    }
    throw new StorageError(
      'locked',
      `ratings were still being inserted after ${attempts} waits of ${waitMs} ms: a transaction holds an insert into cc_csat, survey_answer or survey_outcome open (look for "idle in transaction" in pg_stat_activity); nothing was folded`,
    );
  }

  /**
   * One wait of at most `waitMs` for the inserts in flight (see the top of this file), after `before`;
   * false when they did not all end in time. On success the SHARE lock is held, in a savepoint, for
   * selectSettled().
   *
   * Statements without parameters go several to a query string: node-postgres sends such a string in
   * one round trip (the simple query protocol), and a failure stops it at the failing statement.
   */
  private async trySettling(before: string, waitMs: number): Promise<boolean> {
    try {
      // lock_timeout is local to the savepoint: its rollback undoes it.
      await sql.raw(`${before} SAVEPOINT settle_ids; SELECT set_config('lock_timeout', '${waitMs}ms', true); LOCK TABLE cc_csat, survey_answer, survey_outcome IN SHARE MODE`).execute(this.trx);
      return true;
    } catch (err) {
      if (codeOf(err) !== LOCK_NOT_AVAILABLE) throw err;
      await sql.raw(RELEASE_SETTLE_LOCK).execute(this.trx);
      return false;
    }
  }

  /** Every rollup from every rating up to `bound`; returns how many ratings that is. */
  private async rebuildAll(localDay: RawBuilder<string>, bound: number): Promise<number> {
    const counts = (await rebuildAll(localDay, bound).execute(this.trx)).rows[0]!;
    // What autovacuum would do once the run commits, done before: after a first rebuild or a new
    // timezone the API's first queries already see planner statistics for the new rows.
    const rewritten = [
      ['csat_rollup', counts.rollup_written, counts.rollup_rows],
      ['csat_queue_agent', counts.queue_agent_written, counts.queue_agent_rows],
    ] as const;
    const stale = rewritten.filter(([, written, rows]) => written > ANALYZE_AFTER_SHARE_WRITTEN * rows).map(([table]) => table);
    if (stale.length > 0) await analyze(stale).execute(this.trx);
    return counts.ratings ?? 0;
  }
}
