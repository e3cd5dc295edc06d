// npm run bench -- real: the engine on a real Asterisk 22 with real SIP callers (sipp, RFC 4733 DTMF
// during the question, through Queue(sales-queue,c) and the scripted agent). Per arrival rate: every
// rating stored?, barge-in (caller's key -> question stopped, from Asterisk's own event timestamps),
// shed callers, and CPU-seconds of the engine and of Asterisk from /proc. Needs CC_CSAT_ASTERISK
// (the wrapper ../shared/asterisk/install.sh prints), sipp, espeak-ng and sox.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ARI_PASSWORD, queryDb, RealAsterisk } from '../test/helpers/real-asterisk.js';
import { writeConfigTree } from '../test/helpers/config-tree.js';
import { spawnEngine } from '../test/helpers/engine-process.js';
import { cpuSeconds, fmt, machine, percentile, TICKS_PER_SECOND, writeResult } from './lib.js';

const ASTERISK = process.env['CC_CSAT_ASTERISK'];
const QUESTION = /^sound:csat\/rate-(intro|keys)$/;

/** [calls, arrivals per second]; the first is the reference load the issue measured. */
// CC_CSAT_BENCH_CPU_ONLY=1 (or profiling): only the warm-up and the CPU round, e.g. to compare two builds.
// CC_CSAT_BENCH_ROUNDS="300x30,400x40": other capacity rounds (callers x arrivals per second).
const ROUNDS: Array<[number, number]> = process.env['CC_CSAT_PROFILE_DIR'] || process.env['CC_CSAT_BENCH_CPU_ONLY']
  ? []
  : process.env['CC_CSAT_BENCH_ROUNDS']
    ? process.env['CC_CSAT_BENCH_ROUNDS'].split(',').map((round) => round.split('x').map(Number) as [number, number])
    : [
        [200, 20],
        [400, 40],
        [600, 60],
      ];

/** CPU-seconds per thread of a process, user and system apart: where a process's CPU goes beyond what a JS profile shows. */
function threadCpu(pid: number): Map<string, { user: number; system: number }> {
  const threads = new Map<string, { user: number; system: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const entry = threads.get(name) ?? { user: 0, system: 0 };
    entry.user += Number(fields[11]) / TICKS_PER_SECOND;
    entry.system += Number(fields[12]) / TICKS_PER_SECOND;
    threads.set(name, entry);
  }
  return threads;
}

