// `cc-csat <command>`. The only module that reads process-level input (argv, env); everything
// downstream gets frozen, typed config.
import { parseArgs } from 'node:util';
import { ConfigError } from './config/problems.js';
import { loadConfig, type AppConfig, type Env } from './config/load.js';
import { openDatabase } from './db/open.js';
import { migrate } from './db/migrate.js';

const USAGE = `usage: cc-csat <command> [--config PATH]

commands:
  start          run the engine: ARI survey controller, result service, HTTP API
  aggregate      refresh statistics once (incremental); --full rebuilds every rollup
  simulate       run a queue's survey in the terminal: --queue NAME [--digits 9,3] [--agent ID] [--call-id ID]
  check-config   validate engine, queue and IVR config; print a summary
  migrate        apply pending database migrations

--config PATH    engine config (default: $CC_CSAT_CONFIG, else config/engine.toml)`;

type Command = (config: AppConfig, rest: string[], env: Env) => Promise<number>;

const commands: Record<string, Command> = {
  'check-config': async (config) => {
    const enabled = [...config.queues.values()].filter((queue) => queue.after_call.csat_enabled).length;
    console.log(
      `${config.engineFile}: OK: ${config.queues.size} queues (${enabled} with CSAT enabled), ${config.ivrs.size} IVRs (${[...config.ivrs.keys()].join(', ')})`,
    );
    return 0;
  },
  migrate: async (config) => {
    const { db, close } = openDatabase(config.sqlitePath);
    try {
      const applied = await migrate(db);
      console.log(
        applied.length === 0
          ? `${config.sqlitePath}: up to date`
          : `${config.sqlitePath}: applied ${applied.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`).join(', ')}`,
      );
      return 0;
    } finally {
      await close();
    }
  },
  aggregate: async (config, rest) => {
    const full = rest.includes('--full');
    const { db, close } = openDatabase(config.sqlitePath);
    try {
      await migrate(db);
      const { ResultService } = await import('./results/service.js');
      const { createLogger } = await import('./log.js');
      const service = new ResultService({ db, timezone: config.engine.results.timezone, log: createLogger('warn') });
      const report = await service.run(full ? 'full' : 'incremental');
      console.log(
        `${report.kind}: ${report.newRatings} rating(s) folded in${report.touchedDays > 0 ? ` over ${report.touchedDays} day(s)` : ''}, watermark ${report.watermark}, ${report.durationMs} ms`,
      );
      return 0;
    } finally {
      await close();
    }
  },
  simulate: async (config, rest) => {
    const { simulate, parseDigits } = await import('./simulate/run.js');
    let values;
    try {
      ({ values } = parseArgs({
        args: rest,
        options: { queue: { type: 'string' }, digits: { type: 'string' }, agent: { type: 'string' }, 'call-id': { type: 'string' }, config: { type: 'string' } },
        strict: true,
      }));
    } catch (err) {
      const hint = /ambiguous/.test(String(err)) ? ' (a value starting with "-" needs "=": --digits=-,4)' : '';
      console.error(`cc-csat simulate: ${(err as Error).message.split('\n')[0]}${hint}`);
      return 2;
    }
    if (!values.queue) {
      console.error(`cc-csat simulate: --queue NAME is required (known: ${[...config.queues.keys()].join(', ')})`);
      return 2;
    }
    let digits: string[] | undefined;
    try {
      digits = values.digits === undefined ? undefined : parseDigits(values.digits);
    } catch (err) {
      console.error(`cc-csat simulate: ${(err as Error).message}`);
      return 2;
    }
    return simulate(
      config,
      { queue: values.queue, digits, agent: values.agent ?? 'agent-sim', callId: values['call-id'] ?? `sim-${new Date().toISOString()}` },
      { write: (text) => process.stdout.write(text), stdin: process.stdin },
    );
  },
  start: async (config) => {
    const { runEngine } = await import('./engine.js');
    return runEngine(config);
  },
};

export async function main(argv: string[], env: Env): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = commands[command];
  if (!run) {
    console.error(`cc-csat: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { config: { type: 'string' } }, allowPositionals: true, strict: false });
  } catch (err) {
    console.error(`cc-csat ${command}: ${(err as Error).message}`);
    return 2;
  }
  let config: AppConfig;
  try {
    config = loadConfig({ configPath: parsed.values.config as string | undefined, cwd: process.cwd(), env });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`cc-csat: invalid configuration (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):`);
      for (const line of err.problems) console.error(`  ${line}`);
      return 1;
    }
    throw err;
  }
  return run(config, rest, env);
}
