// Tells the engine when something changed in the config directories, debounced. Directories, not
// files: editors that save by writing a new file and renaming it over the old one (vim, sed -i,
// Kubernetes ConfigMap symlink swaps) leave a watch on the old file's inode blind. Which change
// matters is the reloader's business (it compares contents); this only says "look again".
// A watch that fails (directory deleted, too many watches) is logged and tried again: a broken
// watcher must never take down the engine, and SIGHUP or `cc-csat reload` still work meanwhile.
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../log.js';

/** An editor's save is several events in a few milliseconds: one look after they settle. */
export const CONFIG_WATCH_DEBOUNCE_MS = 300;
/** A directory that never goes quiet (a log file written beside the config) is still looked at. */
const MAX_WAIT_MS = 2_000;
const RETRY_MS = 5_000;

export interface ConfigWatcher {
  /** Drops every watch and makes them again (after SIGHUP: a directory replaced since is watched anew). */
  rearm(): void;
  close(): void;
}

export function watchConfigDirectories(options: {
  readonly directories: readonly string[];
  readonly onChange: () => void;
  readonly log: Logger;
  readonly debounceMs?: number;
}): ConfigWatcher {
  const { directories, log } = options;
  const debounceMs = options.debounceMs ?? CONFIG_WATCH_DEBOUNCE_MS;
  const watchers = new Map<string, FSWatcher>();
  let closed = false;
  let quietTimer: NodeJS.Timeout | undefined;
  let firstEventAt: number | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const fire = (): void => {
    clearTimeout(quietTimer);
    quietTimer = undefined;
    firstEventAt = undefined;
    if (closed) return;
    try {
      options.onChange();
    } catch (err) {
      log.error({ err }, 'config change check failed');
    }
  };

  const changed = (): void => {
    if (closed) return;
    const now = Date.now();
    firstEventAt ??= now;
    clearTimeout(quietTimer);
    const wait = Math.min(debounceMs, Math.max(0, firstEventAt + MAX_WAIT_MS - now));
    quietTimer = setTimeout(fire, wait);
    quietTimer.unref();
  };

  const scheduleRetry = (): void => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      // Anything may have changed while unwatched: look once the watches are back.
      if (arm()) changed();
    }, RETRY_MS);
    retryTimer.unref();
  };

  /** Watches every directory not watched yet; false when one of them could not be. */
  const arm = (): boolean => {
    let all = true;
    for (const directory of directories) {
      if (watchers.has(directory)) continue;
      try {
        const watcher = watch(directory, { persistent: false }, changed);
        watcher.on('error', (err) => {
          log.warn({ err, directory }, 'config directory watch failed; retrying (SIGHUP or cc-csat reload still reload)');
          watcher.close();
          watchers.delete(directory);
          scheduleRetry();
        });
        watchers.set(directory, watcher);
      } catch (err) {
        all = false;
        log.warn({ err, directory }, 'cannot watch config directory; retrying (SIGHUP or cc-csat reload still reload)');
      }
    }
    if (!all) scheduleRetry();
    return all;
  };

  const closeAll = (): void => {
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };

  arm();
  return {
    rearm() {
      if (closed) return;
      closeAll();
      arm();
    },
    close() {
      closed = true;
      clearTimeout(quietTimer);
      clearTimeout(retryTimer);
      closeAll();
    },
  };
}
