// A running survey engine (controller + real ari-client adapter + real SQLite file) against the
// ARI simulator, plus a scripted caller. Everything talks over real loopback HTTP and WebSocket.
import { readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { loadConfig, type AppConfig } from '../../src/config/load.js';
import type { OpenDatabase } from '../../src/db/sqlite/open.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/ports.js';
import { createPostgresDatabase } from './postgres.js';
import { buildAriSurveyEngine } from '../../src/ari-survey-engine.js';
import type { AriTelephony } from '../../src/ari/ari-telephony.js';
import { createLogger, type Logger } from '../../src/log.js';
import { DEFAULT_ARI_SERVER_NAME } from '../../src/config/schema.js';
import { Metrics } from '../../src/metrics.js';
import type { SurveyController } from '../../src/survey/controller.js';
import type { TelephonyReadiness } from '../../src/telephony/port.js';
import { AriSimulator, type SimChannel, type SimOptions } from '../ari-sim/simulator.js';
import { writeConfigTree, type ConfigTree } from './config-tree.js';
import { until } from './wait.js';

export type CallerAction =
  | { at: number; press?: string; hangup?: boolean }
  | { whenPlaying: string; nth?: number; after?: number; press?: string; hangup?: boolean };

export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly stream = new Writable({
    write: (chunk, _enc, done) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) this.lines.push(JSON.parse(line));
      done();
    },
  });
}

export interface Harness {
  sim: AriSimulator;
  tree: ConfigTree;
  config: AppConfig;
  /** The engine's storage, and Kysely on it for checking rows (either database). */
  storage: Storage & { db: Kysely<Database> };
  /** The SQLite file's handles (a SQLite-only test; throws on PostgreSQL). */
  readonly database: OpenDatabase;
  controller: SurveyController;
  /** The first server's ("asterisk", on `sim`). */
  telephony: AriTelephony;
  /** Every server by name, "asterisk" first, then the `extraServers`: each its own simulator. */
  servers: ReadonlyMap<string, { sim: AriSimulator; telephony: AriTelephony }>;
  /** What /readyz reports about the servers. */
  readiness: TelephonyReadiness;
  logs: LogCapture;
  log: Logger;
  metrics: Metrics;
  /** Resolves when the controller has finished with that channel (outcome recorded); default server "asterisk". */
  surveyDone(channelId: string, server?: string): Promise<void>;
  /** A caller enters Stasis (on `server`, default "asterisk") and follows the script; resolves when the survey is fully settled. */
  call(options: { args?: string[]; variables?: Record<string, string>; script?: CallerAction[]; id?: string; server?: string }): Promise<SimChannel>;
  close(): Promise<void>;
}

export function followScript(sim: AriSimulator, channel: SimChannel, script: CallerAction[]): () => void {
  const timers: NodeJS.Timeout[] = [];
  const act = (action: { press?: string; hangup?: boolean }): void => {
    for (const digit of action.press ?? '') sim.press(channel, digit);
    if (action.hangup) sim.callerHangup(channel);
  };
  const listeners: Array<(ch: SimChannel, media: readonly string[]) => void> = [];
  for (const action of script) {
    if ('at' in action) {
      timers.push(setTimeout(() => act(action), action.at));
    } else {
      let seen = 0;
      const listener = (ch: SimChannel, media: readonly string[]): void => {
        if (ch !== channel || !media.some((uri) => uri.includes(action.whenPlaying))) return;
        seen++;
        if (seen !== (action.nth ?? 1)) return;
        timers.push(setTimeout(() => act(action), action.after ?? 0));
      };
      listeners.push(listener);
      sim.onPlaybackStarted.add(listener);
    }
  }
  return () => {
    timers.forEach(clearTimeout);
    listeners.forEach((listener) => sim.onPlaybackStarted.delete(listener));
  };
}

