// A real Asterisk 22 for tests, run from the project's own asterisk-dev/conf. The config is copied
// into a temp ETC dir with only its ports and addresses rewritten (ARI HTTP, SIP, RTP), the
// directories come from the installer's `asterisk-conf` wrapper (a temp RUN dir), and the survey
// prompts from asterisk-dev/make-prompts.sh. Asterisk runs in the foreground as our child process.
//
// What Asterisk did is read from Asterisk itself: an observer ARI application subscribed to every
// channel records its events (playbacks with their media, DTMF, UserEvents, dialplan steps, channel
// lifetimes). Callers are Local channels whose ;2 half is a phone (asterisk-dev: [csat-phone]) and
// sipp over real SIP/RTP (asterisk-dev/sipp/call.sh). Every wait is bounded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import WebSocket from 'ws';
import { REPO_ROOT } from './cli.js';
import { spawnEngine, type EngineProcess } from './engine-process.js';
import { freePort, within } from './wait.js';

export const ASTERISK_DEV = join(REPO_ROOT, 'asterisk-dev');
const CONF_DIR = join(ASTERISK_DEV, 'conf');

/** The ARI user the engine connects as, with the password asterisk-dev/conf/ari.conf gives it. */
/** The survey as shipped (key 1 -> score 5 ... key 5 -> score 1) and the queue that runs it. */
export const SHIPPED_IVR = readFileSync(join(REPO_ROOT, 'ivr', 'csat-survey.toml'), 'utf8');
export const SALES_QUEUE = `
[[queue]]
name = "sales-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "csat-survey"
`;

export const ARI_USER = 'csat';
export const ARI_PASSWORD = ((): string => {
  const section = /^\[csat\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(readFileSync(join(CONF_DIR, 'ari.conf'), 'utf8'))?.[1] ?? '';
  const password = /^password\s*=\s*(\S+)\s*$/m.exec(section)?.[1];
  if (!password) throw new Error('asterisk-dev/conf/ari.conf has no password for the csat user');
  return password;
})();

/** Children of ours that must not outlive the test process (detached ones: their process group). */
const children = new Map<ChildProcess, { group: boolean }>();
/** Temp dirs to remove when the process ends. */
const cleanups: Array<() => void> = [];
let exitHooked = false;

function killChildren(): void {
  for (const [child, { group }] of children) {
    try {
      process.kill(group ? -child.pid! : child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  for (const cleanup of cleanups.splice(0)) {
    try {
      cleanup();
    } catch {
      // best effort
    }
  }
}

/**
 * Kills `child` (and its process group if `group`) when this process ends, however it ends: the
 * test runner stops a file that overruns --test-timeout with a signal, and an Asterisk left behind
 * would keep its ports and CPU.
 */
export function killOnExit(child: ChildProcess, group = false): void {
  children.set(child, { group });
  child.once('exit', () => children.delete(child));
  hookExit();
}

/** Removes a temp dir when this process ends. */
function removeOnExit(dir: string): void {
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  hookExit();
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', killChildren);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killChildren();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false; fails naming `what`. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string | (() => string),
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(intervalMs);
  }
}

/**
 * The first of `count` consecutive UDP ports on loopback that nobody has bound right now (SIP; sipp's
 * media port is followed by its RTCP and video ports). Below Asterisk's RTP ranges (30000-40000).
 */
export async function freeUdpPorts(count: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 4_990);
    const sockets = [];
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      const socket = createSocket('udp4');
      ok = await new Promise<boolean>((resolve) => {
        socket.once('error', () => resolve(false));
        socket.bind(port, '127.0.0.1', () => resolve(true));
      });
      sockets.push(socket);
    }
    for (const socket of sockets) socket.close();
    if (ok) return base;
  }
  throw new Error('no free UDP ports on loopback');
}

let promptsDir: string | undefined;
/**
 * The survey's prompts, made once per test process by asterisk-dev/make-prompts.sh (espeak-ng + sox):
 * DIR/<lang>/csat/*.wav for each language (and DIR/fr/digits).
 */
