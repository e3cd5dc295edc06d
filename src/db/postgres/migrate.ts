// Migrations on PostgreSQL, where several engines may start at once against one database: the one
// that gets the migrations lock applies what is pending; the others wait for it, then find nothing
// left to do. The lock is a session lock on the one connection migrate() runs on.
import { sql, type Kysely } from 'kysely';
import { migrate, POSTGRES_MIGRATIONS_DIR, readMigrations, type Migration } from '../migrate.js';
import type { Database } from '../schema.js';
import { CC_CSAT_LOCK_CLASS, LOCK } from './locks.js';

export function migratePostgres(db: Kysely<Database>): Promise<Migration[]> {
  const migrations = readMigrations(POSTGRES_MIGRATIONS_DIR);
  return db.connection().execute(async (conn) => {
    // Waiting for another engine's migrations, and the migrations themselves, take what they take:
    // the pool's statement and lock timeouts (for callers and API clients) are lifted on this session.
    await sql`SELECT set_config('statement_timeout', '0', false), set_config('lock_timeout', '0', false)`.execute(conn);
    await sql`SELECT pg_advisory_lock(${CC_CSAT_LOCK_CLASS}::int, ${LOCK.migrations}::int)`.execute(conn);
    let failed = false;
    try {
      return await migrate(conn, migrations);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      try {
        await sql`SELECT pg_advisory_unlock(${CC_CSAT_LOCK_CLASS}::int, ${LOCK.migrations}::int)`.execute(conn);
      } catch (unlockErr) {
        // After a failed migration the session is likely gone, and its lock with it: the migration's
        // own error is the one to report. After a successful one, a failed unlock is news.
        if (!failed) throw unlockErr;
      }
      // Back to the pool with its own limits. If the session is gone this fails too and the pool
      // drops the connection: the migration's own outcome is what to report.
      await sql`SELECT set_config(name, reset_val, false) FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout')`
        .execute(conn)
        .catch(() => undefined);
    }
  });
}
