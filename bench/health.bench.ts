// GET /cc/csat/health at issue 13's target size: 100,000 surveyed calls (BENCH_CALLS) over a year,
// each a rating, three answers (csat, nps, ces) and a survey outcome, seeded as
// bench/survey-stats.bench.ts seeds them, on SQLite and (with CC_CSAT_BENCH_POSTGRES_URL) PostgreSQL.
// The engine's HTTP app over a storage opened as `cc-csat start` opens it, 10 queues and a team of 20
// agents configured, the result service run once; then 10 sequential calls of the endpoint over HTTP
// with an admin key. Reports what the endpoint measured (each query against its 500 ms budget, the
// total against 2 s, target_met) and the HTTP round trip. Results in bench/results/health.json.
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type AppConfig } from '../src/config/load.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createHttpApp } from '../src/http/app.js';
import { HealthReport } from '../src/http/schemas.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import type { Storage } from '../src/storage/ports.js';
import { openStorage } from '../src/storage/open.js';
import { writeConfigTree } from '../test/helpers/config-tree.js';
import { fmt, machine, median, QUEUES, time, writeResult } from './lib.js';
import { BENCH_POSTGRES_URL, createBenchDatabase, describeServer, serverFacts, vacuumAnalyze } from './pg.js';
import { seedPostgres, seedSqlite } from './survey-stats.bench.js';

const CALLS = Number(process.env['BENCH_CALLS'] ?? 100_000);
const HEALTH_CALLS = 10;
const TIMEZONE = 'Europe/Paris';
const KEY = 'bench-admin-key';
const PASSWORD_ENV = 'CC_CSAT_BENCH_PG_PASSWORD';
// The seed ends at 2026-11-20T18:00Z (bench/lib.ts); the last 30 days are the endpoint's window.
const NOW = new Date('2026-11-20T19:00:00Z');
// The route serves one run's measurements for 5 s: the clock moves 10 s before every call, so each
// call runs the queries afresh; ten calls stay within the same local day, hence the same window.
const CLOCK_STEP_MS = 10_000;
const TEAM_AGENTS = Array.from({ length: 20 }, (_, i) => `agent-${i * 10}`);

const QUEUES_TOML = Array.from(
  { length: QUEUES },
  (_, i) => `[[queue]]\nname = "queue-${i}"\n[queue.after_call]\ncsat_enabled = true\ncsat_ivr = "survey"\n`,
).join('\n');
const TEAMS_TOML = `[[team]]\nid = "bench-team"\nagents = [${TEAM_AGENTS.map((agent) => `"${agent}"`).join(', ')}]\n`;
const ENGINE_EXTRA = `
[results]
timezone = "${TIMEZONE}"

[[api_keys]]
name = "bench-admin"
key_sha256 = "${createHash('sha256').update(KEY).digest('hex')}"
scopes = ["csat:read", "csat:write"]
rate_limit_per_minute = 1000000000
`;

let clockMs = NOW.getTime();
const now = (): Date => new Date(clockMs);

const loadAverage = (): number[] => loadavg().map((value) => Math.round(value * 100) / 100);

interface Prepared {
  readonly config: AppConfig;
  readonly storage: Storage;
  readonly facts: Record<string, unknown>;
  readonly cleanup: () => Promise<void>;
}

/** A config tree with the seeded queues and a team of 20 seeded agents ([paths] teams defaults to config/teams.toml). */
function configTree(options: { databaseUrl?: string; databaseExtra?: string } = {}): ReturnType<typeof writeConfigTree> {
  const tree = writeConfigTree({ ...options, engineExtra: ENGINE_EXTRA, queues: QUEUES_TOML });
  writeFileSync(join(tree.dir, 'config', 'teams.toml'), TEAMS_TOML);
  return tree;
}