export function surveyPrompts(): string {
  if (promptsDir) return promptsDir;
  const dir = mkdtempSync(join(tmpdir(), 'cc-csat-prompts-'));
  const made = spawnSync('bash', [join(ASTERISK_DEV, 'make-prompts.sh'), dir], { encoding: 'utf8', timeout: 60_000 });
  if (made.status !== 0) throw new Error(`asterisk-dev/make-prompts.sh failed (${made.status ?? made.signal})\n${made.stdout}\n${made.stderr}`);
  removeOnExit(dir);
  promptsDir = dir;
  return dir;
}

/** One event of Asterisk's, as the observer application received it. */
export interface AriEvent {
  readonly type: string;
  /** Asterisk's own clock. */
  readonly timestamp: string;
  readonly channelId?: string;
  readonly channelName?: string;
  readonly raw: Record<string, any>;
}

const KEPT_EVENTS = new Set([
  'PlaybackStarted',
  'PlaybackContinuing',
  'PlaybackFinished',
  'ChannelDtmfReceived',
  'ChannelUserevent',
  'ChannelCreated',
  'ChannelDestroyed',
  'ChannelHangupRequest',
  'ChannelDialplan',
  'ChannelHold',
  'ChannelUnhold',
]);

/**
 * Everything Asterisk reports about every channel, through an ARI application of the test's own
 * (`subscribeAll`): it never receives StasisStart for the engine's callers, it only watches.
 */
export class AsteriskEvents {
  readonly all: AriEvent[] = [];
  private readonly byChannel = new Map<string, AriEvent[]>();
  private socket: WebSocket | undefined;
  private closed = false;

  /** Connects now and again whenever the stream drops (Asterisk restarted), until `close`. */
  constructor(private readonly url: string) {
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.on('message', (data) => this.record(JSON.parse(String(data)) as Record<string, any>));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket && !this.closed) setTimeout(() => this.connect(), 200);
    });
  }

  /** Waits (bounded) until the event stream is open. */
  async open(timeoutMs = 30_000): Promise<void> {
    await eventually(() => this.socket?.readyState === WebSocket.OPEN, timeoutMs, 'the observer ARI event stream to open', 50);
  }

  private record(raw: Record<string, any>): void {
    if (!KEPT_EVENTS.has(raw['type'])) return;
    const target: string | undefined = raw['playback']?.target_uri;
    const channelId: string | undefined = raw['channel']?.id ?? (target?.startsWith('channel:') ? target.slice('channel:'.length) : undefined);
    const event: AriEvent = { type: raw['type'], timestamp: raw['timestamp'], channelId, channelName: raw['channel']?.name, raw };
    this.all.push(event);
    if (channelId) {
      let list = this.byChannel.get(channelId);
      if (!list) this.byChannel.set(channelId, (list = []));
      list.push(event);
    }
  }

  forChannel(channelId: string): readonly AriEvent[] {
    return this.byChannel.get(channelId) ?? [];
  }

  /** The media the caller heard start, in order (each file of a list counts, as Asterisk reports it). */
  played(channelId: string): string[] {
    return this.forChannel(channelId)
      .filter((event) => event.type === 'PlaybackStarted')
      .map((event) => String(event.raw['playback']?.media_uri));
  }

  /** Keys Asterisk received from the caller on that channel. */
  dtmf(channelId: string): string[] {
    return this.forChannel(channelId)
      .filter((event) => event.type === 'ChannelDtmfReceived')
      .map((event) => String(event.raw['digit']));
  }

  /** The dialplan applications the channel ran, as `App(data)`. */
  dialplan(channelId: string): string[] {
    return this.forChannel(channelId)
      .filter((event) => event.type === 'ChannelDialplan' && event.raw['dialplan_app'])
      .map((event) => `${event.raw['dialplan_app']}(${event.raw['dialplan_app_data'] ?? ''})`);
  }

  userEvents(channelId: string, name: string): Array<Record<string, string>> {
    return this.forChannel(channelId)
      .filter((event) => event.type === 'ChannelUserevent' && event.raw['eventname'] === name)
      .map((event) => event.raw['userevent'] as Record<string, string>);
  }

  destroyed(channelId: string): boolean {
    return this.forChannel(channelId).some((event) => event.type === 'ChannelDestroyed');
  }

  /** Ids of channels created since event `since` whose name starts with `prefix` (e.g. "PJSIP/sipp-"). */
  channelsCreated(prefix: string, since = 0): string[] {
    return this.all
      .slice(since)
      .filter((event) => event.type === 'ChannelCreated' && event.channelName?.startsWith(prefix))
      .map((event) => event.channelId!);
  }

  close(): void {
    this.closed = true;
    this.socket?.terminate();
  }
}

