// Worker-thread entry of a full rollup build (rollup-scratch.ts): builds the scratch file, says so,
// and swaps it in when the writer says go (the writer holds its own connection meanwhile, so the
// engine's writes queue behind the swap instead of failing on the lock). Any failure is answered,
// not thrown: the engine reports it and the next run builds again.
import { parentPort, workerData } from 'node:worker_threads';
import { buildScratch, swapScratchIn, type ScratchBuildJob } from './rollup-scratch.js';

const job = workerData as ScratchBuildJob;

function failure(err: unknown) {
  return { kind: 'failed', message: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown }).code };
}

try {
  const built = await buildScratch(job);
  parentPort!.postMessage({ kind: 'built', report: built });
  parentPort!.once('message', (message: 'swap' | 'cancel') => {
    if (message !== 'swap') {
      parentPort!.close();
      return;
    }
    swapScratchIn(job).then(
      (report) => parentPort!.postMessage({ kind: 'swapped', report }),
      (err: unknown) => parentPort!.postMessage(failure(err)),
    );
  });
} catch (err) {
  parentPort!.postMessage(failure(err));
}
