// Starts the real HTTP app on a loopback port over a real SQLite file (or a fresh database on the
// PostgreSQL server of the PostgreSQL tier), with keys for each scope.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type AppConfig } from '../../src/config/load.js';
import { ConfigReloader, type ReloadOutcome } from '../../src/config/reloader.js';
import { TeamsHolder } from '../../src/config/teams.js';
import { SurveyConfigHolder } from '../../src/survey/survey-config.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import type { OpenDatabase } from '../../src/db/sqlite/open.js';
import { createHttpApp } from '../../src/http/app.js';
import { listenFirst } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import type { ConnectionState } from '../../src/telephony/port.js';
import type { RecordingSource } from '../../src/telephony/recordings.js';
import { ResultService } from '../../src/results/service.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/ports.js';
import { LogCapture } from './harness.js';
import { writeConfigTree } from './config-tree.js';
import { createPostgresDatabase, POSTGRES_SKIP } from './postgres.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** The suites that run on both databases loop over these; PostgreSQL is skipped with one line without a server. */
export const DATABASES: ReadonlyArray<{ readonly kind: DatabaseKind; readonly skip: string | false }> = [
  { kind: 'sqlite', skip: false },
  { kind: 'postgres', skip: POSTGRES_SKIP },
];

export const KEYS = {
  all: 'key-all-scopes',
  reader: 'key-read-only',
  writer: 'key-write-only',
  limited: 'key-limited',
  admin: 'key-role-admin',
  supervisor: 'key-role-supervisor',
  reporting: 'key-role-reporting',
  /** role "agent", bound to KEY_AGENT_ID. */
  agent: 'key-role-agent',
} as const;
/** The agent KEYS.agent may read. */
export const KEY_AGENT_ID = 'agent-001';
const sha = (key: string) => createHash('sha256').update(key).digest('hex');

