import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { DatabaseOpenError } from '../storage-error.js';
import { WriteGate } from './write-gate.js';

export interface OpenDatabase {
  /** The file, or ':memory:'. */
  readonly path: string;
  readonly db: Kysely<Database>;
  readonly sqlite: SqliteDatabase.Database;
  /**
   * A read-only connection for the statistics API. Under WAL it reads the last commit while the
   * writer is inside a transaction (a result-service run), where sharing the writer's connection
   * would either queue behind the run or see it half done. An in-memory database has one
   * connection only, so there it is the writer's.
   */
  readonly reader: SqliteDatabase.Database;
  /** Every write goes through here: committed when it resolves, never blocking the event loop on a lock. */
  readonly writes: WriteGate;
  close(): Promise<void>;
}


export interface OpenOptions {
  /**
   * With a background checkpointer (the engine), commits should not checkpoint: SQLite then only
   * checkpoints on commit past this many WAL pages, as a safety net if the thread falls behind.
   */
  readonly walAutocheckpointPages?: number;
  /** How long a write waits for another process's lock (see WriteGate); default 5000 ms. */
  readonly lockWaitMs?: number;
  readonly onLeakedTransaction?: (what: string) => void;
}

const START_UP_BUSY_TIMEOUT_MS = 5000;

function describeOpenFailure(path: string, err: unknown): string {
  const code = (err as { code?: string }).code ?? '';
  const reason = err instanceof Error ? err.message : String(err);
  if (existsSync(path) && statSync(path).isDirectory()) return `database ${path} is a directory, not a file: fix [database] url`;
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return `database ${path} is not a usable SQLite database (${reason}): restore it from a backup, or point [database] url at another file`;
  }
  if (code.startsWith('SQLITE_READONLY')) return `database ${path} is read-only (${reason}): cc-csat needs to write it and its directory`;
  if (code === 'SQLITE_FULL') return `database ${path}: the disk is full (${reason})`;
  return `cannot open database ${path} (${reason || code}): check that the file and its directory are readable and writable by this user`;
}


/**
 * WAL lets the API read while the IVR writes. synchronous=NORMAL in WAL mode survives a crash
 * of this process (every commit is in the WAL); only an OS crash or power loss can drop the last
 * few commits. That trade is stated in the README and BENCHMARKS.md.
 */
export function openDatabase(path: string, options: OpenOptions = {}): OpenDatabase {
  // A missing directory is a typo in [database] url far more often than a wish for a new, empty
  // database: creating one would hide every rating stored so far behind a fresh file.
  if (path !== ':memory:' && !existsSync(dirname(path))) {
    throw new DatabaseOpenError(`database directory ${dirname(path)} does not exist: create it (mkdir -p ${dirname(path)}) or fix [database] url`);
  }
  let sqlite: SqliteDatabase.Database | undefined;
  try {
    sqlite = new SqliteDatabase(path);
    sqlite.pragma(`busy_timeout = ${START_UP_BUSY_TIMEOUT_MS}`);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    if (options.walAutocheckpointPages !== undefined) sqlite.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages}`);
    // A WAL file that grew during a burst is cut back to this size after it is checkpointed.
    sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    // A damaged file must stop the engine at start, not fail ratings one by one later.
    const problems = (sqlite.pragma('quick_check(5)') as Array<{ quick_check: string }>).map((row) => row.quick_check);
    if (problems.join() !== 'ok') {
      throw new DatabaseOpenError(
        `database ${path} is damaged (quick_check: ${problems.join('; ')}): restore it from a backup; \`sqlite3 ${path} .recover\` may salvage its ratings`,
      );
    }
  } catch (err) {
    sqlite?.close();
    throw err instanceof DatabaseOpenError ? err : new DatabaseOpenError(describeOpenFailure(path, err));
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  // Opened on first use: only `cc-csat start` serves statistics; migrate, aggregate and simulate never read them.
  let reader: SqliteDatabase.Database | undefined;
  const writes = new WriteGate(db, sqlite, {
    lockWaitMs: options.lockWaitMs ?? 5000,
    ...(options.onLeakedTransaction ? { onLeakedTransaction: options.onLeakedTransaction } : {}),
  });
  return {
    path,
    db,
    sqlite,
    writes,
    get reader() {
      if (!reader) {
        reader = path === ':memory:' ? sqlite : new SqliteDatabase(path, { readonly: true, fileMustExist: true });
        // WAL readers wait only in rare moments (another connection's recovery); never long on the event loop.
        if (reader !== sqlite) reader.pragma('busy_timeout = 50');
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