async function prepareSqlite(): Promise<Prepared> {
  const tree = configTree();
  const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
  if (config.database.kind !== 'sqlite') throw new Error('expected a sqlite: [database] url');
  const path = config.database.path;
  // Seeded and rolled up as bench/api.bench.ts does, then reopened as the engine opens it.
  const seeding = openSqliteStorage(path, { walAutocheckpointPages: 20_000 });
  await seeding.migrate();
  const seeded = await time(() => seedSqlite(path, CALLS));
  const results = new ResultService({ rollups: seeding.rollups, timezone: TIMEZONE, log: createLogger('silent'), now });
  const rebuilt = await time(() => results.run('full'));
  seeding.database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  await seeding.close();
  console.log(`sqlite: seeded ${CALLS} calls in ${fmt(seeded.ms)} ms, result service full run ${fmt(rebuilt.ms)} ms`);
  const storage = await openStorage(config.database);
  return {
    config,
    storage,
    facts: { seed_ms: seeded.ms, result_service_full_run_ms: rebuilt.ms },
    cleanup: async () => {
      await storage.close();
      rmSync(tree.dir, { recursive: true, force: true });
    },
  };
}

async function preparePostgres(adminUrl: string): Promise<Prepared> {
  const database = await createBenchDatabase(adminUrl, 'health');
  // The password travels as [database] password_env names it, not in the config file.
  const url = new URL(database.url);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const tree = configTree({ databaseUrl: url.toString(), databaseExtra: `password_env = "${PASSWORD_ENV}"` });
  let storage: Storage | undefined;
  try {
    const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: { [PASSWORD_ENV]: password } });
    if (config.database.kind !== 'postgres') throw new Error('expected a postgres:// [database] url');
    // The engine under test opens the database as `cc-csat start` does ([database] pool_max: 10).
    const opened = await openStorage(config.database, { applicationName: 'cc-csat bench health' });
    storage = opened;
    await opened.migrate();
    const seeded = await time(() => seedPostgres(database.url, CALLS));
    await vacuumAnalyze(database.url);
    const results = new ResultService({ rollups: opened.rollups, timezone: TIMEZONE, log: createLogger('silent'), now });
    const rebuilt = await time(() => results.run('full'));
    await vacuumAnalyze(database.url);
    const server = await serverFacts(database.url);
    console.log(`postgres: seeded ${CALLS} calls in ${fmt(seeded.ms)} ms, result service full run ${fmt(rebuilt.ms)} ms; ${describeServer(server)}`);
    return {
      config,
      storage: opened,
      facts: { server, seed_ms: seeded.ms, result_service_full_run_ms: rebuilt.ms },
      cleanup: async () => {
        await opened.close();
        await database.drop();
        rmSync(tree.dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await storage?.close();
    await database.drop();
    rmSync(tree.dir, { recursive: true, force: true });
    throw err;
  }
}

type Report = ReturnType<typeof HealthReport.parse>;

async function measureHealth(kind: string, prepared: Prepared): Promise<Record<string, unknown>> {
  const app = createHttpApp({ config: prepared.config, storage: prepared.storage, log: createLogger('silent'), telephony: { state: 'connected' }, now });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cc/csat/health`;
  const loadBefore = loadAverage();
  const reports: Report[] = [];
  const httpMs: number[] = [];
  try {
    for (let i = 0; i < HEALTH_CALLS; i++) {
      clockMs += CLOCK_STEP_MS;
      const started = performance.now();
      const response = await fetch(url, { headers: { 'x-api-key': KEY } });
      const body: unknown = await response.json();
      httpMs.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`${kind}: GET /cc/csat/health answered ${response.status}: ${JSON.stringify(body)}`);
      reports.push(HealthReport.parse(body));
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
  const loadAfter = loadAverage();
  if (new Set(reports.map((report) => report.measured_at)).size !== HEALTH_CALLS) throw new Error(`${kind}: some calls were served a shared run; each must measure afresh`);

  const totals = reports.map((report) => report.total_ms);
  const names = reports[0]!.queries.map((query) => query.name);
  const queries = Object.fromEntries(
    names.map((name) => {
      const samples = reports.map((report) => report.queries.find((query) => query.name === name)?.ms ?? NaN);
      const budget = reports[0]!.queries.find((query) => query.name === name)!.budget_ms;
      return [name, { median_ms: median(samples), max_ms: Math.max(...samples), budget_ms: budget, ok_in_every_call: reports.every((report) => report.queries.find((query) => query.name === name)?.ok === true), samples_ms: samples }];
    }),
  );
  const missed = reports.map((report, index) => ({ call: index + 1, target_met: report.target_met })).filter((call) => !call.target_met);
  const last = reports.at(-1)!;

  console.log(`\n${kind}: ${HEALTH_CALLS} calls of GET /cc/csat/health, load average ${loadBefore.join(' ')} before, ${loadAfter.join(' ')} after`);
  console.log(`${'query'.padEnd(32)}${'median ms'.padStart(12)}${'max ms'.padStart(10)}${'budget'.padStart(9)}  ok every call`);
  for (const [name, figures] of Object.entries(queries)) {
    console.log(`${name.padEnd(32)}${fmt(figures.median_ms).padStart(12)}${fmt(figures.max_ms).padStart(10)}${String(figures.budget_ms).padStart(9)}  ${figures.ok_in_every_call}`);
  }
  console.log(`${'total (endpoint)'.padEnd(32)}${fmt(median(totals)).padStart(12)}${fmt(Math.max(...totals)).padStart(10)}${String(last.total_budget_ms).padStart(9)}`);
  console.log(`${'HTTP round trip'.padEnd(32)}${fmt(median(httpMs)).padStart(12)}${fmt(Math.max(...httpMs)).padStart(10)}`);
  console.log(`data ${JSON.stringify(last.data)}, result service ${JSON.stringify(last.result_service)}`);
  if (missed.length > 0) {
    console.log(`\n!!!!!!!! ${kind}: TARGET MISSED: target_met false in ${missed.length} of ${HEALTH_CALLS} calls (calls ${missed.map((call) => call.call).join(', ')}) !!!!!!!!\n`);
  } else {
    console.log(`${kind}: target_met true in every call`);
  }

  return {
    ...prepared.facts,
    load_average_before: loadBefore,
    load_average_after: loadAfter,
    total_ms: { median: median(totals), max: Math.max(...totals), first_call: totals[0], samples: totals },
    http_round_trip_ms: { median: median(httpMs), max: Math.max(...httpMs), first_call: httpMs[0], samples: httpMs },
    queries,
    target_met_every_call: missed.length === 0,
    target_met_per_call: reports.map((report) => report.target_met),
    // The endpoint's own figures, from the last call.
    last_response: last,
  };
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, unknown>> = {};
  const loadAtStart = loadAverage();
  const sides: Array<[string, () => Promise<Prepared>]> = [];
  if (!process.env['BENCH_SKIP_SQLITE']) sides.push(['sqlite', prepareSqlite]);
  if (BENCH_POSTGRES_URL) sides.push(['postgres', () => preparePostgres(BENCH_POSTGRES_URL!)]);
  else console.log('postgres: skipped, set CC_CSAT_BENCH_POSTGRES_URL to a PostgreSQL admin URL (bash .ci/postgres.sh starts a server and prints one)');
  for (const [kind, prepare] of sides) {
    // Each database's rollups are as of NOW and its calls' clock starts there.
    clockMs = NOW.getTime();
    const prepared = await prepare();
    try {
      results[kind] = await measureHealth(kind, prepared);
    } finally {
      await prepared.cleanup();
    }
  }
  writeResult('health', {
    machine: machine(),
    load_average_at_start: loadAtStart,
    load_average_at_end: loadAverage(),
    calls: CALLS,
    health_calls: HEALTH_CALLS,
    timezone: TIMEZONE,
    now: NOW.toISOString(),
    configured: { queues: QUEUES, team_agents: TEAM_AGENTS.length },
    ...results,
  });
}

await main();
