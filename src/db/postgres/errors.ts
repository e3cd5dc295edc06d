// PostgreSQL and pg failures as StorageError: what went wrong with the database, in the engine's
// terms. Constraint violations and mistakes in our SQL are not storage trouble and stay as they are.
import { StorageError, type StorageFailure } from '../storage-error.js';

// SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const FAILURE_BY_SQLSTATE: Readonly<Record<string, StorageFailure>> = {
  '57P01': 'unavailable', // admin_shutdown: the session was terminated
  '57P02': 'unavailable', // crash_shutdown
  '57P03': 'unavailable', // cannot_connect_now: starting up, shutting down, in recovery
  '53300': 'unavailable', // too_many_connections
  '53100': 'disk_full',
  '25006': 'read_only', // read_only_sql_transaction: a hot standby, or default_transaction_read_only
  '40001': 'locked', // serialization_failure
  '40P01': 'locked', // deadlock_detected
  '55P03': 'locked', // lock_not_available: lock_timeout expired, or NOWAIT
  '57014': 'timeout', // query_canceled: statement_timeout expired (we never cancel otherwise)
  XX001: 'corrupt', // data_corrupted
  XX002: 'corrupt', // index_corrupted
  '58030': 'io', // io_error
};

// Errors of the socket under a session, as Node names them.
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

// pg, pg-pool and Kysely report a lost or closed connection in words only.
const UNAVAILABLE_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /Connection terminated/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /Cannot use a pool after calling end on the pool/i,
  /driver has already been destroyed/i,
];

const HOT_STANDBY = /hot standby|recovery is in progress/i;

function failureOf(code: string | undefined, message: string): StorageFailure | undefined {
  if (code !== undefined) {
    if (code.startsWith('08')) return 'unavailable'; // connection_exception
    const bySqlstate = FAILURE_BY_SQLSTATE[code];
    if (bySqlstate) return bySqlstate;
    if (UNAVAILABLE_SOCKET_CODES.has(code)) return 'unavailable';
  }
  if (HOT_STANDBY.test(message)) return 'read_only';
  if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return 'unavailable';
  return undefined;
}

/** The message of an error; Node reports a refused connection to several addresses as an AggregateError with none. */
export function messageOf(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map(messageOf).join('; ');
  if (err instanceof Error) return err.message || String((err as { code?: unknown }).code ?? err.name);
  return String(err);
}

/** The SQLSTATE (PostgreSQL) or errno name (socket) of an error, if it has one. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The StorageError for a failed PostgreSQL call, or undefined when it is not the database's doing
 * (a constraint, a bug in our SQL: those stay what they are).
 */
export function asPostgresStorageError(err: unknown): StorageError | undefined {
  if (err instanceof StorageError) return err;
  const message = messageOf(err);
  const failure = failureOf(codeOf(err), message);
  return failure ? new StorageError(failure, message) : undefined;
}

/** Runs `work`; database trouble comes out as a StorageError, anything else as it was thrown. */
export async function storageCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asPostgresStorageError(err) ?? err;
  }
}
