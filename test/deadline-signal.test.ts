// deadlineSignal: the timeout-or-stop signal outgoing HTTP calls (alert deliveries, the ARI probe) use,
// against a peer that accepts the connection and never answers. The garbage collections forced here
// are what made AbortSignal.any([AbortSignal.timeout(ms), stop]) never abort on Node 20.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deadlineSignal } from '../src/deadline-signal.js';
import { within } from './helpers/wait.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function silentPeer(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

test('a peer that never answers: twenty requests all end in a TimeoutError, with collections forced meanwhile', async () => {
  const { url, server } = await silentPeer();
  const stop = new AbortController();
  const collecting = setInterval(gc, 10);
  try {
    const outcomes = await within(
      Promise.all(
        Array.from({ length: 20 }, async () => {
          const deadline = deadlineSignal(200, stop.signal);
          try {
            await fetch(url, { method: 'POST', body: 'x', signal: deadline.signal });
            return 'answered';
          } catch (err) {
            return (err as Error).name;
          } finally {
            deadline.clear();
          }
        }),
      ),
      10_000,
      'twenty requests to a silent peer to time out',
    );
    assert.deepEqual(outcomes, Array(20).fill('TimeoutError'));
  } finally {
    clearInterval(collecting);
    server.closeAllConnections();
    server.close();
  }
});

test("a stop aborts at once with the stop's reason; after clear() neither the stop nor the timer aborts", async () => {
  const stop = new AbortController();
  const stopped = deadlineSignal(60_000, stop.signal);
  stop.abort(new Error('shutting down'));
  assert.equal(stopped.signal.aborted, true);
  assert.equal((stopped.signal.reason as Error).message, 'shutting down');
  stopped.clear();

  const alreadyStopped = deadlineSignal(60_000, stop.signal);
  assert.equal(alreadyStopped.signal.aborted, true, 'a stop that came before');
  alreadyStopped.clear();

  const later = new AbortController();
  const cleared = deadlineSignal(50, later.signal);
  cleared.clear();
  later.abort();
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(cleared.signal.aborted, false);

  const alone = deadlineSignal(20);
  await within(new Promise((resolve) => alone.signal.addEventListener('abort', resolve, { once: true })), 5_000, 'the deadline without a stop');
  assert.equal((alone.signal.reason as DOMException).name, 'TimeoutError');
});
