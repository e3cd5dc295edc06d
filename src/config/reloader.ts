// Re-reads queues.toml, teams.toml and ivr/*.toml while the engine runs (SIGHUP, a file change, `cc-csat reload`)
// through the very path `cc-csat start` and `check-config` use (loadConfig: shape, cross-checks).
// A config with problems changes nothing: the running one stays, the problems are logged as
// check-config prints them. engine.toml is read again only to find and check the other files; its
// own settings (ports, database, ARI...) take effect at the next start.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../log.js';
import type { SurveyConfigHolder } from '../survey/survey-config.js';
import type { AppConfig } from './load.js';
import { ConfigError, problem } from './problems.js';
import type { TeamsHolder } from './teams.js';

export type ReloadTrigger = 'signal' | 'file_change' | 'request';

export interface ReloadOutcome {
  readonly result: 'ok' | 'error';
  readonly at: Date;
  readonly trigger: ReloadTrigger;
  /** As check-config prints them: "file: path: message". Empty when ok. */
  readonly problems: readonly string[];
  /** The config in use after this reload (the new one, or the one kept). */
  readonly queues: number;
  readonly ivrs: number;
  readonly hash: string;
  /** engine.toml differs from what the engine started with: those settings wait for a restart. */
  readonly engineFileChanged: boolean;
}

/** /readyz's `config`: never secret (engine.toml problems are only named there: see the log). */
export interface ConfigStatus {
  readonly loaded_at: string;
  readonly hash: string;
  readonly last_reload: { result: 'ok' | 'error'; at: string; trigger: ReloadTrigger; problems: string[] } | null;
}

export interface ConfigReloaderDeps {
  /** The config the engine started with: its engine.toml stays in force. */
  readonly running: AppConfig;
  /** loadConfig with the engine's own --config, working directory and environment. */
  readonly load: () => AppConfig;
  readonly cwd: string;
  readonly holder: SurveyConfigHolder;
  /** The API's teams (teams.toml), replaced together with queues and IVRs. */
  readonly teams?: TeamsHolder;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly onReload?: (result: 'ok' | 'error', loadedAt: Date) => void;
}

/** /readyz is unauthenticated: a bounded answer whatever the edit. */
const STATUS_MAX_PROBLEMS = 20;
const STATUS_MAX_PROBLEM_CHARS = 300;
/**
 * POST /-/reload needs no key: requests this close to the last attempt, with the files unchanged,
 * get its answer again instead of another read, log line and count (a client in a loop costs nothing).
 */
const REQUEST_REPEAT_WINDOW_MS = 1_000;

export class ConfigReloader {
  private readonly now: () => Date;
  private loadedAt: Date;
  private loadedHash: string;
  /** Fingerprint of the queue and IVR files at the last attempt, good or bad: a watcher event on unchanged files does nothing. */
  private triedHash: string;
  private engineFileHash: string;
  private last: ReloadOutcome | undefined;
  private queues: number;
  private ivrs: number;
  readonly queuesPath: string;
  readonly teamsPath: string;
  readonly ivrDir: string;
  readonly enginePath: string;

  constructor(private readonly deps: ConfigReloaderDeps) {
    const { running, cwd } = deps;
    this.now = deps.now ?? (() => new Date());
    this.queuesPath = resolve(cwd, running.engine.paths.queues);
    this.teamsPath = resolve(cwd, running.engine.paths.teams);
    this.ivrDir = resolve(cwd, running.engine.paths.ivr_dir);
    this.enginePath = resolve(cwd, running.engineFile);
    this.loadedAt = this.now();
    this.loadedHash = this.triedHash = this.surveyFilesHash();
    this.engineFileHash = fileHash(this.enginePath);
    this.queues = running.queues.size;
    this.ivrs = running.ivrs.size;
  }

  /** Where the files live: watching these directories sees edits, renames over the file and deletions. */
  get directories(): string[] {
    return [...new Set([dirname(this.queuesPath), dirname(this.teamsPath), this.ivrDir, dirname(this.enginePath)])];
  }

