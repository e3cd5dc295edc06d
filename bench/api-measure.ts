// The measurement of target 2, shared by bench/api.bench.ts (SQLite) and bench/api-pg.bench.ts
// (PostgreSQL): GET /cc/csat/queue/queue-3 for 30 days from the rollups (the engine's own HTTP app)
// against the same answer computed from cc_csat per request (a second route in the same process,
// same HTTP stack), byte-identical bodies checked first; server-side and end-to-end times from a
// sequential client in its own process, in alternating blocks; then autocannon in its own process.
import { execFile, fork } from 'node:child_process';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import express from 'express';
import type { AppConfig } from '../src/config/load.js';
import { createHttpApp, type HttpStorage } from '../src/http/app.js';
import { createLogger } from '../src/log.js';
import { alignRange } from '../src/results/stats-shape.js';
import { addDays } from '../src/results/zone.js';
import type { Distribution } from '../src/storage/ports.js';
import { withCsatFigures } from '../src/results/survey-stats-shape.js';
import { fmt, machine, median, percentile, writeResult } from './lib.js';

const run = promisify(execFile);

export interface QueueApiBench {
  readonly config: AppConfig;
  readonly storage: HttpStorage;
  /** The same answer as GET /cc/csat/queue/:id?period=day&from=..&to=.., computed from cc_csat. */
  readonly onTheFly: (queueId: string, from: string, to: string) => Promise<unknown>;
  /** An API key with csat:read. */
  readonly key: string;
  readonly now: Date;
  /** bench/results/NAME.json */
  readonly resultName: string;
  /** Written into the result file first (ratings, timezone, server...). */
  readonly facts: Record<string, unknown>;
}

export async function measureQueueApi(options: QueueApiBench): Promise<void> {
  const { config, storage } = options;
  const app = createHttpApp({ config, storage, log: createLogger('silent'), telephony: { state: 'connected' }, now: () => options.now });
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
  let baselineInFlight = 0;
  baseline.get('/bench/on-the-fly/queue/:queue_id', async (req, res) => {
    const to = String(req.query['to'] ?? '2026-11-20');
    const range = alignRange('day', addDays(to, -29), to);
    baselineInFlight++;
    try {
      // The API adds the two csat figures to what the rollups give: so does the baseline.
      res.json(withCsatFigures((await options.onTheFly(req.params.queue_id, range.from, range.to)) as { distribution: Distribution }));
    } finally {
      baselineInFlight--;
    }
  });
  const baselineServer: Server = await new Promise((resolve) => {
    const s = baseline.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const rollupUrl = `${base}/cc/csat/queue/queue-3?period=day&days=30`;
  const onTheFlyUrl = `http://127.0.0.1:${(baselineServer.address() as { port: number }).port}/bench/on-the-fly/queue/queue-3`;
  const headers = { 'x-api-key': options.key };
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
  writeResult(options.resultName, {
    machine: machine(),
    ...options.facts,
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
  // Requests a load generator left queued (the on-the-fly side falls behind under load) still run
  // their queries after the sockets close: the caller closes the database only once they are done.
  while (baselineInFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 100));
}