function threadCpuDelta(before: ReturnType<typeof threadCpu>, after: ReturnType<typeof threadCpu>): Record<string, { user: number; system: number }> {
  const delta: Record<string, { user: number; system: number }> = {};
  for (const [name, now] of after) {
    const then = before.get(name) ?? { user: 0, system: 0 };
    const user = Number((now.user - then.user).toFixed(2));
    const system = Number((now.system - then.system).toFixed(2));
    if (user + system > 0) delta[name] = { user, system };
  }
  return delta;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  if (!ASTERISK) {
    console.log('real: skipped: set CC_CSAT_ASTERISK to the asterisk wrapper printed by ../shared/asterisk/install.sh');
    return;
  }
  const asterisk = await RealAsterisk.start(ASTERISK);
  const tree = writeConfigTree({
    ariUrl: asterisk.ariUrl,
    ariPassword: ARI_PASSWORD,
    // CC_CSAT_BENCH_REST_TRANSPORT=http: the same rounds with REST over HTTP keep-alive, to compare.
    ariExtra: `rest_transport = "${process.env['CC_CSAT_BENCH_REST_TRANSPORT'] ?? 'auto'}"`,
    logLevel: 'info', // as shipped: the engine's own logging is part of its cost
    queues: '[[queue]]\nname = "sales-queue"\n[queue.after_call]\ncsat_enabled = true\ncsat_ivr = "csat-survey"\n',
    ivrs: { 'csat-survey': readFileSync(new URL('../ivr/csat-survey.toml', import.meta.url), 'utf8') },
  });
  // CC_CSAT_PROFILE_DIR=DIR: the engine writes a V8 CPU profile there when it stops (to see where its CPU goes).
  const profileDir = process.env['CC_CSAT_PROFILE_DIR'];
  const engine = spawnEngine(['start', '--config', tree.enginePath], {
    cwd: tree.dir,
    ...(profileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
  });
  try {
    const api = await engine.started(30_000);
    await until(() => engine.output().includes('"msg":"connected to ARI"'), 30_000, 'the engine to connect');
    const outcomeCount = (): number => queryDb<{ n: number }>(tree.dbPath, 'SELECT count(*) AS n FROM survey_outcome')[0]!.n;
    const enginePid = engine.child.pid!;
    const asteriskPid = asterisk.pid!;

    const runRound = async (calls: number, rate: number, observe: boolean) => {
      const since = asterisk.events.all.length;
      const outcomesBefore = outcomeCount();
      const lastOutcomeBefore = queryDb<{ id: number }>(tree.dbPath, 'SELECT coalesce(max(id), 0) AS id FROM survey_outcome')[0]!.id;
      const ratingsBefore = queryDb<{ n: number }>(tree.dbPath, 'SELECT count(*) AS n FROM cc_csat')[0]!.n;
      const cpuBefore = { engine: cpuSeconds(enginePid), asterisk: cpuSeconds(asteriskPid) };
      const engineThreadsBefore = threadCpu(enginePid);
      const sipp = await asterisk.sipp({ digit: '4', calls, rate, timeoutMs: 300_000 });
      await until(() => outcomeCount() - outcomesBefore >= calls, 120_000, `${calls} survey outcomes`);
      const cpu = { engine: cpuSeconds(enginePid) - cpuBefore.engine, asterisk: cpuSeconds(asteriskPid) - cpuBefore.asterisk };
      const engineThreads = threadCpuDelta(engineThreadsBefore, threadCpu(enginePid));
      const outcomes = queryDb<{ outcome: string; reason: string | null; n: number }>(
        tree.dbPath,
        'SELECT outcome, reason, count(*) AS n FROM survey_outcome WHERE id > ? GROUP BY 1, 2',
        lastOutcomeBefore,
      );
      const stored = queryDb<{ n: number }>(tree.dbPath, 'SELECT count(*) AS n FROM cc_csat')[0]!.n - ratingsBefore;
      const bargeIn: number[] = [];
      if (observe) {
        for (const channel of asterisk.events.channelsCreated('PJSIP/sipp-', since)) {
          const events = asterisk.events.forChannel(channel);
          const key = events.find((event) => event.type === 'ChannelDtmfReceived');
          if (!key) continue;
          const atKey = Date.parse(key.timestamp.replace(/(\d\d)(\d\d)$/, '$1:$2'));
          const stopped = events.find(
            (event) =>
              event.type === 'PlaybackFinished' &&
              QUESTION.test(String(event.raw['playback']?.media_uri)) &&
              Date.parse(event.timestamp.replace(/(\d\d)(\d\d)$/, '$1:$2')) >= atKey,
          );
          if (stopped) bargeIn.push(Date.parse(stopped.timestamp.replace(/(\d\d)(\d\d)$/, '$1:$2')) - atKey);
        }
        bargeIn.sort((a, b) => a - b);
      }
      const result = {
        calls,
        rate_per_s: rate,
        sipp_exit: sipp.code,
        stored,
        outcomes: Object.fromEntries(outcomes.map((row) => [row.reason ? `${row.outcome}:${row.reason}` : row.outcome, row.n])),
        barge_in_ms: observe ? { samples: bargeIn.length, p50: percentile(bargeIn, 50), p99: percentile(bargeIn, 99), max: bargeIn.at(-1) } : null,
        cpu_seconds: { engine: Number(cpu.engine.toFixed(2)), asterisk: Number(cpu.asterisk.toFixed(2)) },
        engine_cpu_ms_per_survey: Number(((cpu.engine * 1000) / calls).toFixed(1)),
        engine_to_asterisk_cpu: Number((cpu.engine / cpu.asterisk).toFixed(3)),
        engine_cpu_by_thread: engineThreads,
        observer: observe,
      };
      console.log(
        `${calls} callers at ${rate}/s: stored ${stored}/${calls}, outcomes ${JSON.stringify(result.outcomes)}, ` +
          (observe ? `barge-in p50 ${fmt(result.barge_in_ms!.p50)} ms p99 ${fmt(result.barge_in_ms!.p99)} ms (${bargeIn.length} samples), ` : '') +
          `CPU engine ${result.cpu_seconds.engine} s / Asterisk ${result.cpu_seconds.asterisk} s = ${result.engine_to_asterisk_cpu}` +
          ` (${result.engine_cpu_ms_per_survey} ms per survey)${observe ? ', with the event observer on Asterisk' : ''}`,
      );
      console.log(`  engine CPU by thread (user/system s): ${Object.entries(engineThreads).map(([name, t]) => `${name} ${t.user}/${t.system}`).join(', ')}`);
      return result;
    };

    const capacity = [];
    for (const [calls, rate] of ROUNDS) {
      const round = await runRound(calls, rate, true);
      capacity.push(round);
      if (round.stored < calls || (round.barge_in_ms?.p99 ?? 0) > 100) break;
    }
    // The CPU ratio without the observer: its event stream costs Asterisk CPU and would flatter the ratio.
    asterisk.events.close();
    // A warm engine, as in production: the JIT has compiled the survey path before the round counts.
    if (capacity.length === 0) await runRound(100, 20, false);
    const cpu = await runRound(200, 20, false);
    const health = await fetch(`${api}/readyz`).then((answer) => answer.status);
    writeResult('real', { machine: machine(), readyz_after: health, capacity, cpu_reference: cpu });
  } finally {
    engine.child.kill('SIGTERM');
    await Promise.race([engine.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    // CC_CSAT_BENCH_ENGINE_LOG=FILE: the engine's own log of the run, to see what it did.
    if (process.env['CC_CSAT_BENCH_ENGINE_LOG']) writeFileSync(process.env['CC_CSAT_BENCH_ENGINE_LOG'], engine.output());
    await asterisk.close();
    rmSync(tree.dir, { recursive: true, force: true });
  }
}

await main();