  /** Loads and checks everything again; swaps the queues and IVRs for new callers only when all is well. Never throws. */
  reload(trigger: ReloadTrigger): ReloadOutcome {
    const { running, log } = this.deps;
    const at = this.now();
    const surveyFiles = this.surveyFilesHash();
    const engineFile = fileHash(this.enginePath);
    const last = this.last;
    if (
      trigger === 'request' &&
      last &&
      at.getTime() - last.at.getTime() < REQUEST_REPEAT_WINDOW_MS &&
      surveyFiles === this.triedHash &&
      engineFile === this.engineFileHash
    ) {
      return last;
    }
    this.triedHash = surveyFiles;
    this.engineFileHash = engineFile;
    let problems: string[];
    let next: AppConfig | undefined;
    try {
      next = this.deps.load();
      problems = JSON.stringify(next.engine.paths) === JSON.stringify(running.engine.paths)
        ? []
        : [problem(running.engineFile, ['paths'], 'changed since cc-csat started: restart it to read queues and IVRs from there (the running config is kept)')];
    } catch (err) {
      // A bug of ours in loading must not take down the engine that runs on the old config.
      problems = err instanceof ConfigError ? [...err.problems] : [`${running.engineFile}: cannot load the configuration: ${err instanceof Error ? err.message : String(err)}`];
    }
    const engineFileChanged = next !== undefined && JSON.stringify(next.engine) !== JSON.stringify(running.engine);
    if (next && problems.length === 0) {
      this.deps.holder.replace({ queues: next.queues, ivrs: next.ivrs });
      this.deps.teams?.replace(next.teams);
      this.loadedAt = at;
      this.loadedHash = this.triedHash;
      this.queues = next.queues.size;
      this.ivrs = next.ivrs.size;
    }
    const outcome: ReloadOutcome = {
      result: problems.length === 0 ? 'ok' : 'error',
      at,
      trigger,
      problems,
      queues: this.queues,
      ivrs: this.ivrs,
      hash: shortHash(this.loadedHash),
      engineFileChanged,
    };
    this.last = outcome;
    this.deps.onReload?.(outcome.result, this.loadedAt);
    if (outcome.result === 'ok') {
      log.info({ trigger, queues: outcome.queues, ivrs: outcome.ivrs, hash: outcome.hash, engine_file_changed: engineFileChanged }, 'config reloaded: new callers use the new queues and IVRs');
    } else {
      log.error(
        { trigger, problems, kept_hash: outcome.hash },
        `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}): keeping the running queues and IVRs`,
      );
    }
    if (engineFileChanged) {
      log.warn({ file: running.engineFile }, 'engine.toml changed: cc-csat reads it only at start; restart it for those settings (queues and IVRs reload by themselves)');
    }
    return outcome;
  }

  /** A watcher saw something in the directories: reload when the queue or IVR files differ from the last attempt. */
  filesChanged(): void {
    const surveyFiles = this.surveyFilesHash();
    if (surveyFiles !== this.triedHash) {
      this.reload('file_change');
      return;
    }
    const engineFile = fileHash(this.enginePath);
    if (engineFile !== this.engineFileHash) {
      this.engineFileHash = engineFile;
      this.deps.log.warn({ file: this.deps.running.engineFile }, 'engine.toml changed: cc-csat reads it only at start; restart it for those settings (queues and IVRs reload by themselves)');
    }
  }

  status(): ConfigStatus {
    const last = this.last;
    const engineFile = this.deps.running.engineFile;
    return {
      loaded_at: this.loadedAt.toISOString(),
      hash: shortHash(this.loadedHash),
      last_reload: last
        ? {
            result: last.result,
            at: last.at.toISOString(),
            trigger: last.trigger,
            // engine.toml may hold values close to secrets; its problems are named here, told in the log.
            problems: last.problems
              .slice(0, STATUS_MAX_PROBLEMS)
              .map((line) => (line.startsWith(`${engineFile}:`) ? `${engineFile}: invalid (details in the engine log)` : line.slice(0, STATUS_MAX_PROBLEM_CHARS))),
          }
        : null,
    };
  }

  /** What new callers' config was read from: queues.toml, teams.toml and every ivr/*.toml, names and contents. */
  private surveyFilesHash(): string {
    const hash = createHash('sha256');
    hash.update(`${this.queuesPath}\0${fileHash(this.queuesPath)}\0`);
    hash.update(`${this.teamsPath}\0${fileHash(this.teamsPath)}\0`);
    let entries: string[];
    try {
      entries = readdirSync(this.ivrDir).filter((entry) => entry.endsWith('.toml')).sort();
    } catch (err) {
      entries = [];
      hash.update(`ivr_dir:${(err as NodeJS.ErrnoException).code ?? 'error'}\0`);
    }
    for (const entry of entries) hash.update(`${entry}\0${fileHash(join(this.ivrDir, entry))}\0`);
    return hash.digest('hex');
  }
}

function fileHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

const shortHash = (hex: string): string => hex.slice(0, 12);
