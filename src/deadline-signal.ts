// A signal that aborts after `ms` (with a TimeoutError, as AbortSignal.timeout's does) or when `stop`
// aborts, whichever comes first; clear() when the guarded work is over.
//
// Not AbortSignal.any([AbortSignal.timeout(ms), stop]): on Node 20 the composite holds its sources
// weakly and nothing else holds the timeout signal, so a garbage collection before it fires leaves
// the composite never aborting, and a fetch to a peer that accepts the connection and never answers
// hangs for good (seen in CI as an alert delivery round to a hung receiver that never ended;
// reproduced with --expose-gc). Here the timer holds the controller, and the controller the signal.
export interface DeadlineSignal {
  readonly signal: AbortSignal;
  /** Stops the timer and lets go of `stop`: call it once the guarded work has ended, however it ended. */
  clear(): void;
}

export function deadlineSignal(ms: number, stop?: AbortSignal): DeadlineSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`The operation timed out after ${ms} ms`, 'TimeoutError')), ms);
  const onStop = (): void => controller.abort(stop?.reason);
  if (stop?.aborted) onStop();
  else stop?.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    },
  };
}
