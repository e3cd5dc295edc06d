// `cc-csat <command>`. The only module that reads process-level input (argv, env); everything
// downstream gets frozen, typed config.
import { mediaServersOf } from './config/sip.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest, ConfigError } from './config/problems.js';
import { loadConfig, loadEngineFile, type AppConfig, type Env } from './config/load.js';
import type { EngineFile } from './config/schema.js';
import { openStorage } from './storage/open.js';

interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** What a string option's value stands for in usage lines ("PATH"). */
  readonly value?: string;
  /** Shown without brackets in the usage line; the command itself checks it, with a helpful message. */
  readonly required?: boolean;
  readonly short?: string;
  readonly help: string;
}

type OptionSpecs = Readonly<Record<string, OptionSpec>>;
type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

interface Command {
  readonly summary: string;
  /** The command's own options; --config and --help come with every command. */
  readonly options: OptionSpecs;
  /** Words after the command ("list", "show 12"), shown in usage lines; none when absent. */
  readonly positionals?: string;
  run(config: AppConfig, options: OptionValues, env: Env, positionals: readonly string[]): Promise<number>;
  /**
   * When set, run in place of `run` with engine.toml alone, shape-checked: for commands that talk to
   * a running engine, whose environment (not this shell's) holds the secrets the full check needs.
   */
  readonly runOnEngineFile?: (loaded: { engineFile: string; engine: EngineFile }, options: OptionValues) => Promise<number>;
}

