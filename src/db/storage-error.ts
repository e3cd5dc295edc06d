// What went wrong with the database, in words an operator can act on, and whether a retry can help.
// better-sqlite3 throws SqliteError with SQLite's extended result code name in `code`.

export type StorageFailure = 'locked' | 'timeout' | 'disk_full' | 'read_only' | 'corrupt' | 'io' | 'unavailable' | 'internal';

const ADVICE: Record<StorageFailure, { detail: string; retryAfterSeconds: number | undefined }> = {
  locked: { detail: 'database is locked by another writer (e.g. cc-csat aggregate --full)', retryAfterSeconds: 1 },
  timeout: { detail: 'database did not answer in time (a statement timeout)', retryAfterSeconds: 5 },
  disk_full: { detail: 'database disk is full', retryAfterSeconds: 30 },
  read_only: { detail: 'database is read-only', retryAfterSeconds: 30 },
  io: { detail: 'database I/O error', retryAfterSeconds: 5 },
  corrupt: { detail: 'database file is damaged', retryAfterSeconds: undefined },
  unavailable: { detail: 'database is closed', retryAfterSeconds: 5 },
  internal: { detail: 'database write was not committed', retryAfterSeconds: 1 },
};

/** A write that could not be done. Nothing of it was committed. */
export class StorageError extends Error {
  constructor(
    readonly failure: StorageFailure,
    readonly driverMessage: string,
  ) {
    super(`${ADVICE[failure].detail} (${driverMessage})`);
    this.name = 'StorageError';
  }

  /** Seconds after which a retry may succeed; undefined when only an operator can fix it. */
  get retryAfterSeconds(): number | undefined {
    return ADVICE[this.failure].retryAfterSeconds;
  }
}

function failureOf(code: string): StorageFailure | undefined {
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
  if (code === 'SQLITE_FULL') return 'disk_full';
  if (code.startsWith('SQLITE_READONLY')) return 'read_only';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return 'io';
  return undefined;
}

/**
 * The StorageError for a failed database call, or undefined when it is not the database's doing
 * (a constraint or a bug in our SQL: those stay what they are).
 */
export function asStorageError(err: unknown): StorageError | undefined {
  if (err instanceof StorageError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string') {
    const failure = failureOf(code);
    return failure ? new StorageError(failure, message) : undefined;
  }
  // better-sqlite3 throws a TypeError for a statement on a closed connection (engine shutting down).
  if (err instanceof TypeError && /database connection is not open/.test(message)) return new StorageError('unavailable', message);
  return undefined;
}

/** The database cannot be used at all: the message names the file or server and what to do. */
export class DatabaseOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseOpenError';
  }
}
