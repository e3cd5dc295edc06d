import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';

export interface OpenDatabase {
  readonly db: Kysely<Database>;
  readonly sqlite: SqliteDatabase.Database;
  close(): Promise<void>;
}

export interface OpenOptions {
  /**
   * With a background checkpointer (the engine), commits should not checkpoint: SQLite then only
   * checkpoints on commit past this many WAL pages, as a safety net if the thread falls behind.
   */
  readonly walAutocheckpointPages?: number;
}

/**
 * WAL lets the API read while the IVR writes. synchronous=NORMAL in WAL mode survives a crash
 * of this process (every commit is in the WAL); only an OS crash or power loss can drop the last
 * few commits. That trade is stated in the README and BENCHMARKS.md.
 */
export function openDatabase(path: string, options: OpenOptions = {}): OpenDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  if (options.walAutocheckpointPages !== undefined) sqlite.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages}`);
  // A WAL file that grew during a burst is cut back to this size after it is checkpointed.
  sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    sqlite,
    // Kysely's destroy closes the better-sqlite3 handle it was given.
    close: () => db.destroy(),
  };
}
