// Target 2: GET /cc/csat/queue/:id for a 30-day range over 1,000,000 ratings is at least 20x faster
// (median) than computing the same answer on the fly from cc_csat. Both are served by the same
// HTTP app in the same run; the on-the-fly route uses cc_csat's (queue_id, created_at) index and
// must return an identical body before anything is timed. Then p50/p99/throughput under
// concurrent load with autocannon in a separate process.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import { loadConfig } from '../src/config/load.js';
import type { Database } from '../src/db/schema.js';
import { localDayExpression } from '../src/db/sqlite/rollup-sql.js';
import { readResultState } from '../src/db/sqlite/rollups.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { average, rankAgents } from '../src/results/stats-shape.js';
import { addDays, ZoneCalendar } from '../src/results/zone.js';
import { writeConfigTree } from '../test/helpers/config-tree.js';
import { measureQueueApi } from './api-measure.js';
import { fmt, seedRatings, time } from './lib.js';

const RATINGS = Number(process.env['BENCH_RATINGS'] ?? 1_000_000);
const TIMEZONE = 'Europe/Paris';
const KEY = 'bench-key';
const NOW = new Date('2026-11-20T19:00:00Z');

/** The same answer as GET /cc/csat/queue/:id, computed from cc_csat at request time. */
async function queueOnTheFly(db: Kysely<Database>, zone: ZoneCalendar, queueId: string, from: string, to: string) {
  const fromMs = zone.startOfDay(from);
  const toMs = zone.startOfDay(addDays(to, 1));
  const day = localDayExpression(zone, fromMs, toMs);
  const rows = (
    await sql<{ agent_id: string; day: string; count: number; sum: number; n1: number; n2: number; n3: number; n4: number; n5: number }>`
      SELECT agent_id, ${day} AS day, count(*) AS count, sum(score) AS sum,
             sum(score = 1) AS n1, sum(score = 2) AS n2, sum(score = 3) AS n3, sum(score = 4) AS n4, sum(score = 5) AS n5
      FROM cc_csat
      WHERE queue_id = ${queueId} AND created_at >= ${new Date(fromMs).toISOString()} AND created_at < ${new Date(toMs).toISOString()}
      GROUP BY agent_id, day`.execute(db)
  ).rows;
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
  const state = await readResultState(db);
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
    as_of: state.refreshed_at ?? null,
  };
}

async function main(): Promise<void> {
  const tree = writeConfigTree({
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
  const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
  if (config.database.kind !== 'sqlite') throw new Error('the SQLite API benchmark needs a sqlite: [database] url');
  const path = config.database.path;
  const seeding = openSqliteStorage(path, { walAutocheckpointPages: 20_000 });
  await seeding.migrate();
  seedRatings(path, RATINGS);
  const results = new ResultService({ rollups: seeding.rollups, timezone: TIMEZONE, log: createLogger('silent'), now: () => NOW });
  const rebuilt = await time(() => results.run('full'));
  seeding.database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  await seeding.close();
  console.log(`seeded ${RATINGS} ratings, rollups rebuilt in ${fmt(rebuilt.ms)} ms`);
  // The engine under test opens the database as `cc-csat start` does.
  const storage = openSqliteStorage(path);
  const { db } = storage;

  const zone = new ZoneCalendar(TIMEZONE);
  await measureQueueApi({
    config,
    storage,
    onTheFly: (queueId, from, to) => queueOnTheFly(db, zone, queueId, from, to),
    key: KEY,
    now: NOW,
    resultName: 'api',
    facts: { ratings: RATINGS, timezone: TIMEZONE },
  });
  await storage.close();
  rmSync(tree.dir, { recursive: true, force: true });
}

await main();
