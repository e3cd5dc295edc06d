// The readiness probe: could a write be committed right now? It writes, inside a transaction it
// always rolls back, so it leaves nothing behind and proves the server takes writes (not a standby,
// disk not full, no lock held too long).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { StorageError } from '../storage-error.js';
import { asPostgresStorageError, messageOf } from './errors.js';

// Short enough for a readiness probe; a lock wait ends first, reported as 'locked'.
const PROBE_STATEMENT_TIMEOUT = '2s';
const PROBE_LOCK_TIMEOUT = '1s';

/** Thrown to end the probe's transaction: Kysely rolls back on any rejection. */
class ProbeRollback extends Error {}

/** 'ok', or why a write cannot be committed now (a StorageError's message). */
export async function probeWrite(db: Kysely<Database>): Promise<string> {
  try {
    return await db.transaction().execute(async (trx): Promise<never> => {
      await sql`SELECT set_config('statement_timeout', ${PROBE_STATEMENT_TIMEOUT}, true), set_config('lock_timeout', ${PROBE_LOCK_TIMEOUT}, true)`.execute(trx);
      await sql`INSERT INTO result_state (key, value) VALUES ('readyz_probe', 'x') ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(trx);
      throw new ProbeRollback();
    });
  } catch (err) {
    if (err instanceof ProbeRollback) return 'ok';
    return (asPostgresStorageError(err) ?? new StorageError('internal', messageOf(err))).message;
  }
}