const COMMON_OPTIONS: OptionSpecs = {
  config: { type: 'string', value: 'PATH', help: 'engine config (default: $CC_CSAT_CONFIG, else config/engine.toml)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

const text = (options: OptionValues, name: string): string | undefined => {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
};

const commands: Record<string, Command> = {
  start: {
    summary: 'run the engine: ARI survey controller, result service, HTTP API',
    options: {},
    run: async (config, options, env) => {
      const { runEngine } = await import('./engine.js');
      const cwd = process.cwd();
      // SIGHUP and file changes reload as this start loaded: same file, directory and environment.
      return runEngine(config, { cwd, reloadConfig: () => loadConfig({ configPath: text(options, 'config'), cwd, env }) });
    },
  },
  aggregate: {
    summary: 'refresh statistics once (incremental: only what new ratings touched)',
    options: { full: { type: 'boolean', help: 'rebuild every rollup from all ratings' } },
    run: async (config, options) => {
      const full = options['full'] === true;
      const storage = await openStorage(config.database, { lockWaitMs: config.engine.database.lock_wait_ms, applicationName: 'cc-csat aggregate' });
      try {
        await storage.migrate();
        const { ResultService } = await import('./results/service.js');
        const { createLogger } = await import('./log.js');
        // Run by hand, whichever engine leads: runs are serialized by the database, never lost.
        const service = new ResultService({ rollups: storage.rollups, timezone: config.engine.results.timezone, log: createLogger('warn') });
        const report = await service.run(full ? 'full' : 'incremental');
        console.log(
          `${report.kind}: ${report.newRatings} rating(s) folded in${report.touchedDays > 0 ? ` over ${report.touchedDays} day(s)` : ''}, watermark ${report.watermark}, ${report.durationMs} ms`,
        );
        return 0;
      } finally {
        await storage.close();
      }
    },
  },
  simulate: {
    summary: "run a queue's survey in the terminal",
    options: {
      queue: { type: 'string', value: 'NAME', required: true, help: 'the queue the call came from (its IVR runs)' },
      digits: { type: 'string', value: 'KEYS', help: 'scripted keys, one per question, "-" stays silent: --digits 9,3 or --digits=-,4 (default: the keyboard)' },
      agent: { type: 'string', value: 'ID', help: 'agent id stored with the rating (default: agent-sim)' },
      'call-id': { type: 'string', value: 'ID', help: 'call id (default: sim-<timestamp>)' },
      language: { type: 'string', value: 'CODE', help: "the caller's channel language, as CHANNEL(language) gives it, e.g. fr (default: the queue's)" },
    },
    run: async (config, options) => {
      const { simulate, parseDigits } = await import('./simulate/run.js');
      const queue = text(options, 'queue');
      if (!queue) {
        console.error(`cc-csat simulate: --queue NAME is required (known: ${[...config.queues.keys()].join(', ')})`);
        return 2;
      }
      const digitsOption = text(options, 'digits');
      let digits: string[] | undefined;
      try {
        digits = digitsOption === undefined ? undefined : parseDigits(digitsOption);
      } catch (err) {
        console.error(`cc-csat simulate: ${(err as Error).message}`);
        return 2;
      }
      const language = text(options, 'language');
      if (language !== undefined && !/^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$/.test(language)) {
        console.error(`cc-csat simulate: --language: "${language}" is not a language code (e.g. en, fr, fr_CA)`);
        return 2;
      }
      return simulate(
        config,
        { queue, digits, agent: text(options, 'agent') ?? 'agent-sim', callId: text(options, 'call-id') ?? `sim-${new Date().toISOString()}`, language },
        { write: (chunk) => process.stdout.write(chunk), stdin: process.stdin },
      );
    },
  },
  reload: {
    summary: "ask the running engine (this config's [http] address) to re-read queues and IVRs; print its answer",
    options: {},
    run: (config, options) => commands['reload']!.runOnEngineFile!(config, options),
    runOnEngineFile: async ({ engineFile, engine }) => {
      const { requestReload } = await import('./reload-client.js');
      return requestReload(engineFile, engine, { out: (line) => console.log(line), err: (line) => console.error(line) });
    },
  },
  'check-config': {
    summary: 'validate engine, queue, team and IVR config; print a summary',
    options: {},
    run: async (config) => {
      const enabled = [...config.queues.values()].filter((queue) => queue.after_call.csat_enabled).length;
      console.log(
        `${config.engineFile}: OK: ${config.queues.size} queues (${enabled} with CSAT enabled), ${config.ivrs.size} IVRs (${[...config.ivrs.keys()].join(', ')}), ${config.teams.size} teams${config.alerts.rules.length > 0 ? `, ${config.alerts.rules.length} alert rules to ${config.alerts.destinations.size} destinations` : ''}${config.sip ? `, SIP front door on (${config.sip.peers.length} peers, media servers: ${mediaServersOf(config.ariServers).map((server) => server.name).join(', ')})` : ''}`,
      );
      return 0;
    },
  },
  migrate: {
    summary: 'apply pending database migrations',
    options: {},
    run: async (config) => {
      const storage = await openStorage(config.database, { applicationName: 'cc-csat migrate' });
      try {
        const applied = await storage.migrate();
        console.log(
          applied.length === 0
            ? `${storage.description}: up to date`
            : `${storage.description}: applied ${applied.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`).join(', ')}`,
        );
        return 0;
      } finally {
        await storage.close();
      }
    },
  },
};

commands['alerts'] = {
  summary: 'the alert outbox: list deliveries, show one, retry one or every dead letter',
  positionals: 'list|show ID|retry ID',
  options: {
    status: { type: 'string', value: 'STATUS', help: 'list: only pending, delivered or dead' },
    limit: { type: 'string', value: 'N', help: 'list: at most N, newest first (default 50)' },
    dead: { type: 'boolean', help: 'retry: every dead letter' },
    json: { type: 'boolean', help: 'list, show: JSON' },
  },
  run: async (config, options, _env, positionals) => {
    const { runAlertsCommand } = await import('./alerts/alerts-command.js');
    const storage = await openStorage(config.database, { lockWaitMs: config.engine.database.lock_wait_ms, applicationName: 'cc-csat alerts' });
    try {
      await storage.migrate();
      return await runAlertsCommand(
        storage.alerts,
        positionals,
        { status: text(options, 'status'), limit: text(options, 'limit'), dead: options['dead'] === true, json: options['json'] === true },
        { out: (line) => console.log(line), err: (line) => console.error(line) },
      );
    } finally {
      await storage.close();
    }
  },
};

commands['migrate-data'] = {
  summary: 'copy ratings, answers and outcomes into an empty database (e.g. SQLite into PostgreSQL), verify, rebuild rollups',
  options: {
    from: { type: 'string', value: 'URL', help: 'source: sqlite:PATH or postgres://... (default: [database] url)' },
    to: { type: 'string', value: 'URL', required: true, help: 'target, empty: postgres://USER@HOST/DB or sqlite:PATH' },
    'password-env': { type: 'string', value: 'NAME', help: 'environment variable with the password of the postgres:// side(s) not carrying one' },
  },
  run: async (config, options, env) => {
    const { databaseTarget } = await import('./config/database-target.js');
    const { copyDatabase, MigrateDataError, openEndpoint } = await import('./migrate-data.js');
    const { createLogger } = await import('./log.js');
    const passwordEnv = text(options, 'password-env');
    if (passwordEnv !== undefined && !env[passwordEnv]) {
      console.error(`cc-csat migrate-data: environment variable ${passwordEnv} (--password-env) is not set`);
      return 2;
    }
    const password = passwordEnv === undefined ? undefined : env[passwordEnv];
    const fromUrl = text(options, 'from');
    const toUrl = text(options, 'to');
    if (!toUrl) {
      console.error('cc-csat migrate-data: --to URL is required (e.g. --to postgres://csat@db-host/csat)');
      return 2;
    }
    const from = fromUrl === undefined ? config.database : databaseTarget(fromUrl, { cwd: process.cwd(), password });
    const to = databaseTarget(toUrl, { cwd: process.cwd(), password });
    for (const [flag, target] of [['--from', from], ['--to', to]] as const) {
      if (!target) {
        console.error(`cc-csat migrate-data: ${flag} must be sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE`);
        return 2;
      }
    }
    let source;
    let target;
    try {
      source = await openEndpoint(from!, 'cc-csat migrate-data');
      target = await openEndpoint(to!, 'cc-csat migrate-data');
      if (source.description === target.description) {
        console.error(`cc-csat migrate-data: --from and --to are the same database (${source.description})`);
        return 2;
      }
      const report = await copyDatabase(source, target, {
        timezone: config.engine.results.timezone,
        log: createLogger('warn'),
        progress: (line) => process.stderr.write(`  ${line}\r`),
      });
      console.log(
        `${source.description} -> ${target.description}: ${report.ratings} rating(s), ${report.answers} answer(s), ${report.outcomes} survey outcome(s), ${report.exports} export audit row(s), ${report.alerts} alert(s), ${report.links} rating link(s) and ${report.surveyedCallers} surveyed caller(s) copied and verified; rollups rebuilt (${report.rollups.durationMs} ms)`,
      );
      return 0;
    } catch (err) {
      if (!(err instanceof MigrateDataError)) throw err;
      console.error(`cc-csat migrate-data: ${err.message}`);
      return 1;
    } finally {
      await source?.close();
      await target?.close();
    }
  },
};

const USAGE = `usage: cc-csat <command> [options]

commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(14)} ${command.summary}`)
  .join('\n')}

every command takes:
  --config PATH  ${COMMON_OPTIONS['config']!.help}
  --help         its own usage and options`;

const allOptions = (command: Command): OptionSpecs => ({ ...command.options, ...COMMON_OPTIONS });

const optionSyntax = (name: string, spec: OptionSpec): string => `--${name}${spec.value ? ` ${spec.value}` : ''}`;

function usageLine(name: string, command: Command): string {
  const parts = Object.entries(allOptions(command))
    .filter(([option]) => option !== 'help')
    .map(([option, spec]) => (spec.required ? optionSyntax(option, spec) : `[${optionSyntax(option, spec)}]`));
  return `usage: cc-csat ${name}${command.positionals ? ` ${command.positionals}` : ''} ${parts.join(' ')}`;
}

function helpText(name: string, command: Command): string {
  const options = Object.entries(allOptions(command)).map(([option, spec]) => `  ${optionSyntax(option, spec).padEnd(16)} ${spec.help}`);
  return `${usageLine(name, command)}\n\n${command.summary}\n\n${options.join('\n')}`;
}

type Parsed = { ok: true; values: OptionValues; positionals: readonly string[] } | { ok: false; problem: string };

/** Turns node's parseArgs errors into one short line naming the offending flag or argument. */
function describeArgError(err: Error & { code?: string }, command: Command): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1];
  const flag = /--?[A-Za-z0-9][\w-]*/.exec(quoted ?? '')?.[0];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      if (!flag) break;
      const hint = closest(flag, Object.keys(allOptions(command)).map((option) => `--${option}`));
      return `unknown option ${flag}${hint ? ` (did you mean ${hint}?)` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (!flag) break;
      if (/does not take an argument/.test(err.message)) return `${flag} takes no value`;
      // Node refuses `--digits -,4` as ambiguous: the value looks like a flag.
      if (/ambiguous/.test(err.message)) return `${flag} needs a value (one starting with "-" is written ${flag}=-...)`;
      return `${flag} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      if (quoted === undefined) break;
      return `unexpected argument "${quoted}"`;
  }
  return err.message.split('\n')[0]!;
}

function parseOptions(command: Command, args: string[]): Parsed {
  const specs = allOptions(command);
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(specs)) options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  let values: OptionValues;
  let positionals: string[];
  try {
    // No option is declared `multiple`, so no value is an array.
    ({ values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: command.positionals !== undefined }) as { values: OptionValues; positionals: string[] });
  } catch (err) {
    return { ok: false, problem: describeArgError(err as Error, command) };
  }
  // `--config=` parses as an empty value, which would silently mean the default file.
  const empty = Object.keys(specs).find((name) => values[name] === '');
  if (empty) return { ok: false, problem: `--${empty} needs a value` };
  return { ok: true, values, positionals };
}

