// Target 3: 1,000 concurrent surveys through the ARI simulator, every rating stored; DTMF-to-stored
// time (p50/p99), event-loop delay and memory per live survey; then more load, to find where the
// engine stops keeping up and what limits it. Run with --expose-gc (npm run bench does).
import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'kysely';
import { buildAriSurveyEngine } from '../src/ari-survey-engine.js';
import { loadConfig } from '../src/config/load.js';
import { startCheckpointer } from '../src/db/sqlite/checkpointer.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createLogger } from '../src/log.js';
import { Metrics } from '../src/metrics.js';
import { writeConfigTree } from '../test/helpers/config-tree.js';
import { fmt, machine, percentile, writeResult } from './lib.js';

const LEVELS = (process.env['BENCH_CONTROLLER_LEVELS'] ?? '250,1000,2000,3000,4000').split(',').map(Number);
const ARRIVAL_MS = 1000;
const gc = (globalThis as { gc?: () => void }).gc;

const IVR = `
playback_guard_ms = 30000
max_duration_ms = 120000

[[step]]
id = "ask"
type = "collect"
prompt = ["sound:bench/q1", "sound:bench/q2"]
digits = "12345"
scores = { "1" = 5, "2" = 4, "3" = 3, "4" = 2, "5" = 1 }
timeout_ms = 5000
max_retries = 0
next = "confirm"

[[step]]
id = "confirm"
type = "confirm"
media = ["sound:bench/you-pressed", "digits:{digit}"]

[[step]]
id = "thanks"
type = "play"
media = ["sound:bench/thanks"]
`;

const QUEUES = Array.from({ length: 10 }, (_, i) => `[[queue]]\nname = "queue-${i}"\n[queue.after_call]\ncsat_enabled = true\ncsat_ivr = "bench"\n`).join('\n');

function summarizeProfile(profile: { nodes: Array<{ id: number; callFrame: { url: string; functionName: string } }>; samples: number[]; timeDeltas: number[] }): Array<[string, number]> {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byPackage = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const frame = nodes.get(id)!.callFrame;
    const url = frame.url;
    const key = url.includes('node_modules/') ? url.split('node_modules/')[1]!.split('/')[0]! : url.startsWith('node:') ? url : url ? `cc-csat ${url.split('/src/')[1] ?? url}` : `(${frame.functionName})`;
    byPackage.set(key, (byPackage.get(key) ?? 0) + profile.timeDeltas[index]!);
  });
  const total = [...byPackage.values()].reduce((a, b) => a + b, 0);
  return [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([key, value]) => [key, (100 * value) / total]);
}