export interface ApiHarness {
  base: string;
  metrics: Metrics;
  /** Set to simulate ARI being down for /readyz. */
  telephony: { state: ConnectionState };
  config: AppConfig;
  storage: Storage;
  /** Kysely on the same database, for seeding and checking rows (either dialect). */
  db: Kysely<Database>;
  /** The SQLite file's handles (a SQLite-only test; throws on PostgreSQL). */
  readonly database: OpenDatabase;
  results: ResultService;
  logs: LogCapture;
  clock: { now: Date };
  /** config/teams.toml of this tree (what `teams` wrote; rewrite it, then reloadConfig()). */
  teamsPath: string;
  /** The engine's config reload (SIGHUP, `cc-csat reload`): the API's teams follow it. */
  reloadConfig(): ReloadOutcome;
  request(
    method: string,
    path: string,
    options?: {
      key?: string | null;
      body?: unknown;
      rawBody?: string;
      headers?: Record<string, string>;
      /** The test itself holds a transaction open on the writer connection (a run in progress). */
      duringOpenTransaction?: boolean;
    },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export async function startApi(
  options: {
    timezone?: string;
    minRatingsToRank?: number;
    now?: Date;
    apiExtra?: string;
    databaseExtra?: string;
    database?: DatabaseKind;
    /** config/teams.toml's text; none: no file (no teams). */
    teams?: string;
    /** Where GET /cc/csat/:call_id/recording reads audio; none: every recording is a 503. */
    recordings?: RecordingSource;
    /** The environment the config is loaded with (secrets such as [alerts] secret_env). */
    env?: Record<string, string>;
  } = {},
): Promise<ApiHarness> {
  const postgres = options.database === 'postgres' ? await createPostgresDatabase('api') : undefined;
  const tree = writeConfigTree({
    ...(postgres ? { databaseUrl: postgres.url } : {}),
    ...(options.databaseExtra ? { databaseExtra: options.databaseExtra } : {}),
    engineExtra: `
[results]
timezone = "${options.timezone ?? 'UTC'}"
min_ratings_to_rank = ${options.minRatingsToRank ?? 1}

[api]
rate_limit_per_minute = 1000
${options.apiExtra ?? ''}

[[api_keys]]
name = "all"
key_sha256 = "${sha(KEYS.all)}"
scopes = ["csat:read", "csat:write"]

[[api_keys]]
name = "reader"
key_sha256 = "${sha(KEYS.reader)}"
scopes = ["csat:read"]

[[api_keys]]
name = "writer"
key_sha256 = "${sha(KEYS.writer)}"
scopes = ["csat:write"]

[[api_keys]]
name = "limited"
key_sha256 = "${sha(KEYS.limited)}"
scopes = ["csat:read"]
rate_limit_per_minute = 5

[[api_keys]]
name = "admin"
key_sha256 = "${sha(KEYS.admin)}"
role = "admin"

[[api_keys]]
name = "supervisor"
key_sha256 = "${sha(KEYS.supervisor)}"
role = "supervisor"

[[api_keys]]
name = "reporting"
key_sha256 = "${sha(KEYS.reporting)}"
role = "reporting"

[[api_keys]]
name = "agent"
key_sha256 = "${sha(KEYS.agent)}"
role = "agent"
agent_id = "${KEY_AGENT_ID}"
`,
  });
  // [paths] teams keeps its default, config/teams.toml, resolved against the tree as working directory.
  const teamsPath = join(tree.dir, 'config', 'teams.toml');
  if (options.teams !== undefined) writeFileSync(teamsPath, options.teams);
  const load = (): AppConfig => loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: options.env ?? {} });
  const config = load();
  const storage = await openStorage(config.database, { lockWaitMs: config.engine.database.lock_wait_ms });
  const { db, database } = storage as Storage & { db: Kysely<Database>; database?: OpenDatabase };
  await storage.migrate();
  // As `cc-csat start` serves: no statement waits for a lock inside SQLite.
  storage.serving();
  const logs = new LogCapture();
  const log = createLogger('debug', logs.stream);
  const clock = { now: options.now ?? new Date() };
  const results = new ResultService({ rollups: storage.rollups, leadership: storage.leadership, timezone: config.engine.results.timezone, log, now: () => clock.now });
  const openTransactions = async (): Promise<number> => {
    if (database) return database.sqlite.inTransaction ? 1 : 0;
    const { sql } = await import('kysely');
    const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`.execute(db);
    return rows.rows[0]!.n;
  };
  const metrics = new Metrics({ processMetrics: false });
  const telephony = { state: 'connected' as ConnectionState };
  const teams = new TeamsHolder(config.teams);
  const surveyConfig = new SurveyConfigHolder(config);
  const reloader = new ConfigReloader({ running: config, load, cwd: tree.dir, holder: surveyConfig, teams, log });
  const app = createHttpApp({ config, storage, log, telephony, now: () => clock.now, metrics, teams, surveyConfig, ...(options.recordings ? { recordings: options.recordings } : {}) });
  // The server `cc-csat start` uses (JSON for parser errors, timeouts), on a free loopback port.
  const listening = await listenFirst(0, '127.0.0.1', '[http]');
  listening.serve(app);
  const server: Server = listening.server;
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    metrics,
    telephony,
    config,
    storage,
    db,
    get database(): OpenDatabase {
      if (!database) throw new Error('this test reads SQLite handles: run it with database: "sqlite"');
      return database;
    },
    results,
    logs,
    clock,
    teamsPath,
    reloadConfig: () => reloader.reload('request'),
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const key = opts.key === undefined ? KEYS.all : opts.key;
      if (key !== null) headers['x-api-key'] = key;
      let body: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // leave as text: the test asserts it was JSON when it must be
      }
      // The invariant behind "acknowledged means committed": between requests, no transaction is open.
      if (!opts.duringOpenTransaction && (await openTransactions()) > 0) throw new Error(`${method} ${path} left a transaction open`);
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await results.stop();
      await storage.close();
      await postgres?.drop();
    },
  };
}
