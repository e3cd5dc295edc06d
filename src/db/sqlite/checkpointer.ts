// WAL checkpoints on a worker thread with its own connection: copies committed WAL pages into the
// database file (PASSIVE never blocks the engine's readers or writers), so the fsync a checkpoint
// needs never stalls the event loop that handles live calls.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.js';

export interface Checkpointer {
  /** Pages copied by the last checkpoint; -1 before the first. */
  readonly lastCheckpointed: number;
  stop(): Promise<void>;
}

// Plain CommonJS evaluated in the worker: no TypeScript loader needed there, and better-sqlite3
// is loaded by the absolute path resolved here, whatever the working directory.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SqliteDatabase = require(workerData.driver);
const db = new SqliteDatabase(workerData.path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ kind: 'checkpoint', ...result });
  } catch (err) {
    parentPort.postMessage({ kind: 'error', message: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');

export function startCheckpointer(path: string, intervalMs: number, log: Logger): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver: driverPath } });
  let lastCheckpointed = -1;
  let lastError: string | undefined;
  worker.on('message', (message: { kind: string; checkpointed?: number; message?: string }) => {
    if (message.kind === 'checkpoint') {
      lastCheckpointed = message.checkpointed ?? 0;
      lastError = undefined;
    } else if (message.message !== lastError) {
      lastError = message.message;
      log.warn({ err: message.message }, 'WAL checkpoint failed; SQLite falls back to checkpointing on commit');
    }
  });
  worker.on('error', (err) => log.error({ err }, 'WAL checkpoint thread crashed; SQLite falls back to checkpointing on commit'));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    get lastCheckpointed() {
      return lastCheckpointed;
    },
    async stop() {
      worker.postMessage('stop');
      // Unref'd: once the worker has exited, this deadline must not hold the process open for 2 s more.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    },
  };
}
