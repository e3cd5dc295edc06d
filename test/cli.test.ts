// The `cc-csat` command line: each command accepts exactly its own options. A mistyped flag must stop
// the command (exit 2) instead of being ignored: `check-config --confg new.toml` saying OK about
// the default file, or `aggregate --ful` running incrementally, would mislead an operator. And a
// command that has finished leaves nothing running: `start` exits by itself once it logs "stopped".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { AriSimulator } from './ari-sim/simulator.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { makeTempDir, writeConfigTree } from './helpers/config-tree.js';
import { spawnEngine } from './helpers/engine-process.js';
import { until, within } from './helpers/wait.js';

const COMMANDS = ['check-config', 'migrate', 'aggregate', 'simulate', 'start', 'reload'];

/** Exit 2, nothing on stdout, and a first stderr line naming `offending`, followed by the command's usage. */
function assertUsageError(result: CliResult, command: string, offending: string): void {
  assert.equal(result.code, 2, `exit code\n${result.stdout}\n${result.stderr}`);
  assert.equal(result.stdout, '');
  const [message, ...rest] = result.stderr.trim().split('\n');
  assert.ok(message?.includes(offending), `first line names ${offending}: ${message}`);
  assert.match(rest.join('\n'), new RegExp(`usage: cc-csat ${command}\\b`), result.stderr);
}

describe('cc-csat: each command parses its own options strictly', () => {
  test('an unknown flag is an error naming it, for every command, before any config is read', async () => {
    // No config in this directory: a command that ignored the flag would fail on config (exit 1) or run.
    const cwd = makeTempDir();
    for (const command of COMMANDS) {
      assertUsageError(await runCli([command, '--confg', 'bad.toml'], { cwd }), command, '--confg');
    }
  });

  test('check-config --confg does not check the default file and say OK', async () => {
    const tree = writeConfigTree();
    const result = await runCli(['check-config', '--confg', 'other.toml'], { cwd: tree.dir });
    assertUsageError(result, 'check-config', '--confg');
  });

  test('aggregate --ful is refused instead of running incrementally; the usage shows --full', async () => {
    const tree = writeConfigTree();
    const result = await runCli(['aggregate', '--config', tree.enginePath, '--ful'], { cwd: tree.dir });
    assertUsageError(result, 'aggregate', '--ful');
    assert.match(result.stderr, /--full/);
  });

  test('--config without a value, a value for a flag that takes none, a stray argument: each named', async () => {
    const tree = writeConfigTree();
    assertUsageError(await runCli(['check-config', '--config'], { cwd: tree.dir }), 'check-config', '--config');
    assertUsageError(await runCli(['aggregate', '--config', '--full'], { cwd: tree.dir }), 'aggregate', '--config');
    assertUsageError(await runCli(['aggregate', '--config', tree.enginePath, '--full=yes'], { cwd: tree.dir }), 'aggregate', '--full');
    assertUsageError(await runCli(['migrate', '--config', tree.enginePath, 'now'], { cwd: tree.dir }), 'migrate', 'now');
    assertUsageError(await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digit', '4'], { cwd: tree.dir }), 'simulate', '--digit');
  });

  test('--config PATH and --config=PATH both work; aggregate --full rebuilds', async () => {
    const tree = writeConfigTree();
    const cwd = makeTempDir();
    for (const args of [['--config', tree.enginePath], [`--config=${tree.enginePath}`]]) {
      const checked = await runCli(['check-config', ...args], { cwd });
      assert.equal(checked.code, 0, checked.stderr);
      assert.match(checked.stdout, /OK: 2 queues/);
      const migrated = await runCli(['migrate', ...args], { cwd });
      assert.equal(migrated.code, 0, migrated.stderr);
    }
    const full = await runCli(['aggregate', '--full', `--config=${tree.enginePath}`], { cwd });
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /^full: /);
  });

  test('--help on a command prints its usage and options, exit 0, without reading config', async () => {
    const cwd = makeTempDir();
    for (const command of COMMANDS) {
      const result = await runCli([command, '--help'], { cwd });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`usage: cc-csat ${command}\\b`));
      assert.match(result.stdout, /--config PATH/);
    }
    assert.match((await runCli(['aggregate', '--help'], { cwd })).stdout, /--full/);
    assert.match((await runCli(['simulate', '-h'], { cwd })).stdout, /--queue NAME[\s\S]*--digits/);
  });
});

// Runs the compiled CLI's main() in a process of its own, as bin.ts does, and once it has returned
// reports whatever still holds the event loop. The report is on an unref'd timer: it only fires if
// something else keeps the process alive that long (a log line being written is done well before).
// Stdio pipes are listed by getActiveResourcesInfo() but never keep a process alive by themselves.
const HELD_REPORTER = `
const { main } = await import(process.env.CC_CSAT_CLI_MODULE);
process.exitCode = await main(JSON.parse(process.env.CC_CSAT_ARGS), process.env);
setTimeout(() => {
  const held = process.getActiveResourcesInfo().filter((name) => name !== 'PipeWrap' && name !== 'TTYWrap');
  console.error('HELD ' + JSON.stringify(held));
}, 300).unref();
`;
const CLI_MODULE = pathToFileURL(fileURLToPath(new URL('../dist/cli.js', import.meta.url))).href;

describe('cc-csat start exits by itself once stopped', () => {
  test('after SIGTERM with ARI unreachable, nothing is left holding the event loop; exit 0', async () => {
    const tree = writeConfigTree({ logLevel: 'info' });
    const child = spawn(process.execPath, ['--input-type=module', '-e', HELD_REPORTER], {
      cwd: tree.dir,
      env: { PATH: process.env['PATH'] ?? '', CC_CSAT_CLI_MODULE: CLI_MODULE, CC_CSAT_ARGS: JSON.stringify(['start', '--config', tree.enginePath]) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // Started, and the ARI connect loop has run (and failed) at least once: the setup.
      await until(() => output.includes('"msg":"ARI not reachable; will retry"') || child.exitCode !== null, 10_000, () => `the engine retrying ARI\n${output}`);
      child.kill('SIGTERM');
      assert.equal(await within(exited, 15_000, () => `exit after SIGTERM\n${output}`), 0, output);
    } finally {
      child.kill('SIGKILL');
    }
    assert.match(output, /"msg":"stopped"/);
    const held = /^HELD (.*)$/m.exec(output)?.[1];
    assert.equal(held, undefined, `still holding the event loop after "stopped": ${held}`);
  });

  test('Asterisk coming back during shutdown does not keep the stopped engine alive', async () => {
    const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
    const tree = writeConfigTree({ ariUrl: sim.url, logLevel: 'info' });
    const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir });
    try {
      await sim.waitForClients(1);
      await until(() => engine.output().includes('"msg":"connected to ARI"'), 10_000, () => `connected\n${engine.output()}`);
      // ari-client retries its event stream on its own timers (100 ms, 200, 400...): stop while one is pending.
      sim.startOutage();
      const reconnecting = (): number => engine.output().split('"msg":"ARI event stream lost; reconnecting"').length - 1;
      await until(() => reconnecting() >= 3, 10_000, () => `ari-client reconnecting\n${engine.output()}`);
      engine.child.kill('SIGTERM');
      await until(() => engine.output().includes('"msg":"stopped"'), 10_000, () => `stopped\n${engine.output()}`);
      sim.endOutage();
      assert.equal(await within(engine.exited, 15_000, () => `exit after "stopped"\n${engine.output()}`), 0, engine.output());
    } finally {
      engine.child.kill('SIGKILL');
      await sim.close();
    }
  });
});
