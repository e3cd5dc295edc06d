// `cc-csat start`'s config reloading: SIGHUP and changes in the config directories re-read queues
// and IVRs (config/reloader.ts); new callers get them through `holder`, running surveys keep theirs.
import type { AppConfig } from './config/load.js';
import { watchConfigDirectories } from './config/config-watcher.js';
import { ConfigReloader } from './config/reloader.js';
import { TeamsHolder } from './config/teams.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { SurveyConfigHolder } from './survey/survey-config.js';

export interface LiveConfig {
  readonly holder: SurveyConfigHolder;
  readonly reloader: ConfigReloader;
  /** The API's teams: follows reloads like the queues and IVRs. */
  readonly teams: TeamsHolder;
  /** Called after each reload that applied new config (e.g. to forget which sounds exist: new IVRs name others). */
  afterApplied(listener: () => void): void;
  /** Stops watching and listening for SIGHUP (shutdown). */
  stop(): void;
}

export function startLiveConfig(options: { running: AppConfig; load: () => AppConfig; cwd: string; log: Logger; metrics: Metrics }): LiveConfig {
  const { running, log, metrics } = options;
  const holder = new SurveyConfigHolder(running);
  const teams = new TeamsHolder(running.teams);
  const applied = new Set<() => void>();
  const reloader = new ConfigReloader({
    running,
    load: options.load,
    cwd: options.cwd,
    holder,
    teams,
    log,
    onReload: (result, loadedAt) => {
      metrics.configReloaded(result, loadedAt);
      if (result === 'ok') for (const listener of applied) listener();
    },
  });
  metrics.configLoadedTimestamp.set(Date.now() / 1000);
  const watcher = watchConfigDirectories({ directories: reloader.directories, onChange: () => reloader.filesChanged(), log });
  const onHangup = (): void => {
    // A directory replaced since start (a deploy swapping ivr/) is watched anew.
    watcher.rearm();
    reloader.reload('signal');
  };
  // SIGHUP's default is to end the process: from here on it means "reload" (as for nginx, Prometheus).
  process.on('SIGHUP', onHangup);
  return {
    holder,
    reloader,
    teams,
    afterApplied(listener) {
      applied.add(listener);
    },
    stop() {
      process.off('SIGHUP', onHangup);
      watcher.close();
    },
  };
}