export interface LocalCallOptions {
  /** Becomes CSAT_CALL_ID; the channel ids derive from it. */
  callId: string;
  /** CSAT_AGENT_ID, CSAT_QUEUE_ID (the dialplan defaults them to agent-001 / sales-queue). */
  agentId?: string;
  queueId?: string;
  /** The keys the phone presses (SendDTMF syntax); none: a silent caller. */
  keys?: string;
  /** The phone presses when the test calls `cue(callId)` instead of after CSAT_PHONE_WAIT seconds. */
  cued?: boolean;
  /** Seconds the phone listens after its keys before hanging up itself. */
  listenS?: number;
  /** 'none': bare Stasis(csat), the engine reads the CSAT_* channel variables. */
  stasisArgs?: 'none';
  /** An app tried before csat; the dialplan goes on to csat when Stasis() fails (no engine holds it). */
  stasisFirst?: string;
  /** The dialplan sets CHANNEL(language) to this before Stasis (CSAT_LANGUAGE). */
  language?: string;
}

export interface LocalCall {
  readonly callId: string;
  /** The ;1 half: the caller as Asterisk hands it to Stasis(csat). */
  readonly survey: string;
  /** The ;2 half: the caller's phone, running [csat-phone]. */
  readonly phone: string;
}

export interface SippRun {
  readonly code: number | null;
  /** The end of sipp's output (its final statistics screen). */
  readonly output: string;
}

const OUTPUT_KEEP = 256 * 1024;

export class RealAsterisk {
  readonly ariUrl: string;
  readonly events: AsteriskEvents;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log = '';

  private constructor(
    readonly binary: string,
    readonly dir: string,
    readonly httpPort: number,
    readonly sipPort: number,
  ) {
    this.ariUrl = `http://127.0.0.1:${httpPort}`;
    this.events = new AsteriskEvents(
      `ws://127.0.0.1:${httpPort}/ari/events?app=cc-csat-test-observer&subscribeAll=true&api_key=${encodeURIComponent(`${ARI_USER}:${ARI_PASSWORD}`)}`,
    );
  }

  /** The Asterisk process (the wrapper execs it), for CPU accounting. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get etcDir(): string {
    return join(this.dir, 'etc');
  }

  get runDir(): string {
    return join(this.dir, 'run');
  }

  /** `binary`: the wrapper install.sh prints (CC_CSAT_ASTERISK); `asterisk-conf` sits beside it. */
  static async start(binary: string): Promise<RealAsterisk> {
    const dir = mkdtempSync(join(tmpdir(), 'cc-csat-asterisk-'));
    removeOnExit(dir);
    const asterisk = new RealAsterisk(binary, dir, await freePort(), await freeUdpPorts(1));
    asterisk.writeConfig();
    await asterisk.launch();
    return asterisk;
  }

