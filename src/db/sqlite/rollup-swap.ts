// The engine's side of a full rollup build on SQLite (the why and the how: rollup-scratch.ts). The
// worker builds while ratings commit; for the swap, the writer connection is held (WriteGate.write)
// so the engine's own writes queue behind it, asynchronously, instead of meeting the worker's lock.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RefreshReport } from '../../storage/ports.js';
import { StorageError } from '../storage-error.js';
import type { ScratchBuildJob } from './rollup-scratch.js';
import type { WriteGate } from './write-gate.js';

// The worker runs this module's sibling; under tsx (tests, benchmarks) it is TypeScript and the worker
// registers tsx's loader first (a worker thread does not inherit the parent's --import hooks).
const OWN_EXTENSION = extname(fileURLToPath(import.meta.url));
const WORKER_ENTRY = new URL(`./rollup-build-worker${OWN_EXTENSION}`, import.meta.url).href;
const TS_LOADER = OWN_EXTENSION === '.ts' ? import.meta.resolve('tsx/esm/api') : undefined;
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.entry);
})().catch((err) => { throw err; });
`;

type WorkerMessage =
  | { readonly kind: 'built' | 'swapped'; readonly report: RefreshReport }
  | { readonly kind: 'failed'; readonly message: string; readonly code?: unknown };

/** Messages of one worker, in order; a worker that dies or fails ends the sequence with a StorageError. */
class BuildWorker {
  private readonly worker: Worker;
  private readonly received: WorkerMessage[] = [];
  private waiting: ((message: WorkerMessage) => void) | undefined;

  constructor(job: ScratchBuildJob) {
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData: { ...job, entry: WORKER_ENTRY, loader: TS_LOADER } });
    const deliver = (message: WorkerMessage) => {
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(message);
      } else this.received.push(message);
    };
    this.worker.on('message', deliver);
    this.worker.once('error', (err) => deliver({ kind: 'failed', message: err.message }));
    this.worker.once('exit', (code) => deliver({ kind: 'failed', message: `worker exited (code ${code}) before it was done` }));
  }

  /** The next report of `kind`; rejects with what went wrong otherwise. */
  async next(kind: 'built' | 'swapped'): Promise<RefreshReport> {
    const message = this.received.shift() ?? (await new Promise<WorkerMessage>((resolve) => (this.waiting = resolve)));
    if (message.kind === kind) return message.report;
    if (message.kind === 'failed') {
      throw new StorageError(message.code === 'SQLITE_FULL' ? 'disk_full' : message.code === 'SQLITE_BUSY' ? 'locked' : 'internal', `rollup build failed: ${message.message}`);
    }
    throw new StorageError('internal', `rollup build worker said ${message.kind} where ${kind} was due`);
  }

  post(message: 'swap' | 'cancel'): void {
    this.worker.postMessage(message);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Builds every rollup on a worker thread and swaps the result in; `beforeSwap` runs in between
 * (tests). Resolves with one report for the whole run: the build's counts plus the catch-up's.
 */
export async function buildAndSwap(writes: WriteGate, job: ScratchBuildJob, beforeSwap?: () => Promise<void>): Promise<RefreshReport> {
  const worker = new BuildWorker(job);
  try {
    const built = await worker.next('built');
    if (beforeSwap) await beforeSwap();
    const caughtUp = await writes.write('result service run', async () => {
      worker.post('swap');
      return worker.next('swapped');
    });
    return {
      kind: 'full',
      newRatings: built.newRatings + caughtUp.newRatings,
      touchedDays: -1,
      watermark: caughtUp.watermark,
      refreshedAt: job.refreshedAt,
      newAnswers: (built.newAnswers ?? 0) + (caughtUp.newAnswers ?? 0),
      newOutcomes: (built.newOutcomes ?? 0) + (caughtUp.newOutcomes ?? 0),
    };
  } finally {
    // A worker still swapping when this ends (the gate gave up on it) rolls back as it dies.
    await worker.stop();
  }
}
