// Reads engine.toml, queues.toml and ivr/*.toml once at startup, validates them in two passes
// (shape, then cross-references) and returns one frozen, typed config. Nothing else reads config files.
import { checkSip, sipConfig, type SipConfig } from './sip.js';
import { hostname } from 'node:os';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { databaseTarget, type DatabaseTarget } from './database-target.js';
import { alertsConfig, checkAlerts, type AlertsConfig } from './alerts.js';
import { callerHashKey } from './caller-hash-key.js';
import { checkEngine, checkIvr, checkQueues, type LinkTargets } from './cross-check.js';
import { headlineQuestion } from './questions.js';
import { ConfigError, describeZodIssues } from './problems.js';
import {
  DEFAULT_ARI_SERVER_NAME,
  EngineFileSchema,
  IvrFileSchema,
  QueueSchema,
  QueuesFileSchema,
  type AriServerConfig,
  type EngineFile,
  type Ivr,
  type QueueConfig,
} from './schema.js';
import { teamsOf, TeamsFileSchema, type Team } from './teams.js';
import { explainUnionIssues } from './union-issues.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface AppConfig {
  readonly engineFile: string;
  readonly engine: EngineFile;
  /** Every Asterisk server ([ari], or the [[ari]] entries in file order), named, with its password. */
  readonly ariServers: readonly AriServer[];
  /** The first server's password (`ariServers[0].password`), for callers that know of one server. */
  readonly ariPassword: string;
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly ivrs: ReadonlyMap<string, Ivr>;
  /** config/teams.toml ([paths] teams) by team id; empty when the file does not exist. */
  readonly teams: ReadonlyMap<string, Team>;
  /** [engine] id, or this host's name and [http] port. */
  readonly engineId: string;
  /** Which database [database] url names, with its password resolved. */
  readonly database: DatabaseTarget;
  /** The key caller numbers are hashed with ([survey] caller_hash_key_env); set whenever a queue needs it. */
  readonly callerHashKey: string | undefined;
  /** [alerts]: rules, and destinations with their secrets. */
  readonly alerts: AlertsConfig;
  /** [sip]: the SIP front door, secrets resolved; undefined when it is off. */
  readonly sip: SipConfig | undefined;
}

export interface AriServer {
  /** From `name`; "asterisk" for a server that has none (allowed only when it is the only one). */
  readonly name: string;
  readonly config: AriServerConfig;
  /** Resolved from `password` or the environment variable `password_env` names. */
  readonly password: string;
}

export type { DatabaseTarget } from './database-target.js';

export const DEFAULT_CONFIG_PATH = 'config/engine.toml';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    const children = value instanceof Map ? value.values() : Object.values(value as object);
    for (const child of children) deepFreeze(child);
  }
  return value;
}

/** Display name: relative to the working directory when inside it, so messages match what ops typed. */
function displayName(absolutePath: string, cwd: string): string {
  const rel = relative(cwd, absolutePath);
  return rel.startsWith('..') || isAbsolute(rel) ? absolutePath : rel;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

function readToml(path: string, shownAs: string): Parsed<unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, problems: [`${shownAs}: cannot read file (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})`] };
  }
  try {
    return { ok: true, value: parseToml(text) };
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
      return { ok: false, problems: [`${shownAs}:${err.line}:${err.column}: TOML syntax error: ${reason}`] };
    }
    throw err;
  }
}

function parseFile<S extends z.ZodType>(schema: S, path: string, shownAs: string): Parsed<z.infer<S>> {
  const raw = readToml(path, shownAs);
  if (!raw.ok) return raw;
  const result = schema.safeParse(raw.value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: describeZodIssues(shownAs, schema, raw.value, explainUnionIssues(result.error.issues)) };
}

function wellFormedQueues(path: string): Array<readonly [number, QueueConfig]> {
  const raw = readToml(path, path);
  if (!raw.ok) return [];
  const list = (raw.value as { queue?: unknown }).queue;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry, index) => {
    const parsed = QueueSchema.safeParse(entry);
    return parsed.success ? [[index, parsed.data] as const] : [];
  });
}

function loadIvrs(ivrDir: string, cwd: string, problems: string[]): { ivrs: Map<string, Ivr>; names: Set<string> } {
  const ivrs = new Map<string, Ivr>();
  // Names of every IVR file, broken ones too, so queues pointing at a broken IVR are not also reported as dangling.
  const names = new Set<string>();
  let entries: string[];
  try {
    entries = readdirSync(ivrDir).filter((entry) => entry.endsWith('.toml')).sort();
  } catch {
    problems.push(`${displayName(ivrDir, cwd)}: cannot read IVR directory`);
    return { ivrs, names };
  }
  for (const entry of entries) {
    const path = join(ivrDir, entry);
    const shownAs = displayName(path, cwd);
    const name = basename(entry, '.toml');
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      problems.push(`${shownAs}: IVR file names are letters, digits, "_" and "-" (the name is what queues refer to)`);
      continue;
    }
    names.add(name);
    const parsed = parseFile(IvrFileSchema, path, shownAs);
    if (!parsed.ok) {
      problems.push(...parsed.problems);
      continue;
    }
    const ivr: Ivr = { ...parsed.value, name, file: shownAs, headline: headlineQuestion(parsed.value.step) };
    problems.push(...checkIvr(ivr));
    ivrs.set(name, ivr);
  }
  return { ivrs, names };
}