  private writeConfig(): void {
    const etc = this.etcDir;
    mkdirSync(etc, { recursive: true });
    for (const file of readdirSync(CONF_DIR)) if (file.endsWith('.conf')) copyFileSync(join(CONF_DIR, file), join(etc, file));
    // Only where Asterisk listens changes: ports (and loopback instead of every interface).
    // A random range of 30000-40000: instances side by side rarely overlap, and Asterisk skips a taken port.
    const rtpStart = 30_000 + 2 * Math.floor(Math.random() * 4_000);
    rewrite(join(etc, 'http.conf'), [
      [/^bindport=.*$/m, `bindport=${this.httpPort}`],
      [/^bindaddr=.*$/m, 'bindaddr=127.0.0.1'],
    ]);
    rewrite(join(etc, 'pjsip.conf'), [[/^bind=.*$/m, `bind=127.0.0.1:${this.sipPort}`]]);
    // Two ports per call leg; 200 SIP callers need 400.
    rewrite(join(etc, 'rtp.conf'), [
      [/^rtpstart=.*$/m, `rtpstart=${rtpStart}`],
      [/^rtpend=.*$/m, `rtpend=${rtpStart + 1_998}`],
    ]);
    // asterisk-conf puts the sub-folders of the prompts dir it is given under sounds/en.
    const prompts = surveyPrompts();
    const conf = spawnSync(join(dirname(this.binary), 'asterisk-conf'), [etc, this.runDir, join(prompts, 'en')], { encoding: 'utf8', timeout: 30_000 });
    if (conf.status !== 0) throw new Error(`asterisk-conf failed (${conf.status ?? conf.signal})\n${conf.stdout}\n${conf.stderr}`);
    linkStockSounds(join(this.runDir, 'data', 'sounds', 'en'));
    linkOtherLanguages(prompts, join(this.runDir, 'data', 'sounds'));
  }

