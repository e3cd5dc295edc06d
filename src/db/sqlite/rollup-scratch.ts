// A full rollup build that neither holds the writer nor the event loop for long (SQLite).
//
// Rebuilding every rollup from a year of surveys takes minutes at a million calls. Inside the
// writer's transaction that is minutes in which no rating commits, and better-sqlite3 runs each
// statement on the calling thread. So a full build runs on a worker thread (rollup-build-worker.ts),
// on connections of its own:
// - build: into a scratch database file beside the live one. The live file is attached and read in
//   one deferred transaction (one WAL snapshot, never more than a reader's lock); the rollup tables
//   are created in the scratch file from the live file's own DDL, and the result service's SQL runs
//   unchanged (unqualified names resolve to the scratch file's rollups first, then to the live
//   file's ratings, answers and outcomes). Ratings commit meanwhile.
// - swap: on a connection to the live file, in one transaction: each rollup table emptied and refilled
//   from the scratch file (INSERT ... SELECT * of two identical tables, which SQLite copies page by
//   page instead of row by row), then an ordinary incremental run folds what was stored after the
//   build's snapshot. Readers see the old rollups until the commit, the new ones after it.
import { rmSync } from 'node:fs';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { ZoneCalendar } from '../../results/zone.js';
import type { RefreshReport } from '../../storage/ports.js';
import type { Database } from '../schema.js';
import { refreshRollups } from './rollups.js';

/** Every table a result-service run writes; a database migrated part of the way lacks the later ones. */
export const ROLLUP_TABLES = ['csat_rollup', 'csat_running', 'csat_queue_agent', 'answer_rollup', 'outcome_rollup', 'result_state'] as const;

export interface ScratchBuildJob {
  readonly livePath: string;
  readonly scratchPath: string;
  readonly timezone: string;
  readonly refreshedAt: string;
  /** How long the swap waits for another process's write lock on the live file. */
  readonly lockWaitMs: number;
}

/** Removes a scratch file and its journals (a build killed half-way leaves them). */
export function removeScratch(scratchPath: string): void {
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${scratchPath}${suffix}`, { force: true });
}

/** Builds every rollup from scratch into job.scratchPath; returns the run's report. */
export async function buildScratch(job: ScratchBuildJob): Promise<RefreshReport> {
  removeScratch(job.scratchPath);
  const scratch = new SqliteDatabase(job.scratchPath);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: scratch }) });
  try {
    // Disposable until it is copied in: a crash mid-build only means building again.
    scratch.pragma('journal_mode = OFF');
    scratch.pragma('synchronous = OFF');
    scratch.pragma('cache_size = -65536');
    // Only ever read: every table this build writes exists in the scratch file, which unqualified names
    // resolve to first, and the one transaction below is deferred, so it never asks the live file for
    // more than a reader's lock. (better-sqlite3 is built without URI filenames: no ?mode=ro here.)
    scratch.prepare('ATTACH DATABASE ? AS live').run(job.livePath);
    // The rollup tables and their indexes exactly as the live file has them (its migrations' DDL; any
    // trigger stays with the live tables, where the swap's copy fires it);
    // result_state too, empty: the run below then sees a first run and builds everything.
    const ddl = scratch
      .prepare(`SELECT sql FROM live.sqlite_master WHERE type IN ('table', 'index') AND tbl_name IN (${ROLLUP_TABLES.map(() => '?').join(', ')}) AND sql IS NOT NULL ORDER BY type = 'index', name`)
      .pluck()
      .all(...ROLLUP_TABLES) as string[];
    for (const statement of ddl) scratch.exec(statement);
    // One deferred transaction: every read of the live file sees the same snapshot, and no lock on it
    // is ever more than a reader's.
    scratch.exec('BEGIN');
    const report = await refreshRollups(db, new ZoneCalendar(job.timezone), { surveyRowsPerSlice: Number.POSITIVE_INFINITY }, 'full', job.refreshedAt);
    scratch.exec('COMMIT');
    return report;
  } finally {
    if (scratch.inTransaction) scratch.exec('ROLLBACK');
    await db.destroy();
  }
}

/**
 * Replaces the live file's rollups with the scratch file's and folds in what was stored after the
 * build's snapshot, in one transaction on a connection of its own; returns the catch-up run's report.
 */
export async function swapScratchIn(job: ScratchBuildJob): Promise<RefreshReport> {
  const live = new SqliteDatabase(job.livePath);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: live }) });
  try {
    live.pragma(`busy_timeout = ${job.lockWaitMs}`);
    live.pragma('synchronous = NORMAL');
    live.prepare('ATTACH DATABASE ? AS rebuilt').run(job.scratchPath);
    live.exec('BEGIN IMMEDIATE');
    const present = new Set(live.prepare(`SELECT name FROM rebuilt.sqlite_master WHERE type = 'table'`).pluck().all() as string[]);
    for (const table of ROLLUP_TABLES) {
      if (!present.has(table)) continue;
      if (table === 'result_state') {
        // Other keys (a readiness probe's) are not the run's to replace.
        live.exec('DELETE FROM main.result_state WHERE key IN (SELECT key FROM rebuilt.result_state)');
        live.exec('INSERT INTO main.result_state (key, value) SELECT key, value FROM rebuilt.result_state');
        continue;
      }
      // Both tables have the same DDL and the target is empty: SQLite's transfer optimization copies
      // the b-tree pages over, many times faster than inserting the rows one by one.
      live.exec(`DELETE FROM main."${table}"`);
      live.exec(`INSERT INTO main."${table}" SELECT * FROM rebuilt."${table}"`);
    }
    const caughtUp = await refreshRollups(db, new ZoneCalendar(job.timezone), {}, 'incremental', job.refreshedAt);
    live.exec('COMMIT');
    return caughtUp;
  } finally {
    if (live.inTransaction) live.exec('ROLLBACK');
    await db.destroy();
  }
}
