// The one place that turns [database] url into a Storage: the engine, the CLI, tests and benchmarks
// all open their database here.
import type { DatabaseTarget } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Storage } from './ports.js';

export interface OpenStorageOptions {
  /** How long a write waits for another process's lock (SQLite: asynchronously; PostgreSQL: lock_timeout). */
  readonly lockWaitMs?: number;
  /** Set by the engine (a long-running process); one-shot commands leave it out. */
  readonly engine?: { readonly log: Logger };
  /** Shown by PostgreSQL in pg_stat_activity: which process holds a connection. */
  readonly applicationName?: string;
}

export async function openStorage(target: DatabaseTarget, options: OpenStorageOptions = {}): Promise<Storage> {
  if (target.kind === 'postgres') {
    // Loaded only when asked for: a SQLite engine never loads the PostgreSQL driver.
    const { openPostgresStorage } = await import('../db/postgres/open.js');
    const log = options.engine?.log.child({ component: 'db' });
    return openPostgresStorage({
      url: target.url,
      password: target.password,
      poolMax: target.poolMax,
      statementTimeoutMs: target.statementTimeoutMs,
      ...(options.lockWaitMs !== undefined ? { lockWaitMs: options.lockWaitMs } : {}),
      applicationName: options.applicationName ?? 'cc-csat',
      // An idle connection the server closed, or the leadership session lost: nobody awaits these,
      // and the next query or the next leadership attempt reconnects.
      ...(log ? { onBackgroundError: (err: Error, where: 'pool' | 'leadership') => log.warn({ err: err.message, where }, 'PostgreSQL connection lost; reconnecting on next use') } : {}),
    });
  }
  const { openSqliteStorage } = await import('../db/sqlite/storage.js');
  const { engine } = options;
  return openSqliteStorage(target.path, {
    ...(options.lockWaitMs !== undefined ? { lockWaitMs: options.lockWaitMs } : {}),
    ...(engine
      ? {
          backgroundCheckpoints: { log: engine.log.child({ component: 'db' }) },
          onLeakedTransaction: (what: string) =>
            engine.log.error({ what }, 'found a transaction left open on the writer connection; rolled it back before writing'),
        }
      : {}),
  });
}