  /** Starts `asterisk -C ETC/asterisk.conf -f` and waits until it is fully booted and ARI answers. */
  private async launch(): Promise<void> {
    const child = spawn(this.binary, ['-C', join(this.etcDir, 'asterisk.conf'), '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    killOnExit(child);
    const keep = (chunk: Buffer): void => {
      this.log += chunk.toString();
      if (this.log.length > OUTPUT_KEEP * 2) this.log = this.log.slice(-OUTPUT_KEEP);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await eventually(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Asterisk exited (${child.exitCode ?? child.signalCode})\n${this.output()}`);
        const answer = await this.ari('GET', '/asterisk/info').catch(() => undefined);
        return answer?.ok === true;
      },
      60_000,
      () => `Asterisk's ARI on ${this.ariUrl}\n${this.output()}`,
      200,
    );
    await this.cli('core waitfullybooted');
    await this.events.open();
  }

  output(): string {
    return this.log.slice(-OUTPUT_KEEP).replace(/\x1b\[[0-9;]*m/g, '');
  }

  /** `asterisk -C ETC/asterisk.conf -rx COMMAND`: the CLI of this instance. */
  async cli(command: string, timeoutMs = 30_000): Promise<string> {
    const child = spawn(this.binary, ['-C', join(this.etcDir, 'asterisk.conf'), '-rx', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    const code = await within(new Promise<number | null>((resolve) => child.once('exit', resolve)), timeoutMs, `asterisk -rx "${command}"`).catch((err) => {
      child.kill('SIGKILL');
      throw err;
    });
    if (code !== 0) throw new Error(`asterisk -rx "${command}" exited ${code}\n${out}`);
    return out;
  }

  /** An ARI request as the csat user. */
  async ari(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.ariUrl}/ari${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${ARI_USER}:${ARI_PASSWORD}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  }

  private async ariOk(method: string, path: string, body?: unknown): Promise<any> {
    const answer = await this.ari(method, path, body);
    const text = await answer.text();
    if (!answer.ok) throw new Error(`ARI ${method} ${path}: ${answer.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  /**
   * A survey caller over a Local channel (asterisk-dev: Local/s@csat-phone, its ;1 half running
   * survey@csat-after-queue): the ;1 half enters Stasis(csat,...) and the ;2 half, the phone,
   * presses `keys` (after CSAT_PHONE_WAIT seconds, or when cued), listens, hangs up.
   */
  async originate(options: LocalCallOptions): Promise<LocalCall> {
    const call: LocalCall = { callId: options.callId, survey: `${options.callId}-caller`, phone: `${options.callId}-phone` };
    const variables: Record<string, string> = { CSAT_CALL_ID: options.callId, CSAT_PHONE_LISTEN: String(options.listenS ?? 120) };
    if (options.agentId) variables['CSAT_AGENT_ID'] = options.agentId;
    if (options.queueId) variables['CSAT_QUEUE_ID'] = options.queueId;
    if (options.keys) variables['CSAT_PHONE_KEYS'] = options.keys;
    if (options.cued) variables['CSAT_PHONE_CUE'] = cueName(options.callId);
    if (options.stasisArgs === 'none') variables['CSAT_STASIS_ARGS'] = 'none';
    if (options.stasisFirst) variables['CSAT_STASIS_FIRST'] = options.stasisFirst;
    if (options.language) variables['CSAT_LANGUAGE'] = options.language;
    const query = new URLSearchParams({
      endpoint: 'Local/s@csat-phone',
      context: 'csat-after-queue',
      extension: 'survey',
      priority: '1',
      channelId: call.survey,
      otherChannelId: call.phone,
      timeout: '30',
    });
    await this.ariOk('POST', `/channels?${query}`, { variables });
    return call;
  }

  /** Tells a cued phone to press its keys now. */
  async cue(callId: string): Promise<void> {
    await this.ariOk('POST', `/asterisk/variable?${new URLSearchParams({ variable: cueName(callId), value: '1' })}`);
  }

  /** Hangs a channel up (the caller's phone: the caller hangs up). */
  async hangup(channelId: string): Promise<void> {
    const answer = await this.ari('DELETE', `/channels/${encodeURIComponent(channelId)}`);
    if (!answer.ok && answer.status !== 404) throw new Error(`ARI hangup ${channelId}: ${answer.status} ${await answer.text()}`);
  }

  /** Waits (bounded) until Asterisk reports `media` starting on the channel, `nth` time (1-based). */
  async whenPlaying(channelId: string, media: string, timeoutMs = 60_000, nth = 1): Promise<void> {
    await eventually(
      () => this.events.played(channelId).filter((uri) => uri === media).length >= nth,
      timeoutMs,
      () => `Asterisk to play ${media} on ${channelId} (played so far: ${this.events.played(channelId).join(', ') || 'nothing'})`,
      20,
    );
  }

  /**
   * sipp callers over real SIP and RTP (asterisk-dev/sipp/call.sh: extension 100, the queue, the
   * scripted agent, then `digit` as RFC 4733 events during the question). Resolves when sipp exits.
   */
  async sipp(options: { digit: string; calls?: number; rate?: number; timeoutMs?: number }): Promise<SippRun> {
    const calls = options.calls ?? 1;
    const timeoutMs = options.timeoutMs ?? 120_000;
    return runSippScript(
      join(ASTERISK_DEV, 'sipp', 'call.sh'),
      [
        options.digit,
        `127.0.0.1:${this.sipPort}`,
        ...(await sippCallArgs(calls, options.rate ?? 10)),
        '-timeout', `${Math.ceil(timeoutMs / 1000)}s`,
      ],
      { timeoutMs, what: `sipp (${calls} call(s), key ${options.digit})` },
    );
  }

  /** Stops Asterisk (SIGTERM; SIGKILL if it has not exited within `timeoutMs`). */
  async stop(timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    try {
      await within(this.exited, timeoutMs, 'Asterisk to exit after SIGTERM');
    } catch {
      child.kill('SIGKILL');
      await within(this.exited, 10_000, 'Asterisk to exit after SIGKILL');
    }
  }

  /** Stops Asterisk and starts it again from the same config, ports and run dir. */
  async restart(between?: () => Promise<void>): Promise<void> {
    await this.stop();
    await between?.();
    await this.launch();
  }

  async close(): Promise<void> {
    this.events.close();
    await this.stop();
  }
}

function cueName(callId: string): string {
  return `CSAT_CUE_${callId.replace(/[^A-Za-z0-9]/g, '_')}`;
}

function rewrite(file: string, replacements: Array<[RegExp, string]>): void {
  let text = readFileSync(file, 'utf8');
  for (const [pattern, replacement] of replacements) {
    // asterisk-dev/conf is the source; a setting the tests rely on must be there to be rewritten.
    if (!pattern.test(text)) throw new Error(`${basename(file)} in asterisk-dev/conf has no line matching ${pattern}`);
    text = text.replace(pattern, replacement);
  }
  writeFileSync(file, text);
}

/**
 * asterisk-conf links /usr/share/asterisk/sounds/en/*, but Debian's WAV sounds package alone
 * (without its recommended asterisk-core-sounds-en, which adds that `en` link) installs them under
 * en_US_f_Allison. Without them the agent's Playback(queue-thankyou) and the survey's `digits:N`
 * play nothing. Link them from where they are.
 */
function linkStockSounds(soundsEn: string): void {
  const dangling = join(soundsEn, '*');
  if (!existsSync('/usr/share/asterisk/sounds/en') && lstatExists(dangling)) unlinkSync(dangling);
  if (existsSync(join(soundsEn, 'digits'))) return;
  const root = '/usr/share/asterisk/sounds';
  const source = existsSync(root) ? readdirSync(root).find((name) => name.startsWith('en') && existsSync(join(root, name, 'digits'))) : undefined;
  if (!source) return;
  for (const name of readdirSync(join(root, source))) {
    const link = join(soundsEn, name);
    if (!lstatExists(link)) symlinkSync(join(root, source, name), link);
  }
}

/** Each other language of the prompts dir as sounds/<lang>/<folder> (a folder per link, as asterisk-conf links en's). */
function linkOtherLanguages(prompts: string, sounds: string): void {
  for (const language of readdirSync(prompts)) {
    if (language === 'en') continue;
    mkdirSync(join(sounds, language), { recursive: true });
    for (const folder of readdirSync(join(prompts, language))) {
      const link = join(sounds, language, folder);
      if (!lstatExists(link)) symlinkSync(join(prompts, language, folder), link);
    }
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The engine's SQLite file, read-only, one query at a time (the engine keeps writing to it). */
export function queryDb<T = Record<string, unknown>>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const db = new SqliteDatabase(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/**
 * `cc-csat start` on `tree` (killed when the test process exits), once its /readyz answers 200: the
 * real tier's engine, connected to its Asterisk. `env`: more environment (e.g. a caller hash key).
 */
export async function startReadyEngine(tree: { enginePath: string; dir: string }, env: Record<string, string> = {}): Promise<{ engine: EngineProcess; api: string }> {
  const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir, env });
  killOnExit(engine.child);
  const api = await engine.started(30_000);
  await eventually(
    async () => (await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0)) === 200,
    60_000,
    () => `the engine to be ready (/readyz 200)\n${engine.output().slice(-4000)}`,
    100,
  );
  return { engine, api };
}

/** sipp's options for `calls` callers at `rate` a second from free local ports (SIP, and media: RTP, RTCP and video). */
export async function sippCallArgs(calls: number, rate: number): Promise<string[]> {
  return ['-m', String(calls), '-l', String(calls), '-r', String(rate), '-p', String(await freeUdpPorts(1)), '-mp', String(await freeUdpPorts(4))];
}

/**
 * Runs one of asterisk-dev/sipp's scripts (call.sh, transfer.sh) with `args`, in a temp dir of its
 * own, and resolves when sipp exits, with the end of its output and of its error log. Bounded by
 * `timeoutMs` plus 30 s; sipp dies with the test process whatever happens.
 */
export async function runSippScript(script: string, args: readonly string[], options: { timeoutMs: number; what: string; env?: Record<string, string> }): Promise<SippRun> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-csat-sipp-'));
  removeOnExit(dir);
  // Its own process group, so a test that gives up stops sipp too, not only the shell.
  // TMPDIR: the script's scenario file lands in our dir too, removed even if sipp is killed.
  const child = spawn('sh', [script, ...args], { cwd: dir, env: { ...process.env, ...options.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  killOnExit(child, true);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  try {
    const code = await within(
      new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode))),
      options.timeoutMs + 30_000,
      () => `${options.what} to finish\n${output}`,
    );
    const errors = readdirSync(dir).filter((file) => file.endsWith('_errors.log'));
    const errorLog = errors.map((file) => readFileSync(join(dir, file), 'utf8').slice(-4096)).join('\n');
    return { code, output: `${output.slice(-4096)}${errorLog ? `\nsipp errors:\n${errorLog}` : ''}` };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // exited with its group
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
