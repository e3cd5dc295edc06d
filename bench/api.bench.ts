// Target 2: GET /cc/csat/queue/:id for a 30-day range over 1,000,000 ratings is at least 20x faster
// (median) than computing the same answer on the fly from cc_csat. Both are served by the same
// HTTP app in the same run; the on-the-fly route uses cc_csat's (queue_id, created_at) index and
// must return an identical body before anything is timed. Then p50/p99/throughput under
// concurrent load with autocannon in a separate process.
import { execFile, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import express from 'express';
import { sql, type Kysely } from 'kysely';
import { loadConfig } from '../src/config/load.js';
import type { Database } from '../src/db/schema.js';
import { migrate } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { createHttpApp } from '../src/http/app.js';
import { createLogger } from '../src/log.js';
import { localDayExpression } from '../src/results/rollup-sql.js';
import { alignRange, average, rankAgents } from '../src/results/read.js';
import { ResultService, readResultState } from '../src/results/service.js';
import { addDays, ZoneCalendar } from '../src/results/zone.js';
import { writeConfigTree } from '../test/helpers/config-tree.js';
import { fmt, machine, median, percentile, seedRatings, time, writeResult } from './lib.js';

const RATINGS = Number(process.env['BENCH_RATINGS'] ?? 1_000_000);
const TIMEZONE = 'Europe/Paris';
const KEY = 'bench-key';
const NOW = new Date('2026-11-20T19:00:00Z');
const run = promisify(execFile);

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
  const seeding = openDatabase(config.sqlitePath, { walAutocheckpointPages: 20_000 });
  await migrate(seeding.db);
  seedRatings(config.sqlitePath, RATINGS);
  const results = new ResultService({ writes: seeding.writes, timezone: TIMEZONE, log: createLogger('silent'), now: () => NOW });
  const rebuilt = await time(() => results.run('full'));
  seeding.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  await seeding.close();
  console.log(`seeded ${RATINGS} ratings, rollups rebuilt in ${fmt(rebuilt.ms)} ms`);
  // The engine under test opens the database as `cc-csat start` does.
  const { db, writes, reader, close } = openDatabase(config.sqlitePath);

  const zone = new ZoneCalendar(TIMEZONE);
  const app = createHttpApp({ config, db, writes, reader, log: createLogger('silent'), telephony: { state: 'connected' }, now: () => NOW });
  // Server-side time, from the request reaching Express to the response finished (routing, auth,
  // rate limit, queries, JSON): the part the two approaches differ in. End-to-end HTTP is reported too.
  const serverMs = { rollups: [] as number[], onTheFly: [] as number[] };
  let recording = false;
  const timed = (into: number[]): express.RequestHandler => (_req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      if (recording) into.push(performance.now() - started);
    });
    next();
  };
  const front = express();
  front.use(timed(serverMs.rollups), app);
  const server: Server = await new Promise((resolve) => {
    const s = front.listen(0, '127.0.0.1', () => resolve(s));
  });
  // The baseline: same process, same database, same HTTP stack, computed from cc_csat per request.
  const baseline = express();
  baseline.use(timed(serverMs.onTheFly));
  baseline.get('/bench/on-the-fly/queue/:queue_id', async (req, res) => {
    const to = String(req.query['to'] ?? '2026-11-20');
    const range = alignRange('day', addDays(to, -29), to);
    res.json(await queueOnTheFly(db, zone, req.params.queue_id, range.from, range.to));
  });
  const baselineServer: Server = await new Promise((resolve) => {
    const s = baseline.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const rollupUrl = `${base}/cc/csat/queue/queue-3?period=day&days=30`;
  const onTheFlyUrl = `http://127.0.0.1:${(baselineServer.address() as { port: number }).port}/bench/on-the-fly/queue/queue-3`;
  const headers = { 'x-api-key': KEY };
  const get = async (url: string): Promise<any> => {
    const response = await fetch(url, { headers });
    if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return response.json();
  };

  const [fromRollups, onTheFly] = await Promise.all([get(rollupUrl), get(onTheFlyUrl)]);
  if (JSON.stringify(fromRollups) !== JSON.stringify(onTheFly)) {
    throw new Error(`the two routes disagree:\n${JSON.stringify(fromRollups).slice(0, 400)}\n${JSON.stringify(onTheFly).slice(0, 400)}`);
  }
  console.log(`both routes return the same answer: ${fromRollups.count} ratings, ${fromRollups.agent_ranking.length} agents ranked, 30 daily buckets`);

  // Sequential requests in alternating blocks, so both sides see the same machine state.
  // warm: the same 30-day window every time (a dashboard polling: answered from the snapshot cache);
  // cold: a different 30-day window every request (always computed from the rollups).
  const windows = Array.from({ length: 300 }, (_, i) => addDays('2026-11-20', -i - 1));
  const urls = {
    warm: { rollups: () => rollupUrl, onTheFly: () => onTheFlyUrl },
    cold: {
      rollups: (i: number) => `${base}/cc/csat/queue/queue-3?period=day&from=${addDays(windows[i]!, -29)}&to=${windows[i]}`,
      onTheFly: (i: number) => `${onTheFlyUrl}?to=${windows[i]}`,
    },
  };
  // The client is another process: run in this one, its work would land between the server's
  // awaits and be billed as server time, more to the side that awaits more often.
  const client = fork(new URL('./sequential-client.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'] });
  let pending: { resolve: (latencies: number[]) => void; reject: (err: Error) => void } | undefined;
  client.on('message', (latencies) => pending?.resolve(latencies as number[]));
  client.on('exit', (code) => pending?.reject(new Error(`sequential client exited with ${code}`)));
  const sequential = (opener: string, list: string[]): Promise<number[]> =>
    new Promise((resolve, reject) => {
      pending = { resolve, reject };
      client.send({ urls: list, headers, opener });
    });
  const measured: Record<string, { rollupsServer: number[]; onTheFlyServer: number[]; rollupsE2e: number[]; onTheFlyE2e: number[] }> = {};
  // Warm-up, as a server that has been up for a while: V8 optimizes a code path only after some
  // hundreds of calls. 28-day windows, so no measured (30-day) answer is cached by it.
  await sequential(base, Array.from({ length: 600 }, (_, i) => `${base}/cc/csat/queue/queue-3?period=day&from=${addDays(windows[i % 300]!, -27)}&to=${windows[i % 300]}`));
  await sequential(base, Array.from({ length: 600 }, () => rollupUrl));
  await sequential(base, Array.from({ length: 30 }, () => onTheFlyUrl));
  for (const kind of ['warm', 'cold'] as const) {
    const m = { rollupsServer: [] as number[], onTheFlyServer: [] as number[], rollupsE2e: [] as number[], onTheFlyE2e: [] as number[] };
    for (let block = 0; block < 6; block++) {
      for (const side of ['rollups', 'onTheFly'] as const) {
        const list = Array.from({ length: 50 }, (_, k) => urls[kind][side](block * 50 + k));
        // The opener (a path no route serves) sets up the connection; its server time is dropped.
        serverMs[side].length = 0;
        recording = true;
        const e2e = await sequential(`${new URL(list[0]!).origin}/bench/opener`, list);
        recording = false;
        (side === 'rollups' ? m.rollupsE2e : m.onTheFlyE2e).push(...e2e);
        (side === 'rollups' ? m.rollupsServer : m.onTheFlyServer).push(...serverMs[side].slice(1));
      }
    }
    for (const list of Object.values(m)) list.sort((a, b) => a - b);
    measured[kind] = m;
    console.log(
      `${kind} (${kind === 'warm' ? 'same window, snapshot cache' : 'new window every request'}), server side median: rollups ${fmt(median(m.rollupsServer))} ms (p99 ${fmt(percentile(m.rollupsServer, 99))})` +
        ` vs on the fly ${fmt(median(m.onTheFlyServer))} ms (p99 ${fmt(percentile(m.onTheFlyServer, 99))}) = ${(median(m.onTheFlyServer) / median(m.rollupsServer)).toFixed(1)}x (target >= 20x);` +
        ` end to end ${fmt(median(m.rollupsE2e))} vs ${fmt(median(m.onTheFlyE2e))} ms = ${(median(m.onTheFlyE2e) / median(m.rollupsE2e)).toFixed(1)}x`,
    );
  }

  pending = undefined;
  client.send('exit');

  const load = async (url: string, connections: number) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', new URL('./load.ts', import.meta.url).pathname, JSON.stringify({ url, connections, duration: 10, headers })], {
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { requests_per_second: number; latency_p50_ms: number; latency_p99_ms: number; non2xx: number; errors: number };
  };
  const concurrent: Record<string, unknown> = {};
  for (const connections of (process.env["BENCH_SKIP_LOAD"] ? [] : [1, 16, 64])) {
    const rollups = await load(rollupUrl, connections);
    const fly = await load(onTheFlyUrl, connections);
    concurrent[`c${connections}`] = { rollups, on_the_fly: fly, throughput_ratio: rollups.requests_per_second / fly.requests_per_second };
    console.log(
      `autocannon ${String(connections).padStart(2)} connections, 10 s: rollups ${rollups.requests_per_second.toFixed(0)} req/s p50 ${rollups.latency_p50_ms} ms p99 ${rollups.latency_p99_ms} ms` +
        ` | on the fly ${fly.requests_per_second.toFixed(0)} req/s p50 ${fly.latency_p50_ms} ms p99 ${fly.latency_p99_ms} ms | errors ${rollups.errors + fly.errors}, non-2xx ${rollups.non2xx + fly.non2xx}`,
    );
  }
  writeResult('api', {
    machine: machine(),
    ratings: RATINGS,
    timezone: TIMEZONE,
    query: 'GET /cc/csat/queue/queue-3?period=day&days=30',
    ratings_in_answer: fromRollups.count,
    agents_ranked: fromRollups.agent_ranking.length,
    sequential: Object.fromEntries(
      Object.entries(measured).map(([kind, m]) => [
        kind,
        {
          server_side: {
            rollups_p50_ms: median(m.rollupsServer),
            rollups_p99_ms: percentile(m.rollupsServer, 99),
            on_the_fly_p50_ms: median(m.onTheFlyServer),
            on_the_fly_p99_ms: percentile(m.onTheFlyServer, 99),
            speedup_median: median(m.onTheFlyServer) / median(m.rollupsServer),
          },
          end_to_end: {
            rollups_p50_ms: median(m.rollupsE2e),
            on_the_fly_p50_ms: median(m.onTheFlyE2e),
            speedup_median: median(m.onTheFlyE2e) / median(m.rollupsE2e),
          },
        },
      ]),
    ),
    concurrent,
  });
  for (const open of [server, baselineServer]) {
    open.closeAllConnections();
    open.close();
  }
  await close();
  rmSync(tree.dir, { recursive: true, force: true });
}

await main();
