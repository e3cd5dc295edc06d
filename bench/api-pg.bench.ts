// Target 2 on PostgreSQL (issue 11): GET /cc/csat/queue/:id for a 30-day range over 1,000,000 ratings
// is at least 20x faster (median) than computing the same answer on the fly from cc_csat on
// PostgreSQL. The method of bench/api.bench.ts (bench/api-measure.ts): the engine's HTTP app on a
// PostgreSQL storage opened as `cc-csat start` opens it, against a route in the same process that
// computes the answer from cc_csat per request in one pass over the (queue_id, created_at, id) index,
// byte-identical bodies first. Skipped without CC_CSAT_BENCH_POSTGRES_URL.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { loadConfig } from '../src/config/load.js';
import type { PostgresStorage } from '../src/db/postgres/open.js';
import type { Database } from '../src/db/schema.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { average, rankAgents } from '../src/results/stats-shape.js';
import { addDays, ZoneCalendar } from '../src/results/zone.js';
import { openStorage } from '../src/storage/open.js';
import { writeConfigTree } from '../test/helpers/config-tree.js';
import { measureQueueApi } from './api-measure.js';
import { fmt, time } from './lib.js';
import { createBenchDatabase, describeServer, explainAnalyze, seedRatingsPg, serverFacts, skipWithoutPostgres, vacuumAnalyze } from './pg.js';

const RATINGS = Number(process.env['BENCH_RATINGS'] ?? 1_000_000);
const TIMEZONE = 'Europe/Paris';
const KEY = 'bench-key';
const NOW = new Date('2026-11-20T19:00:00Z');
const PASSWORD_ENV = 'CC_CSAT_BENCH_PG_PASSWORD';

// One pass over cc_csat_queue_created for the queue and the window's UTC bounds; PostgreSQL's zone
// database gives the local day, as the result service's does.
const ON_THE_FLY = `SELECT agent_id, (created_at AT TIME ZONE $1)::date AS day, count(*) AS count, sum(score) AS sum,
    count(*) FILTER (WHERE score = 1) AS n1, count(*) FILTER (WHERE score = 2) AS n2, count(*) FILTER (WHERE score = 3) AS n3,
    count(*) FILTER (WHERE score = 4) AS n4, count(*) FILTER (WHERE score = 5) AS n5
  FROM cc_csat
  WHERE queue_id = $2 AND created_at >= $3::timestamptz AND created_at < $4::timestamptz
  GROUP BY agent_id, day`;

/** The same answer as GET /cc/csat/queue/:id, computed from cc_csat at request time (as bench/api.bench.ts does on SQLite). */
async function onTheFly(db: Kysely<Database>, zone: ZoneCalendar, queueId: string, from: string, to: string) {
  const fromIso = new Date(zone.startOfDay(from)).toISOString();
  const toIso = new Date(zone.startOfDay(addDays(to, 1))).toISOString();
  type Row = { agent_id: string; day: string; count: number; sum: number; n1: number; n2: number; n3: number; n4: number; n5: number };
  const rows = (await db.executeQuery<Row>(CompiledQuery.raw(ON_THE_FLY, [zone.zone, queueId, fromIso, toIso]))).rows;
  const byDay = new Map<string, { count: number; sum: number }>();
  const byAgent = new Map<string, { agent_id: string; count: number; sum: number }>();
  const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  let count = 0;
  let sum = 0;
  for (const row of rows) {
    const d = byDay.get(row.day) ?? { count: 0, sum: 0 };
    d.count += row.count;
    d.sum += row.sum;
    byDay.set(row.day, d);
    const a = byAgent.get(row.agent_id) ?? { agent_id: row.agent_id, count: 0, sum: 0 };
    a.count += row.count;
    a.sum += row.sum;
    byAgent.set(row.agent_id, a);
    count += row.count;
    sum += row.sum;
    distribution['1'] += row.n1;
    distribution['2'] += row.n2;
    distribution['3'] += row.n3;
    distribution['4'] += row.n4;
    distribution['5'] += row.n5;
  }
  const trend = [];
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const b = byDay.get(d);
    trend.push({ period_start: d, count: b?.count ?? 0, average: b ? average(b.sum, b.count) : null });
  }
  const state = (await sql<{ value: string }>`SELECT value FROM result_state WHERE key = 'refreshed_at'`.execute(db)).rows[0];
  return {
    queue_id: queueId,
    period: 'day',
    from,
    to,
    average: average(sum, count),
    count,
    distribution,
    trend,
    agent_ranking: rankAgents([...byAgent.values()], 1),
    as_of: state?.value ?? null,
  };
}

async function main(): Promise<void> {
  const adminUrl = skipWithoutPostgres('api-pg.bench.ts');
  const database = await createBenchDatabase(adminUrl, 'api');
  // The password travels as [database] password_env names it, not in the config file.
  const url = new URL(database.url);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const tree = writeConfigTree({
    databaseUrl: url.toString(),
    databaseExtra: `password_env = "${PASSWORD_ENV}"`,
    engineExtra: `
[results]
timezone = "${TIMEZONE}"

[[api_keys]]
name = "bench"
key_sha256 = "${createHash('sha256').update(KEY).digest('hex')}"
scopes = ["csat:read", "csat:write"]
rate_limit_per_minute = 1000000000
`,
  });
  let storage: PostgresStorage | undefined;
  try {
    const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: { [PASSWORD_ENV]: password } });
    if (config.database.kind !== 'postgres') throw new Error('expected a postgres:// [database] url');
    // The engine under test opens the database as `cc-csat start` does ([database] pool_max: 10).
    storage = (await openStorage(config.database, { applicationName: 'cc-csat bench api-pg' })) as PostgresStorage;
    await storage.migrate();
    await seedRatingsPg(database.url, RATINGS);
    await vacuumAnalyze(database.url);
    const results = new ResultService({ rollups: storage.rollups, timezone: TIMEZONE, log: createLogger('silent'), now: () => NOW });
    const rebuilt = await time(() => results.run('full'));
    await vacuumAnalyze(database.url);
    console.log(`seeded ${RATINGS} ratings (database ${database.name}), rollups rebuilt in ${fmt(rebuilt.ms)} ms`);
    const server = await serverFacts(adminUrl);
    console.log(describeServer(server));
    const db = storage.db;
    const zone = new ZoneCalendar(TIMEZONE);
    await measureQueueApi({
      config,
      storage,
      onTheFly: (queueId, from, to) => onTheFly(db, zone, queueId, from, to),
      key: KEY,
      now: NOW,
      resultName: 'api-pg',
      facts: {
        ratings: RATINGS,
        timezone: TIMEZONE,
        server,
        // Where an on-the-fly answer's time goes: one 30-day window of queue-3.
        on_the_fly_plan: await explainAnalyze(
          database.url,
          ON_THE_FLY,
          [TIMEZONE, 'queue-3', new Date(zone.startOfDay('2026-10-22')).toISOString(), new Date(zone.startOfDay('2026-11-21')).toISOString()],
        ),
      },
    });
  } finally {
    await storage?.close();
    await database.drop();
    rmSync(tree.dir, { recursive: true, force: true });
  }
}

await main();
