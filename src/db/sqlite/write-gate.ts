// Every write the engine makes goes through the gate, on the one connection that writes.
//
// Acknowledged means committed: a write that resolves has left the connection outside any
// transaction, so the row is in the WAL before anyone says 201 or "rating stored". A transaction found
// open (someone's bug) is rolled back, never written into: a rating inside a transaction that never
// commits is lost at the next restart while every answer said "stored".
//
// Never stall the event loop on a lock: better-sqlite3 is synchronous, and SQLite's busy_timeout
// waits *inside* the call, freezing every live caller's DTMF and playbacks meanwhile. Once the engine
// serves, busy_timeout is 0 and a write blocked by another process (cc-csat aggregate --full, a
// sqlite3 shell) is retried here with timers, up to `lockWaitMs`.
import { setTimeout as sleep } from 'node:timers/promises';
import type SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { asStorageError, StorageError } from '../storage-error.js';

export interface WriteGateOptions {
  /** How long a write may wait for another process's write lock, in total. */
  readonly lockWaitMs: number;
  /** A transaction left open by someone else was found and rolled back (a bug: report it). */
  readonly onLeakedTransaction?: (what: string) => void;
}

const MAX_RETRY_PAUSE_MS = 50;

export class WriteGate {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite: SqliteDatabase.Database,
    private readonly options: WriteGateOptions,
  ) {}

  /**
   * From now on no statement waits for a lock inside SQLite: the gate retries asynchronously
   * instead. Before this (start-up, one-shot commands) blocking is harmless and simpler.
   */
  neverBlockOnLocks(): void {
    this.sqlite.pragma('busy_timeout = 0');
  }

  /**
   * Runs `work` with the writer connection to itself and returns only once what it wrote is
   * committed. A lock held elsewhere is waited for (asynchronously); any other database failure,
   * or the lock still held after lockWaitMs, rejects with a StorageError and nothing written.
   */
  async write<T>(what: string, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.options.lockWaitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        // connection() holds kysely's connection mutex: nothing else runs on this connection meanwhile.
        return await this.db.connection().execute((conn) => this.committed(what, conn, work));
      } catch (err) {
        const failure = asStorageError(err);
        if (!failure) throw err;
        if (failure.failure !== 'locked' || performance.now() >= deadline) throw failure;
        await sleep(Math.min(MAX_RETRY_PAUSE_MS, 2 ** attempt));
      }
    }
  }

  /** `work` inside BEGIN IMMEDIATE ... COMMIT: all of it or none of it. */
  transaction<T>(what: string, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.write(what, async (conn) => {
      // IMMEDIATE takes the write lock up front: a deferred BEGIN that read first could not upgrade later.
      await sql`BEGIN IMMEDIATE`.execute(conn);
      const result = await work(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    });
  }

  /**
   * 'ok' when a write could be committed right now; otherwise why not (locked, read-only, disk
   * full...). Takes the write lock for an instant and rolls back: nothing is left behind.
   */
  async probe(): Promise<string> {
    try {
      await this.db.connection().execute((conn) =>
        this.committed('readiness probe', conn, async () => {
          await sql`BEGIN IMMEDIATE`.execute(conn);
          await sql`INSERT OR REPLACE INTO result_state (key, value) VALUES ('readyz_probe', 'x')`.execute(conn);
          this.rollBack();
        }),
      );
      return 'ok';
    } catch (err) {
      return (asStorageError(err) ?? new StorageError('internal', err instanceof Error ? err.message : String(err))).message;
    }
  }

  private async committed<T>(what: string, conn: Kysely<Database>, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.sqlite.inTransaction) {
      this.rollBack();
      this.options.onLeakedTransaction?.(what);
    }
    let result: T;
    try {
      result = await work(conn);
    } catch (err) {
      try {
        this.rollBack();
      } catch {
        // The original failure is the one to report; a connection that cannot roll back fails the next write too.
      }
      throw err;
    }
    if (this.sqlite.inTransaction) {
      this.rollBack();
      throw new StorageError('internal', `${what} left a transaction open; rolled back`);
    }
    return result;
  }

  private rollBack(): void {
    if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
  }
}
