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

/**
 * WAL lets the API read while the IVR writes. synchronous=NORMAL in WAL mode survives a crash
 * of this process (every commit is in the WAL); only an OS crash or power loss can drop the last
 * few commits. That trade is stated in the README and BENCHMARKS.md.
 */
export function openDatabase(path: string): OpenDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    sqlite,
    // Kysely's destroy closes the better-sqlite3 handle it was given.
    close: () => db.destroy(),
  };
}
