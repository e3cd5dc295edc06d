// npm run bench -- sip: the SIP front door (issue 15) on real parts: drachtio-server, one real
// Asterisk 22 media server, the `cc-csat start` process with [sip] (log level warn) and sipp as the
// other PBX (asterisk-dev/sipp/transfer.sh). Per offered rate, the same short calls go once straight
// to Asterisk (Request-URI user csat-survey: the same [csat-frontdoor] dialplan, the same engine
// answering in Stasis) and once through the front door (drachtio-server's SIP port, relayed by the
// engine's B2BUA). Setup time per call: INVITE sent -> 200 OK received, stamped inside sipp. What
// the front door adds is the difference; how many INVITEs a second it relays, the rate of 200 OKs
// coming back as the offered rate steps up. Needs CC_CSAT_ASTERISK and CC_CSAT_DRACHTIO (the
// binaries ../shared/{asterisk,drachtio}/install.sh print), sipp, espeak-ng and sox, and a built
// engine (npm run build: the engine runs dist/).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeConfigTree, type ConfigTree } from '../test/helpers/config-tree.js';
import { DrachtioServer } from '../test/helpers/drachtio.js';
import { ARI_PASSWORD, ASTERISK_DEV, eventually, killOnExit, queryDb, RealAsterisk, runSippScript, SALES_QUEUE, sippCallArgs, SHIPPED_IVR } from '../test/helpers/real-asterisk.js';
import { spawnEngine } from '../test/helpers/engine-process.js';
import { freePort } from '../test/helpers/wait.js';
import { cpuSeconds, fmt, machine, percentile, TICKS_PER_SECOND, writeResult } from './lib.js';

const ASTERISK = process.env['CC_CSAT_ASTERISK'];
const DRACHTIO = process.env['CC_CSAT_DRACHTIO'];
/** Offered rates (calls per second), stepped up; CC_CSAT_BENCH_SIP_RATES="10,50" for others. */
const RATES = (process.env['CC_CSAT_BENCH_SIP_RATES'] ?? '10,25,50,100,125,150,200,300').split(',').map(Number);
/** Each round offers its rate for this long (and at least 100 calls): long enough for a queue to show. */
const ROUND_SECONDS = Number(process.env['CC_CSAT_BENCH_SIP_SECONDS'] ?? 10);
/** How long a caller stays after the ACK before its BYE (the survey then ends abandoned). */
const HOLD_MS = Number(process.env['CC_CSAT_BENCH_SIP_HOLD_MS'] ?? 500);
/** drachtio-server's log level (notice: start-up and trouble only; info: every SIP message too). */
const DRACHTIO_LOG_LEVEL = process.env['CC_CSAT_BENCH_DRACHTIO_LOG_LEVEL'] ?? 'notice';
/** A call whose next message does not come within this is a failed call (sipp -recv_timeout). */
const RECV_TIMEOUT_MS = 15_000;

type Path = 'direct' | 'front_door';

/**
 * asterisk-dev/sipp/pbx-hangup.xml (the PBX's INVITE with X-CSAT-Call-Id, -Agent-Id, -Queue; ACK;
 * the caller's BYE after a pause) with the pause set by sipp -d (HOLD_MS) and the setup time
 * stamped: gettimeofday as the INVITE goes out and as its 200 OK comes in, written to sipp's log
 * (-trace_logs). sipp's own rtd counts whole milliseconds of a clock that moves in 4 ms steps
 * here, too coarse for this.
 */
function setupScenario(): string {
  const hangup = readFileSync(join(ASTERISK_DEV, 'sipp', 'pbx-hangup.xml'), 'utf8');
  const invite = hangup.indexOf('<send');
  const answered = '<recv response="200" rtd="true"/>';
  const pause = /<pause milliseconds="\d+"\/>/;
  if (invite < 0 || !hangup.includes(answered) || !pause.test(hangup)) {
    throw new Error('asterisk-dev/sipp/pbx-hangup.xml no longer has the INVITE, 200 OK and pause this bench stamps');
  }
  const stamp = (what: string): string => `<gettimeofday assign_to="${what}_s,${what}_us"/><log message="${what} [call_number] [$${what}_s] [$${what}_us]"/>`;
  return `${hangup.slice(0, invite)}<nop><action>${stamp('sent')}</action></nop>\n  ${hangup.slice(invite)}`
    .replace(answered, `<recv response="200"><action>${stamp('ok')}</action></recv>`)
    .replace(pause, '<pause/>');
}