async function main(): Promise<void> {
  const child = fork(new URL('./sim-callers.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'] });
  const messages: Array<(message: any) => void> = [];
  child.on('message', (message) => messages.shift()?.(message));
  const next = (): Promise<any> => new Promise((resolve) => messages.push(resolve));
  const ready = await next();

  const tree = writeConfigTree({ ariUrl: ready.url, queues: QUEUES, ivrs: { bench: IVR } });
  const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
  if (config.database.kind !== 'sqlite') throw new Error('the controller benchmark needs a sqlite: [database] url');
  const storage = openSqliteStorage(config.database.path, { walAutocheckpointPages: 20_000 });
  const database = storage.database;
  await storage.migrate();
  const log = createLogger('silent');
  const checkpointer = startCheckpointer(database.path, 1000, log);
  let dtmfToStored: number[] = [];
  let peakLive = 0;
  // The engine as `cc-csat start` builds it, but without overload admission: this benchmark looks for
  // the load at which the engine stops keeping up, which refusing callers would hide.
  const { controller, claims, telephony } = buildAriSurveyEngine({
    servers: config.ariServers,
    storage,
    engineId: config.engineId,
    queues: config.queues,
    ivrs: config.ivrs,
    log,
    metrics: new Metrics({ processMetrics: false }),
    overrides: {
      admission: false,
      observer: {
        surveyStarted: () => {
          peakLive = Math.max(peakLive, controller.liveCount);
        },
        ratingStored: (_score, ms) => dtmfToStored.push(ms),
      },
    },
  });
  telephony.start();
  while (telephony.state !== 'connected') await new Promise((resolve) => setTimeout(resolve, 10));

  const rounds: Record<string, unknown>[] = [];
  let topProfile: Array<[string, number]> = [];
  for (const [index, calls] of LEVELS.entries()) {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    dtmfToStored = [];
    peakLive = 0;
    let heapAtPeak = 0;
    const sampler = setInterval(() => {
      // Sample memory while every survey is live (the question lasts 4 s, keys come after 1 s).
      if (controller.liveCount >= calls * 0.98 && heapAtPeak === 0) {
        gc?.();
        heapAtPeak = process.memoryUsage().heapUsed;
      }
    }, 50);
    const profiling = index === LEVELS.length - 1;
    const session = profiling ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const cpuBefore = process.cpuUsage();
    const prefix = `r${index}`;
    child.send({ kind: 'run', prefix, calls, arrivalMs: ARRIVAL_MS });
    const done = await Promise.race([next(), new Promise((resolve) => setTimeout(() => resolve({ kind: 'timeout' }), 90_000))]) as any;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    loop.disable();
    if (session) {
      const { profile } = (await session.post('Profiler.stop')) as any;
      topProfile = summarizeProfile(profile);
      session.disconnect();
    }
    while (controller.liveCount > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const stored = Number(
      (await sql<{ n: number }>`SELECT count(*) AS n FROM cc_csat WHERE call_id LIKE ${`${prefix}-%`}`.execute(database.db)).rows[0]!.n,
    );
    const outcomes = (await sql<{ outcome: string; n: number }>`SELECT outcome, count(*) AS n FROM survey_outcome WHERE call_id LIKE ${`${prefix}-%`} GROUP BY outcome`.execute(database.db)).rows;
    dtmfToStored.sort((a, b) => a - b);
    const reaction = ((done.reactionMs ?? []) as number[]).sort((a, b) => a - b);
    const round = {
      concurrent_surveys: calls,
      peak_live: peakLive,
      stored,
      all_stored: stored === calls,
      outcomes: Object.fromEntries(outcomes.map((row) => [row.outcome, row.n])),
      wall_s: (done.wallMs ?? NaN) / 1000,
      engine_cpu_s: (cpu.user + cpu.system) / 1e6,
      dtmf_to_stored_p50_ms: percentile(dtmfToStored, 50),
      dtmf_to_stored_p99_ms: percentile(dtmfToStored, 99),
      press_to_confirm_p50_ms: percentile(reaction, 50),
      press_to_confirm_p99_ms: percentile(reaction, 99),
      event_loop_delay_p50_ms: loop.percentile(50) / 1e6,
      event_loop_delay_p99_ms: loop.percentile(99) / 1e6,
      event_loop_delay_max_ms: loop.max / 1e6,
      heap_per_live_survey_kb: heapAtPeak > 0 ? (heapAtPeak - heapBefore) / peakLive / 1024 : null,
    };
    rounds.push(round);
    console.log(
      `${String(calls).padStart(5)} surveys: stored ${stored}/${calls}, peak live ${peakLive} | DTMF->stored p50 ${fmt(round.dtmf_to_stored_p50_ms)} ms p99 ${fmt(round.dtmf_to_stored_p99_ms)} ms` +
        ` | press->confirm heard p50 ${fmt(round.press_to_confirm_p50_ms)} ms p99 ${fmt(round.press_to_confirm_p99_ms)} ms | loop delay p99 ${fmt(round.event_loop_delay_p99_ms)} ms max ${fmt(round.event_loop_delay_max_ms)} ms` +
        ` | heap/survey ${round.heap_per_live_survey_kb === null ? 'n/a' : `${round.heap_per_live_survey_kb.toFixed(1)} KB`} | engine CPU ${round.engine_cpu_s.toFixed(1)} s over ${round.wall_s.toFixed(1)} s`,
    );
  }
  console.log(`CPU profile of the engine at ${LEVELS.at(-1)} surveys:`);
  for (const [key, share] of topProfile) console.log(`  ${share.toFixed(1).padStart(5)}%  ${key}`);
  writeResult('controller', { machine: machine(), arrival_ms: ARRIVAL_MS, question_ms: 4000, rounds, profile_top: topProfile });

  await telephony.stop();
  await claims.stop();
  await checkpointer.stop();
  await storage.close();
  child.send({ kind: 'stop' });
}

await main();
