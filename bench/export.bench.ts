// GET /cc/csat/export of 1,000,000 ratings as CSV over HTTP, on SQLite and (with
// CC_CSAT_BENCH_POSTGRES_URL) PostgreSQL: rows per second, the engine's peak RSS and heap (sampled
// every 20 ms) against its resting RSS, and the event loop's longest delay while the export runs
// (what a live call's DTMF would wait). The engine's HTTP app runs in this process; the client is
// curl in another process writing to /dev/null, so the figures are the server's alone.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql, type Kysely } from 'kysely';
import { loadConfig, type AppConfig } from '../src/config/load.js';
import type { Database } from '../src/db/schema.js';
import { exportPageQuery } from '../src/db/ratings.js';
import type { SqliteStorage } from '../src/db/sqlite/storage.js';
import { createHttpApp } from '../src/http/app.js';
import { listenFirst } from '../src/http/server.js';
import { createLogger } from '../src/log.js';
import { openStorage } from '../src/storage/open.js';
import type { Storage } from '../src/storage/ports.js';
import { writeConfigTree } from '../test/helpers/config-tree.js';
import { fmt, machine, seedRatings, writeResult } from './lib.js';
import { BENCH_POSTGRES_URL, createBenchDatabase, describeServer, explainAnalyze, seedRatingsPg, serverFacts, vacuumAnalyze } from './pg.js';

const RATINGS = Number(process.env['BENCH_RATINGS'] ?? 1_000_000);
const KEY = 'bench-export-key';
const NOW = new Date('2026-11-20T19:00:00Z');
// The seed's whole year (bench/lib.ts generateRatings: 365 days ending 2026-11-20 18:00 UTC).
const RANGE = { from: '2025-11-20', to: '2026-11-20' };
const PASSWORD_ENV = 'CC_CSAT_BENCH_PG_PASSWORD';
const SAMPLE_MS = 20;
const IDLE_MS = 5000;

interface ExportFigures {
  readonly database: 'sqlite' | 'postgres';
  readonly rows: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly rows_per_second: number;
  readonly rss_before_mib: number;
  readonly rss_peak_mib: number;
  readonly heap_before_mib: number;
  readonly heap_peak_mib: number;
  readonly event_loop_delay_max_ms: number;
  readonly event_loop_delay_p99_ms: number;
  /** The same, over as long a stretch with nothing to do just before: what the host's other load alone causes. */
  readonly idle_delay_max_ms: number;
  readonly idle_delay_p99_ms: number;
  readonly audit_status: string;
  /** The host's 1-minute load average before and after: other processes on the same cores lengthen every delay. */
  readonly load_average: readonly [number, number];
  readonly plan: string;
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** As the IVR leaves them: each rating's headline answer, and one comment in ten holding a phone number (masked on the way out). */
async function addAnswersAndComments(db: Kysely<Database>, kind: 'sqlite' | 'postgres'): Promise<void> {
  const digits = kind === 'sqlite' ? sql`CAST(score AS TEXT)` : sql`score::text`;
  await sql`INSERT INTO survey_answer (call_id, question_id, kind, value, digits, agent_id, queue_id, ivr, answered_at)
    SELECT call_id, 'ask', 'csat', score, ${digits}, agent_id, queue_id, 'survey', created_at FROM cc_csat`.execute(db);
  await sql`UPDATE cc_csat SET comment = 'please call me back on 0612345678, thanks' WHERE id % 10 = 0`.execute(db);
}

/** curl in its own process: the whole export to /dev/null; resolves with the bytes it received. */
function download(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const curl = spawn('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{size_download}', '-H', `X-API-Key: ${KEY}`, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    curl.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    curl.on('error', reject);
    curl.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`curl exited with ${code}`))));
  });
}

async function measureExport(kind: 'sqlite' | 'postgres', config: AppConfig, storage: Storage, db: Kysely<Database>, plan: string): Promise<ExportFigures> {
  const app = createHttpApp({ config, storage, log: createLogger('silent'), telephony: { state: 'connected' }, now: () => NOW });
  const listening = await listenFirst(0, '127.0.0.1', '[http]');
  listening.serve(app);
  const port = (listening.server.address() as AddressInfo).port;
  try {
    globalThis.gc?.();
    const before = process.memoryUsage();
    let rssPeak = before.rss;
    let heapPeak = before.heapUsed;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      rssPeak = Math.max(rssPeak, now.rss);
      heapPeak = Math.max(heapPeak, now.heapUsed);
    }, SAMPLE_MS);
    const idle = monitorEventLoopDelay({ resolution: 5 });
    idle.enable();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    idle.disable();
    const loadBefore = loadavg()[0]!;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const bytes = await download(`http://127.0.0.1:${port}/cc/csat/export?format=csv&from=${RANGE.from}&to=${RANGE.to}`);
    const seconds = (performance.now() - started) / 1000;
    delay.disable();
    clearInterval(sampler);
    const audit = await db.selectFrom('csat_export').select(['rows', 'status']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const rows = Number(audit.rows);
    return {
      database: kind,
      rows,
      bytes,
      seconds: Math.round(seconds * 100) / 100,
      rows_per_second: Math.round(rows / seconds),
      rss_before_mib: mib(before.rss),
      rss_peak_mib: mib(rssPeak),
      heap_before_mib: mib(before.heapUsed),
      heap_peak_mib: mib(heapPeak),
      event_loop_delay_max_ms: Math.round((delay.max / 1e6) * 10) / 10,
      event_loop_delay_p99_ms: Math.round((delay.percentile(99) / 1e6) * 10) / 10,
      idle_delay_max_ms: Math.round((idle.max / 1e6) * 10) / 10,
      idle_delay_p99_ms: Math.round((idle.percentile(99) / 1e6) * 10) / 10,
      audit_status: audit.status,
      load_average: [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0]! * 100) / 100],
      plan,
    };
  } finally {
    listening.server.closeAllConnections();
    await new Promise<void>((resolve) => listening.server.close(() => resolve()));
  }
}

