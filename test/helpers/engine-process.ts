// The real `cc-csat start` as its own process, for tests that need the whole engine. Every wait is
// bounded: a hung engine fails its test with the engine's own output instead of hanging the run.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { CLI } from './cli.js';
import { until, within } from './wait.js';

export interface EngineProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Parsed JSON log lines so far. */
  logLines(): Array<Record<string, any>>;
  /** Resolves with the exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** Waits for "cc-csat started" and returns the API's base URL. */
  started(timeoutMs?: number): Promise<string>;
  /** Sends `signal` and waits for the exit; SIGKILLs and throws (with the output) after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

const running = new Set<ChildProcess>();
// Whatever happens to a test (timeout, failed assertion before its finally), no engine outlives the run.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function spawnEngine(args: readonly string[], options: { cwd: string; env?: Record<string, string>; nodeFlags?: readonly string[] }): EngineProcess {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), CLI, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  for (const stream of [child.stdout, child.stderr] as Readable[]) stream.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const logLines = (): Array<Record<string, any>> =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, any>);

  return {
    child,
    exited,
    output: () => output,
    logLines,
    async started(timeoutMs = 10_000) {
      await until(() => output.includes('"msg":"cc-csat started"') || child.exitCode !== null, timeoutMs, () => `engine start\n${output}`);
      const line = logLines().find((entry) => entry['msg'] === 'cc-csat started');
      if (!line) throw new Error(`cc-csat exited before it started (code ${child.exitCode})\n${output}`);
      return `http://127.0.0.1:${line['address'].port}`;
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      try {
        return await within(exited, timeoutMs, () => `cc-csat to exit after ${signal}\n${output}`);
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
    },
  };
}
