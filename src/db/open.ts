import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';

export interface OpenDatabase {
  readonly db: Kysely<Database>;
  readonly sqlite: SqliteDatabase.Database;
  /**
   * A read-only connection for the statistics API. Under WAL it reads the last commit while the
   * writer is inside a transaction (a result-service run), where sharing the writer's connection
   * would either queue behind the run or see it half done. An in-memory database has one
   * connection only, so there it is the writer's.
   */
  readonly reader: SqliteDatabase.Database;
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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  // Opened on first use: only `cc-csat start` serves statistics; migrate, aggregate and simulate never read them.
  let reader: SqliteDatabase.Database | undefined;
  return {
    db,
    sqlite,
    get reader() {
      if (!reader) {
        reader = path === ':memory:' ? sqlite : new SqliteDatabase(path, { readonly: true, fileMustExist: true });
        if (reader !== sqlite) reader.pragma('busy_timeout = 5000');
      }
      return reader;
    },
    close: async () => {
      if (reader && reader !== sqlite) reader.close();
      // Kysely's destroy closes the better-sqlite3 handle it was given.
      await db.destroy();
    },
  };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running most of our
 * queries (an API read runs in well under a millisecond). The same SQL text gets the same prepared
 * statement back: better-sqlite3 is synchronous, so a statement is never used by two queries at once,
 * and SQLite re-prepares it by itself if the schema changes.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = (source: string): SqliteDatabase.Statement => {
    const cached = cache.get(source);
    if (cached) {
      // Map order is insertion order: re-inserting keeps the least recently used first.
      cache.delete(source);
      cache.set(source, cached);
      return cached;
    }
    const statement = sqlite.prepare(source);
    cache.set(source, statement);
    if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return statement;
  };
  return new Proxy(sqlite, {
    get(target, property) {
      if (property === 'prepare') return prepare;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