interface SippRound {
  readonly code: number | null;
  readonly successful: number;
  readonly failed: number;
  /** sipp's failure counters that moved, e.g. FailedUnexpectedMessage. */
  readonly failures: Record<string, number>;
  /** Every call: when its INVITE was sent (epoch ms) and, if it got its 200 OK, INVITE sent -> 200 OK received (ms). */
  readonly calls: Array<{ sentAt: number; setupMs?: number }>;
  readonly output: string;
}

/**
 * One sipp run (asterisk-dev/sipp/transfer.sh, the PBX, with `scenario`) of `calls` calls at
 * `rate`/s to 127.0.0.1:`port`, Request-URI user `user`; bounded. Its statistics and stamps.
 */
async function runSipp(scenario: string, options: { port: number; user: string; prefix: string; calls: number; rate: number }): Promise<SippRound> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-csat-bench-sipp-'));
  const budgetS = Math.ceil(options.calls / options.rate + (RECV_TIMEOUT_MS + HOLD_MS) / 1000 + 30);
  writeFileSync(join(dir, 'pbx-setup.xml'), scenario);
  try {
    const run = await runSippScript(
      join(ASTERISK_DEV, 'sipp', 'transfer.sh'),
      [
        '1', // no key is pressed: the caller hangs up first
        `127.0.0.1:${options.port}`,
        '-s', options.user,
        ...(await sippCallArgs(options.calls, options.rate)),
        '-d', String(HOLD_MS),
        '-recv_timeout', String(RECV_TIMEOUT_MS),
        '-timeout', `${budgetS}s`,
        '-trace_stat', '-stf', join(dir, 'stat.csv'), '-fd', '1',
        '-trace_logs', '-log_file', join(dir, 'calls.log'),
      ],
      // call.sh reads SCENARIO from its own folder.
      { timeoutMs: budgetS * 1000, what: `sipp (${options.calls} calls at ${options.rate}/s)`, env: { SCENARIO: relative(join(ASTERISK_DEV, 'sipp'), join(dir, 'pbx-setup.xml')), CALL_PREFIX: options.prefix, AGENT: 'agent-bench', QUEUE: 'sales-queue' } },
    );
    // -trace_stat: a header line of counter names, then a line per dump; the last is the final one.
    const [header = '', ...dumps] = readFileSync(join(dir, 'stat.csv'), 'utf8').trim().split('\n');
    const names = header.split(';');
    const last = dumps.at(-1)?.split(';') ?? [];
    const counter = (name: string): number => Number(last[names.indexOf(name)] ?? NaN);
    const failures = Object.fromEntries(names.filter((name) => /^Failed.*\(C\)$/.test(name) && counter(name) > 0).map((name) => [name.slice(0, -3), counter(name)]));
    // -trace_logs: "sent N S US" as INVITE N goes out, "ok N S US" as its 200 OK comes in (sipp prints numbers as floats).
    const sentAt = new Map<string, number>();
    const okAt = new Map<string, number>();
    for (const [, what, call, seconds, micros] of readFileSync(join(dir, 'calls.log'), 'utf8').matchAll(/^(sent|ok) (\d+) (\S+) (\S+)$/gm)) {
      (what === 'sent' ? sentAt : okAt).set(call!, Number(seconds) * 1000 + Number(micros) / 1000);
    }
    const calls = [...sentAt].map(([call, at]) => (okAt.has(call) ? { sentAt: at, setupMs: okAt.get(call)! - at } : { sentAt: at }));
    return { code: run.code, successful: counter('SuccessfulCall(C)'), failed: counter('FailedCall(C)'), failures, calls, output: run.output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The engine's /metrics as name{labels} -> value. */
async function metrics(api: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${api}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes(' ')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

/** What moved in counters named `prefix{...}` between two scrapes: label set -> delta. */
function moved(before: Map<string, number>, after: Map<string, number>, prefix: string): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!key.startsWith(`${prefix}{`)) continue;
    const change = value - (before.get(key) ?? 0);
    if (change !== 0) delta[key.slice(prefix.length)] = change;
  }
  return delta;
}

