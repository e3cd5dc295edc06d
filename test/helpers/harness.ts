// A running survey engine (controller + real ari-client adapter + real SQLite file) against the
// ARI simulator, plus a scripted caller. Everything talks over real loopback HTTP and WebSocket.
import { Writable } from 'node:stream';
import { loadConfig, type AppConfig } from '../../src/config/load.js';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { buildAriSurveyEngine } from '../../src/ari-survey-engine.js';
import type { AriTelephony } from '../../src/ari/ari-telephony.js';
import { createLogger, type Logger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import type { SurveyController } from '../../src/survey/controller.js';
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
  database: OpenDatabase;
  controller: SurveyController;
  telephony: AriTelephony;
  logs: LogCapture;
  log: Logger;
  metrics: Metrics;
  /** Resolves when the controller has finished with that channel (outcome recorded). */
  surveyDone(channelId: string): Promise<void>;
  /** A caller enters Stasis and follows the script; resolves when the survey is fully settled. */
  call(options: { args?: string[]; variables?: Record<string, string>; script?: CallerAction[]; id?: string }): Promise<SimChannel>;
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
  } = {},
): Promise<Harness> {
  const sim = await new AriSimulator({ username: 'csat', password: 'secret', ...options.sim }).start();
  options.beforeConnect?.(sim);
  const tree = writeConfigTree({ ariUrl: sim.url, queues: options.queues, ivrs: options.ivrs, engineExtra: options.engineExtra, databaseExtra: options.databaseExtra, ariExtra: options.ariExtra });
  const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
  const database = openDatabase(config.sqlitePath, { lockWaitMs: config.engine.database.lock_wait_ms });
  await migrate(database.db);
  // As `cc-csat start` serves: no statement waits for a lock inside SQLite.
  database.writes.neverBlockOnLocks();
  const logs = new LogCapture();
  const log = createLogger('debug', logs.stream);
  const metrics = new Metrics({ processMetrics: false });
  const done = new Map<string, Promise<void>>();
  const waiters = new Map<string, (p: Promise<void>) => void>();
  // Built as `cc-csat start` builds it, from the same [ari] config: tests run what users run.
  const { controller, telephony } = buildAriSurveyEngine({
    ari: config.engine.ari,
    ariPassword: 'secret',
    database,
    queues: config.queues,
    ivrs: config.ivrs,
    log,
    metrics,
    overrides: {
      url: sim.url,
      reconnectMaxDelayMs: 1000,
      ariLog: log,
      onCallHandled: (channelId, survey) => {
        done.set(channelId, survey);
        waiters.get(channelId)?.(survey);
      },
    },
  });
  telephony.start();
  await sim.waitForClients(1);
  await until(() => telephony.state === 'connected', 10_000, 'the engine to report connected');

  const surveyDone = (channelId: string): Promise<void> =>
    done.get(channelId) ?? new Promise<Promise<void>>((resolve) => waiters.set(channelId, resolve)).then((p) => p);

  return {
    sim,
    tree,
    config,
    database,
    controller,
    telephony,
    logs,
    log,
    metrics,
    surveyDone,
    async call({ args, variables, script = [], id }) {
      const channel = sim.enterStasis({ args, variables, id });
      const stop = followScript(sim, channel, script);
      try {
        await surveyDone(channel.id);
      } finally {
        stop();
      }
      return channel;
    },
    async close() {
      await telephony.stop();
      await sim.close();
      await database.close();
    },
  };
}
