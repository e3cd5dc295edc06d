// The PostgreSQL test tier: a real PostgreSQL server named by CC_CSAT_POSTGRES_URL, its admin URL
// (a superuser connected to the `postgres` database). `bash .ci/postgres.sh` starts a throwaway one
// and prints that URL; .ci/run does it for CI. This helper is the only place tests read the variable.
//
// Each test gets a fresh, empty database of its own (createPostgresDatabase) and drops it when done.
// Every admin statement uses a short-lived client of its own: connect, query, end.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The admin URL of the PostgreSQL server under test, or undefined when the tier is off. */
export const POSTGRES_ADMIN_URL: string | undefined = process.env['CC_CSAT_POSTGRES_URL'] || undefined;

/** For `test(name, { skip: POSTGRES_SKIP }, ...)`: why the tier is skipped, or false when it runs. */
export const POSTGRES_SKIP: string | false =
  POSTGRES_ADMIN_URL === undefined
    ? "PostgreSQL tier skipped: set CC_CSAT_POSTGRES_URL to a server's admin URL (bash .ci/postgres.sh starts one)"
    : false;

/** PostgreSQL's identifier limit (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_LENGTH = 63;
const NAME_PREFIX = 'cc_csat_t_';
const ADMIN_CONNECT_TIMEOUT_MS = 10_000;

export interface PostgresDatabase {
  /** Connection URL of the new database: the admin URL's credentials, host and port, this database. */
  url: string;
  /** Ends every session on the database and drops it. Safe to call more than once. */
  drop(): Promise<void>;
}

/** A double-quoted SQL identifier. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function adminUrl(): string {
  if (POSTGRES_ADMIN_URL === undefined) throw new Error(POSTGRES_SKIP || 'CC_CSAT_POSTGRES_URL is not set');
  return POSTGRES_ADMIN_URL;
}

/** Runs `work` on a fresh admin client, always ending it. */
async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: ADMIN_CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `cc_csat_t_<label>_<random hex>`: lower-case letters, digits and underscores, at most 63 characters. */
function databaseName(label: string): string {
  const suffix = `_${randomBytes(6).toString('hex')}`;
  const room = MAX_IDENTIFIER_LENGTH - NAME_PREFIX.length - suffix.length;
  const safe =
    label
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/_+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, room)
      .replace(/_+$/, '') || 'db';
  return `${NAME_PREFIX}${safe}${suffix}`;
}

/** The admin URL with its database replaced by `name` (credentials, host, port and query kept). */
function urlFor(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/**
 * Creates a fresh, empty database on the server at CC_CSAT_POSTGRES_URL, named after `label` (a test's
 * name, say) plus random hex, and returns its URL and a drop() that removes it again.
 */
export async function createPostgresDatabase(label: string): Promise<PostgresDatabase> {
  const name = databaseName(label);
  // template0 is empty by definition and takes no connections, so concurrent creations never collide on it.
  await withAdmin((client) => client.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE template0`));
  let dropped = false;
  return {
    url: urlFor(name),
    async drop(): Promise<void> {
      if (dropped) return;
      await withAdmin(async (client) => {
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        const { rows } = await client.query<{ version: number }>("SELECT current_setting('server_version_num')::int AS version");
        // WITH (FORCE) (PostgreSQL 13+) also ends sessions that connected after the terminate above.
        const force = (rows[0]?.version ?? 0) >= 130000 ? ' WITH (FORCE)' : '';
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}${force}`);
      });
      dropped = true;
    },
  };
}