/**
 * engine.toml alone, shape-checked: no environment variables, queues or IVRs. For commands that
 * talk to a running engine (`cc-csat reload`), whose environment holds the secrets, not the shell's.
 */
export function loadEngineFile(options: { configPath?: string | undefined; cwd: string; env: Env }): { engineFile: string; engine: EngineFile } {
  const enginePath = resolve(options.cwd, options.configPath ?? options.env['CC_CSAT_CONFIG'] ?? DEFAULT_CONFIG_PATH);
  const engineFile = displayName(enginePath, options.cwd);
  const parsed = parseFile(EngineFileSchema, enginePath, engineFile);
  if (!parsed.ok) throw new ConfigError(parsed.problems);
  return deepFreeze({ engineFile, engine: parsed.value });
}

export function loadConfig(options: { configPath?: string | undefined; cwd: string; env: Env }): AppConfig {
  const { cwd, env } = options;
  const enginePath = resolve(cwd, options.configPath ?? env['CC_CSAT_CONFIG'] ?? DEFAULT_CONFIG_PATH);
  const engineShown = displayName(enginePath, cwd);
  const engineParsed = parseFile(EngineFileSchema, enginePath, engineShown);
  if (!engineParsed.ok) throw new ConfigError(engineParsed.problems);
  const engine = engineParsed.value;

  const problems: string[] = checkEngine(engineShown, engine, env);
  const { ivrs, names: ivrNames } = loadIvrs(resolve(cwd, engine.paths.ivr_dir), cwd, problems);

  const queuesPath = resolve(cwd, engine.paths.queues);
  const queuesShown = displayName(queuesPath, cwd);
  const queuesParsed = parseFile(QueuesFileSchema, queuesPath, queuesShown);
  const queues = new Map<string, QueueConfig>();
  const links: LinkTargets = {
    destinations: new Set(engine.alerts.destination.map((destination) => destination.name)),
    publicUrl: engine.alerts.public_url !== undefined,
    headlineOf: (name) => ivrs.get(name)?.headline,
  };
  if (queuesParsed.ok) {
    problems.push(...checkQueues(queuesShown, queuesParsed.value.queue.map((queue, index) => [index, queue] as const), ivrNames, links));
    for (const queue of queuesParsed.value.queue) if (!queues.has(queue.name)) queues.set(queue.name, queue);
  } else {
    problems.push(...queuesParsed.problems);
    // Cross-check the entries that are well-formed, so a duplicate or dangling IVR elsewhere shows in the same run.
    problems.push(...checkQueues(queuesShown, wellFormedQueues(queuesPath), ivrNames, links));
  }
  const hashKey = callerHashKey(engineShown, engine, queuesShown, queuesParsed.ok ? queuesParsed.value.queue.map((queue, index) => [index, queue] as const) : wellFormedQueues(queuesPath), env);
  problems.push(...hashKey.problems);
  problems.push(...checkAlerts(engineShown, engine, queuesParsed.ok ? new Set(queues.keys()) : undefined, env));
  problems.push(...checkSip(engineShown, engine.sip, Array.isArray(engine.ari) ? engine.ari : [engine.ari], env));
  const teamsPath = resolve(cwd, engine.paths.teams);
  // Optional: a contact center without teams has no file to write.
  const teamsParsed = existsSync(teamsPath) ? parseFile(TeamsFileSchema, teamsPath, displayName(teamsPath, cwd)) : ({ ok: true, value: { team: [] } } as const);
  if (!teamsParsed.ok) problems.push(...teamsParsed.problems);
  if (problems.length > 0 || !teamsParsed.ok) throw new ConfigError(problems);

  const { url } = engine.database;
  // The schema accepted the url: it names one of the two.
  const database = databaseTarget(url, {
    cwd,
    password: engine.database.password_env === undefined ? undefined : env[engine.database.password_env],
    poolMax: engine.database.pool_max,
    statementTimeoutMs: engine.database.statement_timeout_ms,
  })!;
  // Both checked by checkEngine: one of them is set, and the variable it names is.
  const ariServers = (Array.isArray(engine.ari) ? engine.ari : [engine.ari]).map(
    (server): AriServer => ({
      name: server.name ?? DEFAULT_ARI_SERVER_NAME,
      config: server,
      password: server.password ?? env[server.password_env!]!,
    }),
  );
  return deepFreeze({
    engineFile: engineShown,
    engine,
    ariServers,
    ariPassword: ariServers[0]!.password,
    queues,
    ivrs,
    teams: teamsOf(teamsParsed.value),
    database,
    engineId: engine.engine.id ?? `${hostname()}:${engine.http.port}`,
    callerHashKey: hashKey.key,
    alerts: alertsConfig(engine, env),
    sip: sipConfig(engine.sip, env),
  });
}