function configFor(databaseUrl?: string, databaseExtra = '', env: Record<string, string> = {}) {
  const tree = writeConfigTree({
    ...(databaseUrl ? { databaseUrl } : {}),
    databaseExtra,
    engineExtra: `
[results]
timezone = "UTC"

[[api_keys]]
name = "bench"
key_sha256 = "${createHash('sha256').update(KEY).digest('hex')}"
role = "admin"
rate_limit_per_minute = 1000000000
`,
  });
  return { tree, config: loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env }) };
}

// A page in the middle of the year, as the export reads each one (keyset after the previous page's last row).
const MIDDLE = { createdAt: '2026-05-20T12:00:00.000Z', id: 500_000 };
const FILTER = { fromIso: `${RANGE.from}T00:00:00.000Z`, toIso: '2026-11-21T00:00:00.000Z' };

async function onSqlite(): Promise<ExportFigures> {
  const { tree, config } = configFor();
  if (config.database.kind !== 'sqlite') throw new Error('expected a sqlite: [database] url');
  try {
    const created = await openStorage(config.database, {});
    await created.migrate();
    await created.close();
    seedRatings(config.database.path, RATINGS);
    const storage = (await openStorage(config.database, {})) as SqliteStorage;
    try {
      await addAnswersAndComments(storage.db, 'sqlite');
      await sql`ANALYZE`.execute(storage.db);
      // The seed's WAL folded into the file now, as the engine's background checkpointer would have:
      // otherwise the export's first commit (its audit row) would checkpoint it on the event loop.
      storage.database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
      // As `cc-csat start` serves: no statement waits for a lock inside SQLite.
      storage.serving();
      const page = exportPageQuery(storage.db, FILTER, MIDDLE, 1000).compile();
      const plan = (storage.database.sqlite.prepare(`EXPLAIN QUERY PLAN ${page.sql}`).all(...page.parameters) as Array<{ detail: string }>).map((row) => row.detail).join(' | ');
      return await measureExport('sqlite', config, storage, storage.db, plan);
    } finally {
      await storage.close();
    }
  } finally {
    rmSync(tree.dir, { recursive: true, force: true });
  }
}

async function onPostgres(adminUrl: string): Promise<ExportFigures & { server: Record<string, string> }> {
  const database = await createBenchDatabase(adminUrl, 'export');
  const url = new URL(database.url);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const { tree, config } = configFor(url.toString(), `password_env = "${PASSWORD_ENV}"`, { [PASSWORD_ENV]: password });
  let storage: Storage | undefined;
  try {
    storage = await openStorage(config.database, { applicationName: 'cc-csat bench export' });
    await storage.migrate();
    await seedRatingsPg(database.url, RATINGS);
    const db = (storage as Storage & { db: Kysely<Database> }).db;
    await addAnswersAndComments(db, 'postgres');
    await vacuumAnalyze(database.url);
    const server = await serverFacts(adminUrl);
    console.log(describeServer(server));
    const compiled = exportPageQuery(db, FILTER, MIDDLE, 1000).compile();
    const plan = await explainAnalyze(database.url, compiled.sql, [...compiled.parameters]);
    return { ...(await measureExport('postgres', config, storage, db, plan)), server };
  } finally {
    await storage?.close();
    await database.drop();
    rmSync(tree.dir, { recursive: true, force: true });
  }
}

function print(figures: ExportFigures): void {
  console.log(
    `${figures.database}: ${figures.rows} rows (${mib(figures.bytes)} MiB CSV) in ${figures.seconds} s = ${figures.rows_per_second} rows/s; ` +
      `RSS ${figures.rss_before_mib} -> peak ${figures.rss_peak_mib} MiB, heap ${figures.heap_before_mib} -> peak ${figures.heap_peak_mib} MiB; ` +
      `event-loop delay max ${fmt(figures.event_loop_delay_max_ms)} ms, p99 ${fmt(figures.event_loop_delay_p99_ms)} ms ` +
      `(idle beforehand: max ${fmt(figures.idle_delay_max_ms)}, p99 ${fmt(figures.idle_delay_p99_ms)}); audit ${figures.audit_status}; ` +
      `load average ${figures.load_average[0]} -> ${figures.load_average[1]}`,
  );
  console.log(`  page plan: ${figures.plan.split('\n').join('\n    ')}`);
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { machine: machine(), ratings: RATINGS, range: RANGE };
  const sqlite = await onSqlite();
  print(sqlite);
  results['sqlite'] = sqlite;
  if (BENCH_POSTGRES_URL === undefined) {
    console.log('export.bench.ts: PostgreSQL skipped, set CC_CSAT_BENCH_POSTGRES_URL to a PostgreSQL admin URL (bash .ci/postgres.sh starts a server and prints one)');
  } else {
    const postgres = await onPostgres(BENCH_POSTGRES_URL);
    print(postgres);
    results['postgres'] = postgres;
  }
  writeResult('export', results);
}

await main();
