import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a test waits for, built only when a wait fails (it may embed a process's output). */
const waitingFor = (what: string | (() => string)): string => (typeof what === 'function' ? what() : what);

/**
 * Polls `predicate` every 10 ms; fails naming `what` after `timeoutMs`. An async predicate is awaited
 * within what is left of the deadline (a request that hangs fails the wait in time), and one that
 * rejects counts as "not yet" (an engine restarting); the last rejection is in the timeout's message.
 */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const answer = predicate();
    if (answer === true) return;
    if (answer !== false) {
      let timer: NodeJS.Timeout | undefined;
      const outOfTime = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(1, deadline - Date.now()))));
      try {
        if (await Promise.race([answer, outOfTime])) return;
      } catch (err) {
        lastError = err;
      } finally {
        clearTimeout(timer);
      }
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${waitingFor(what)}${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}`);
    await sleep(10);
  }
}

/** Awaits `promise`, failing naming `what` if it has not settled after `timeoutMs`: no test waits forever. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${waitingFor(what)}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A loopback port nobody listens on right now (to start a server there later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
