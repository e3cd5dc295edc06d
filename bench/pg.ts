// Shared by the PostgreSQL benchmarks: the server comes from CC_CSAT_BENCH_POSTGRES_URL (an admin URL:
// a user allowed to CREATE DATABASE, connected to the `postgres` database; `bash .ci/postgres.sh`
// starts a throwaway server and prints one). Each run gets a database of its own, dropped at the end
// (kept with BENCH_PG_KEEP=1). This file is the only place the benchmarks read the variable.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { generateRatings, type SeedOptions } from './lib.js';

export const BENCH_POSTGRES_URL: string | undefined = process.env['CC_CSAT_BENCH_POSTGRES_URL'] || undefined;

/** Prints one line and exits 0 when no server is named: `npm run bench` stays usable without one. */
export function skipWithoutPostgres(name: string): string {
  if (BENCH_POSTGRES_URL === undefined) {
    console.log(`${name}: skipped, set CC_CSAT_BENCH_POSTGRES_URL to a PostgreSQL admin URL (bash .ci/postgres.sh starts a server and prints one)`);
    process.exit(0);
  }
  return BENCH_POSTGRES_URL;
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  readonly name: string;
  /** The admin URL with this database in place of `postgres`. */
  readonly url: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(adminUrl: string, label: string): Promise<BenchDatabase> {
  const name = `cc_csat_bench_${label.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}" TEMPLATE template0`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (process.env['BENCH_PG_KEEP']) {
        console.log(`kept database ${name} (BENCH_PG_KEEP)`);
        return;
      }
      await withAdmin(adminUrl, async (client) => {
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await client.query(`DROP DATABASE IF EXISTS "${name}"`);
      });
    },
  };
}

/** The server's version and the settings the figures depend on, for the result files. */
export async function serverFacts(url: string): Promise<Record<string, string>> {
  return withAdmin(url, async (client) => {
    const names = ['server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'work_mem', 'max_wal_size', 'jit', 'max_parallel_workers_per_gather'];
    const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [names]);
    return Object.fromEntries(rows.map((row) => [row.name, row.unit ? `${row.setting} x ${row.unit}` : row.setting]));
  });
}

/** One line for the console: the version and the settings the figures depend on. */
export function describeServer(facts: Record<string, string>): string {
  return `PostgreSQL ${facts['server_version']}: ${Object.entries(facts)
    .filter(([name]) => name !== 'server_version')
    .map(([name, value]) => `${name}=${value}`)
    .join(', ')}`;
}

/**
 * Writes generateRatings(count, options) (the rows the SQLite benchmarks seed) into cc_csat, 50,000
 * to a statement (unnest of arrays), `id` from the identity in insertion (= time) order.
 */
export async function seedRatingsPg(url: string, count: number, options: SeedOptions = {}): Promise<void> {
  const rows = generateRatings(count, options);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < rows.length; i += 50_000) {
      const batch = rows.slice(i, i + 50_000);
      await client.query(
        `INSERT INTO cc_csat (call_id, agent_id, queue_id, score, comment, created_at)
         SELECT c, a, q, s, NULL, t FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::timestamptz[]) WITH ORDINALITY AS r (c, a, q, s, t, n) ORDER BY n`,
        [batch.map((row) => row[0]), batch.map((row) => row[1]), batch.map((row) => row[2]), batch.map((row) => row[3]), batch.map((row) => row[4])],
      );
    }
  } finally {
    await client.end();
  }
}

/**
 * After bulk seeding (and a first rebuild), as autovacuum would leave tables that have been live for
 * a while: hint bits set, visibility maps and statistics current; then a checkpoint, so neither
 * autovacuum nor the checkpointer's writes of the seed land inside a measurement.
 */
export async function vacuumAnalyze(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** EXPLAIN (ANALYZE, BUFFERS) of one statement, as text, on a connection of its own, inside a rolled-back transaction. */
export async function explainAnalyze(url: string, statement: string, params: unknown[] = [], setup: string[] = []): Promise<string> {
  const client = new pg.Client({ connectionString: url, options: '-c TimeZone=UTC' });
  await client.connect();
  try {
    await client.query('BEGIN');
    for (const line of setup) await client.query(line);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement}`, params);
    await client.query('ROLLBACK');
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await client.end();
  }
}