export async function startHarness(
  options: {
    sim?: SimOptions;
    queues?: string;
    ivrs?: Record<string, string>;
    engineExtra?: string;
    /** Lines under [database], e.g. lock_wait_ms. */
    databaseExtra?: string;
    /** Lines under [ari], e.g. request_timeout_ms or the admission bounds. */
    ariExtra?: string;
    /** Runs after the simulator is up and before the engine connects to it. */
    beforeConnect?: (sim: AriSimulator) => void;
    /** Names of more Asterisk servers: [[ari]] entries, each on a simulator of its own (same sim options). */
    extraServers?: readonly string[];
    /** Default SQLite; 'postgres' runs on a fresh database of the PostgreSQL tier's server. */
    database?: 'sqlite' | 'postgres';
  } = {},
): Promise<Harness> {
  const postgres = options.database === 'postgres' ? await createPostgresDatabase('harness') : undefined;
  const sim = await new AriSimulator({ username: 'csat', password: 'secret', ...options.sim }).start();
  options.beforeConnect?.(sim);
  const sims = new Map([[DEFAULT_ARI_SERVER_NAME, sim]]);
  for (const name of options.extraServers ?? []) sims.set(name, await new AriSimulator({ username: 'csat', password: 'secret', ...options.sim }).start());
  const tree = writeConfigTree({ ...(postgres ? { databaseUrl: postgres.url } : {}), ariUrl: sim.url, queues: options.queues, ivrs: options.ivrs, engineExtra: options.engineExtra, databaseExtra: options.databaseExtra, ariExtra: options.ariExtra });
  if (sims.size > 1) asServerList(tree.enginePath, sims, options.ariExtra);
  const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
  const storage = (await openStorage(config.database, { lockWaitMs: config.engine.database.lock_wait_ms })) as Storage & { db: Kysely<Database>; database?: OpenDatabase };
  const sqlite = storage.database;
  await storage.migrate();
  // As `cc-csat start` serves: no statement waits for a lock inside SQLite.
  storage.serving();
  const logs = new LogCapture();
  const log = createLogger('debug', logs.stream);
  const metrics = new Metrics({ processMetrics: false });
  // By server and channel: two servers may well name a channel alike.
  const done = new Map<string, Promise<void>>();
  const waiters = new Map<string, (p: Promise<void>) => void>();
  const callKey = (server: string, channelId: string): string => `${server}/${channelId}`;
  // Built as `cc-csat start` builds it, from the same [ari] config: tests run what users run.
  const engine = buildAriSurveyEngine({
    servers: config.ariServers,
    storage,
    engineId: config.engineId,
    queues: config.queues,
    ivrs: config.ivrs,
    log,
    metrics,
    overrides: {
      reconnectMaxDelayMs: 1000,
      ariLog: log,
      onCallHandled: (channelId, survey, server) => {
        done.set(callKey(server, channelId), survey);
        waiters.get(callKey(server, channelId))?.(survey);
      },
    },
  });
  const { controller, telephony } = engine;
  engine.start();
  for (const each of sims.values()) await each.waitForClients(1);
  await until(() => engine.readiness.state === 'connected', 10_000, 'the engine to report connected');
  const servers = new Map(engine.telephonies.map((each) => [each.server, { sim: sims.get(each.server)!, telephony: each }]));

  const surveyDone = (channelId: string, server: string = DEFAULT_ARI_SERVER_NAME): Promise<void> =>
    done.get(callKey(server, channelId)) ??
    new Promise<Promise<void>>((resolve) => waiters.set(callKey(server, channelId), resolve)).then((p) => p);

  return {
    sim,
    tree,
    config,
    storage,
    get database(): OpenDatabase {
      if (!sqlite) throw new Error('this test reads SQLite handles: run it on SQLite');
      return sqlite;
    },
    controller,
    telephony,
    servers,
    readiness: engine.readiness,
    logs,
    log,
    metrics,
    surveyDone,
    async call({ args, variables, script = [], id, server = DEFAULT_ARI_SERVER_NAME }) {
      const on = sims.get(server)!;
      const channel = on.enterStasis({ args, variables, id });
      const stop = followScript(on, channel, script);
      try {
        await surveyDone(channel.id, server);
      } finally {
        stop();
      }
      return channel;
    },
    async close() {
      await engine.stop();
      for (const each of sims.values()) await each.close();
      await storage.close();
      await postgres?.drop();
    },
  };
}

/** Rewrites the tree's [ari] table as [[ari]] entries, one per simulator, the first named "asterisk". */
function asServerList(enginePath: string, sims: ReadonlyMap<string, AriSimulator>, ariExtra = ''): void {
  const [first, ...more] = [...sims.keys()];
  const entries = more.map(
    (name) =>
      `\n[[ari]]\nname = "${name}"\nurl = "${sims.get(name)!.url}"\nusername = "csat"\npassword = "secret"\napp = "csat"\nreconnect_max_delay_ms = 1000\n${ariExtra}\n`,
  );
  const text = readFileSync(enginePath, 'utf8').replace('[ari]\n', `[[ari]]\nname = "${first}"\n`);
  writeFileSync(enginePath, text + entries.join(''));
}