function commandNamed(name: string): Command | undefined {
  return Object.hasOwn(commands, name) ? commands[name] : undefined;
}

function loadConfigOrReport<T>(load: () => T): T | undefined {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`cc-csat: invalid configuration (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):`);
    for (const line of err.problems) console.error(`  ${line}`);
    return undefined;
  }
}

export async function main(argv: string[], env: Env): Promise<number> {
  const [name, ...rest] = argv;
  const helpTopic = name === 'help' && rest.length === 1 ? commandNamed(rest[0]!) : undefined;
  if (helpTopic) {
    console.log(helpText(rest[0]!, helpTopic));
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = commandNamed(name);
  if (!command) {
    const hint = closest(name, Object.keys(commands));
    console.error(`cc-csat: unknown command "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}\n\n${USAGE}`);
    return 2;
  }
  const parsed = parseOptions(command, rest);
  if (!parsed.ok) {
    console.error(`cc-csat ${name}: ${parsed.problem}\n${usageLine(name, command)}`);
    return 2;
  }
  if (parsed.values['help'] === true) {
    console.log(helpText(name, command));
    return 0;
  }
  if (command.runOnEngineFile) {
    const loaded = loadConfigOrReport(() => loadEngineFile({ configPath: text(parsed.values, 'config'), cwd: process.cwd(), env }));
    return loaded ? command.runOnEngineFile(loaded, parsed.values) : 1;
  }
  const config = loadConfigOrReport(() => loadConfig({ configPath: text(parsed.values, 'config'), cwd: process.cwd(), env }));
  if (!config) return 1;
  return command.run(config, parsed.values, env, parsed.positionals);
}