/** The pid of a child of this process named `comm` (drachtio-server: the helper keeps its process to itself). */
function childPid(comm: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === comm) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no child process named ${comm}`);
}

/**
 * CPU-seconds the whole host has been busy (every core, every process), and those the hypervisor
 * gave to other guests while this one wanted them (steal: a noisy neighbour), from /proc/stat.
 */
function hostCpu(): { host: number; steal: number } {
  // cpu  user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { host: (user! + nice! + system! + irq! + softirq!) / TICKS_PER_SECOND, steal: steal! / TICKS_PER_SECOND };
}

function cpuModel(): string {
  return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
}

async function main(): Promise<void> {
  if (!ASTERISK || !DRACHTIO) {
    console.log('sip-front-door: skipped: set CC_CSAT_ASTERISK and CC_CSAT_DRACHTIO to the binaries ../shared/asterisk/install.sh and ../shared/drachtio/install.sh print');
    return;
  }
  const scenario = setupScenario();
  // drachtio-server at info writes every SIP message it sends and receives (~8 KB a call) to the
  // helper's pipe; like the engine at warn, the default here does not measure logging. The helper
  // writes its own config, so the level comes from the command line, which overrides the file.
  const wrapperDir = mkdtempSync(join(tmpdir(), 'cc-csat-bench-drachtio-'));
  const wrapper = join(wrapperDir, 'drachtio');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${DRACHTIO}' "$@" --loglevel ${DRACHTIO_LOG_LEVEL}\n`, { mode: 0o755 });
  let drachtio: DrachtioServer | undefined;
  let asterisk: RealAsterisk | undefined;
  let stopEngine: (() => Promise<unknown>) | undefined;
  let engineOutput: (() => string) | undefined;
  let tree: ConfigTree | undefined;
  try {
    drachtio = await DrachtioServer.start(wrapper);
    asterisk = await RealAsterisk.start(ASTERISK);
    // The observer's event stream costs Asterisk CPU on every call of both paths: not part of this.
    asterisk.events.close();
    const api = `http://127.0.0.1:${await freePort()}`;
    tree = writeConfigTree({
      httpPort: Number(new URL(api).port),
      ariUrl: asterisk.ariUrl,
      ariPassword: ARI_PASSWORD,
      ariExtra: `sip_uri = "sip:csat-survey@127.0.0.1:${asterisk.sipPort}"`,
      logLevel: 'warn',
      queues: SALES_QUEUE,
      ivrs: { 'csat-survey': SHIPPED_IVR },
      engineExtra: `
[sip]
drachtio_host = "127.0.0.1"
drachtio_port = ${drachtio.adminPort}
secret_env = "BENCH_DRACHTIO_SECRET"

[[sip.peer]]
name = "pbx"
addresses = ["127.0.0.1/32"]
`,
    });
    const dbPath = tree.dbPath;
    // At log level warn the engine does not log "cc-csat started" with its port: the port is ours.
    const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir, env: { BENCH_DRACHTIO_SECRET: drachtio.secret } });
    killOnExit(engine.child);
    engineOutput = engine.output;
    stopEngine = () => engine.stop('SIGTERM', 30_000).catch(() => engine.child.kill('SIGKILL'));
    const ready = async (): Promise<boolean> => (await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200;
    await eventually(() => ready().catch(() => false), 60_000, () => `the engine ready (ARI and drachtio-server connected)\n${engine.output()}`, 200);
    const pids = { engine: engine.child.pid!, drachtio: childPid('drachtio'), asterisk: asterisk.pid! };
    const cpuNow = (): Record<string, number> => ({ ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)])), ...hostCpu() });
    const target: Record<Path, { port: number; user: string }> = {
      direct: { port: asterisk.sipPort, user: 'csat-survey' },
      front_door: { port: drachtio.sipPort, user: 'csat' },
    };
    /** The engine's log lines (warn and above) since `from` lines, counted by message. */
    const engineWarnings = (from: number): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const line of engine.logLines().slice(from)) counts[String(line['msg'])] = (counts[String(line['msg'])] ?? 0) + 1;
      return counts;
    };

    /** Waits (bounded) until no survey is live and no relayed call open; false if some still are after 90 s. */
    const drained = (): Promise<boolean> =>
      eventually(
        async () => {
          const now = await metrics(api);
          return now.get('cc_csat_surveys_live') === 0 && now.get('cc_csat_sip_calls_live') === 0;
        },
        90_000,
        'every call of the round to end',
        200,
      ).catch((err: Error) => (console.log(`  ${err.message}`), false));

    const round = async (path: Path, rate: number, calls: number, prefix: string) => {
      await sleep(1_000);
      const load = loadavg()[0]!;
      const before = await metrics(api);
      const logFrom = engine.logLines().length;
      const cpuBefore = cpuNow();
      const sipp = await runSipp(scenario, { ...target[path], prefix, calls, rate });
      // Calls sipp gave up on may keep a survey until the IVR's own timeouts end it: noted, not fatal.
      // The CPU counts until then: the engine's and Asterisk's work for a call goes on after its BYE.
      const ended = await drained();
      const after = await metrics(api);
      const cpu = Object.fromEntries(Object.entries(cpuNow()).map(([name, now]) => [name, Number((now - cpuBefore[name]!).toFixed(2))]));
      // The host's busy CPU beyond those three: sipp, this process, and anything else running (another job on a shared host).
      cpu['rest'] = Number((cpu['host']! - cpu['engine']! - cpu['drachtio']! - cpu['asterisk']!).toFixed(2));
      const outcomes = queryDb<{ outcome: string; reason: string | null; n: number }>(
        dbPath,
        'SELECT outcome, reason, count(*) AS n FROM survey_outcome WHERE call_id LIKE ? GROUP BY 1, 2',
        `${prefix}-%`,
      );
      const answered = sipp.calls.filter((call): call is { sentAt: number; setupMs: number } => call.setupMs !== undefined);
      const setup = answered.map((call) => call.setupMs).sort((a, b) => a - b);
      const sent = sipp.calls.map((call) => call.sentAt).sort((a, b) => a - b);
      const lastAnswer = Math.max(...answered.map((call) => call.sentAt + call.setupMs));
      const engineSetup = { s: (after.get('cc_csat_sip_setup_seconds_sum') ?? 0) - (before.get('cc_csat_sip_setup_seconds_sum') ?? 0), n: (after.get('cc_csat_sip_setup_seconds_count') ?? 0) - (before.get('cc_csat_sip_setup_seconds_count') ?? 0) };
      const result = {
        path,
        rate_per_s: rate,
        // What sipp really offered: its INVITEs over the time they were sent in.
        sent_per_s: sent.length > 1 ? Number(((sent.length - 1) / ((sent.at(-1)! - sent[0]!) / 1000)).toFixed(1)) : NaN,
        // What came through: 200 OKs from the first INVITE to the last 200 OK (below the offered rate: a queue grew).
        answered_per_s: answered.length > 1 ? Number((answered.length / ((lastAnswer - sent[0]!) / 1000)).toFixed(1)) : NaN,
        calls,
        drained_after: ended,
        load_avg_1m_before: Number(load.toFixed(2)),
        sipp_exit: sipp.code,
        ok: sipp.successful,
        failed: sipp.failed,
        sipp_failures: sipp.failures,
        setup_ms: { samples: setup.length, p50: percentile(setup, 50), p90: percentile(setup, 90), p99: percentile(setup, 99), max: setup.at(-1) ?? NaN },
        invites: moved(before, after, 'cc_csat_sip_invites_total'),
        relay_failures: moved(before, after, 'cc_csat_sip_relay_failures_total'),
        // The engine's own view (cc_csat_sip_setup_seconds): its INVITE handler starting -> the media server's 200 OK.
        engine_setup_mean_ms: engineSetup.n > 0 ? Number(((engineSetup.s * 1000) / engineSetup.n).toFixed(2)) : null,
        outcomes: Object.fromEntries(outcomes.map((row) => [row.reason ? `${row.outcome}:${row.reason}` : row.outcome, row.n])),
        cpu_seconds: cpu,
        engine_warnings: engineWarnings(logFrom),
      };
      console.log(
        `  ${path.padEnd(10)} ${calls} at ${rate}/s (sent ${result.sent_per_s}/s, answered ${result.answered_per_s}/s, load ${result.load_avg_1m_before}): ok ${result.ok}, failed ${result.failed}${result.failed ? ` ${JSON.stringify(result.sipp_failures)}` : ''}; ` +
          `setup p50 ${fmt(result.setup_ms.p50)} ms, p99 ${fmt(result.setup_ms.p99)} ms, max ${fmt(result.setup_ms.max)} ms; ` +
          `front door INVITEs ${JSON.stringify(result.invites)}, engine-side setup mean ${result.engine_setup_mean_ms ?? '-'} ms; CPU s ${JSON.stringify(cpu)}`,
      );
      if (Object.keys(result.engine_warnings).length > 0) console.log(`    engine warnings: ${JSON.stringify(result.engine_warnings)}`);
      if (result.failed > 0 || sipp.code !== 0) console.log(sipp.output.split('\n').filter((line) => /error|fail|unexpected|timeout|aborted/i.test(line)).slice(-8).join('\n'));
      return result;
    };

    const run = Date.now().toString(36);
    // Warm-up, not counted: the engine's JIT, Asterisk's prompts in cache, both paths once.
    for (const path of ['direct', 'front_door'] as const) await round(path, 10, 50, `warm-${run}-${path}`);
    type Round = Awaited<ReturnType<typeof round>>;
    const rounds: Array<{ rate_per_s: number; direct: Round; front_door: Round; added_ms: { p50: number; p99: number }; ratio: { p50: number; p99: number } }> = [];
    /** Every call relayed, and 200 OKs coming back as fast as INVITEs went out (no queue growing). */
    const keptUp = (entry: Round): boolean => entry.ok === entry.calls && entry.failed === 0 && entry.answered_per_s >= 0.95 * entry.sent_per_s;
    for (const [index, rate] of RATES.entries()) {
      const calls = Math.max(100, Math.round(rate * ROUND_SECONDS));
      console.log(`${rate} calls/s, ${calls} calls each path:`);
      // Each path goes first every other rate: neither always meets a host still busy with the other's round.
      const order: Path[] = index % 2 === 0 ? ['direct', 'front_door'] : ['front_door', 'direct'];
      const byPath: Partial<Record<Path, Round>> = {};
      for (const path of order) byPath[path] = await round(path, rate, calls, `bench-${run}-${rate}-${path}`);
      const direct = byPath.direct!;
      const frontDoor = byPath.front_door!;
      const added = { p50: frontDoor.setup_ms.p50 - direct.setup_ms.p50, p99: frontDoor.setup_ms.p99 - direct.setup_ms.p99 };
      const ratio = { p50: frontDoor.setup_ms.p50 / direct.setup_ms.p50, p99: frontDoor.setup_ms.p99 / direct.setup_ms.p99 };
      console.log(`  added by the front door: p50 ${fmt(added.p50)} ms (${ratio.p50.toFixed(2)}x), p99 ${fmt(added.p99)} ms (${ratio.p99.toFixed(2)}x)`);
      rounds.push({ rate_per_s: rate, direct, front_door: frontDoor, added_ms: added, ratio: { p50: Number(ratio.p50.toFixed(2)), p99: Number(ratio.p99.toFixed(2)) } });
      // Up to the first rate at which the front door lost calls: higher ones only overload the host for longer.
      if (frontDoor.ok < frontDoor.calls || frontDoor.failed > 0) break;
    }
    const highestWhere = (ok: (entry: Round) => boolean): number | null => {
      const first = rounds.findIndex((entry) => !ok(entry.front_door));
      return (first < 0 ? rounds : rounds.slice(0, first)).at(-1)?.rate_per_s ?? null;
    };
    const allRelayed = highestWhere((entry) => entry.ok === entry.calls && entry.failed === 0);
    const keptUpTo = highestWhere(keptUp);
    const mostAnswered = Math.max(...rounds.map((entry) => entry.front_door.answered_per_s));
    console.log(
      `front door: every call relayed up to ${allRelayed ?? 'none'}/s offered; kept up (no queue) up to ${keptUpTo ?? 'none'}/s; ` +
        `most 200 OKs relayed per second in a round: ${mostAnswered}/s`,
    );
    writeResult(DRACHTIO_LOG_LEVEL === 'notice' ? 'sip-front-door' : `sip-front-door-drachtio-${DRACHTIO_LOG_LEVEL}`, {
      machine: { ...machine(), cpu_model: cpuModel() },
      media_servers: 1,
      round_seconds: ROUND_SECONDS,
      hold_ms: HOLD_MS,
      engine_log_level: 'warn',
      drachtio_log_level: DRACHTIO_LOG_LEVEL,
      highest_rate_all_relayed_per_s: allRelayed,
      highest_rate_kept_up_per_s: keptUpTo,
      most_answered_per_s: mostAnswered,
      rounds,
    });
  } finally {
    await stopEngine?.();
    // CC_CSAT_BENCH_ENGINE_LOG=FILE: the engine's own log (warn and above) of the run, to see what went wrong.
    if (process.env['CC_CSAT_BENCH_ENGINE_LOG']) writeFileSync(process.env['CC_CSAT_BENCH_ENGINE_LOG'], engineOutput?.() ?? '');
    await asterisk?.close();
    await drachtio?.stop();
    rmSync(wrapperDir, { recursive: true, force: true });
    if (tree) rmSync(tree.dir, { recursive: true, force: true });
  }
}

await main();
