// The ARI reconnect delay: `ari.reconnect_max_delay_ms` is a promise to ops ("never wait longer than
// this"), and jitter must still spread a fleet of engines out when every one of them is at the cap.
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { backoffDelay } from '../src/ari/ari-telephony.js';

const CAPS = [100, 1_000, 15_000, 300_000];
const ATTEMPTS = Array.from({ length: 40 }, (_, i) => i + 1);

function withRandom<T>(value: number, run: () => T): T {
  const random = mock.method(Math, 'random', () => value);
  try {
    return run();
  } finally {
    random.mock.restore();
  }
}

describe('ARI reconnect backoff', () => {
  test('never exceeds the configured cap, whatever the jitter draws', () => {
    for (const random of [0, 0.5, 0.999999]) {
      for (const cap of CAPS) {
        for (const attempt of ATTEMPTS) {
          const delay = withRandom(random, () => backoffDelay(attempt, cap));
          assert.ok(delay <= cap, `attempt ${attempt}, cap ${cap}, random ${random}: ${delay} ms`);
          assert.ok(delay > 0, `attempt ${attempt}, cap ${cap}: ${delay} ms`);
        }
      }
    }
  });

  test('many real draws stay within the cap and grow from the first retry towards it', () => {
    for (const cap of CAPS) {
      for (const attempt of ATTEMPTS) {
        for (let draw = 0; draw < 200; draw++) {
          const delay = backoffDelay(attempt, cap);
          assert.ok(delay <= cap, `attempt ${attempt}, cap ${cap}: ${delay} ms`);
        }
      }
    }
    const cap = 15_000;
    assert.ok(withRandom(0.5, () => backoffDelay(1, cap)) < withRandom(0.5, () => backoffDelay(5, cap)), 'backs off');
  });

  test('at the cap, engines still spread out below it instead of all retrying at the same moment', () => {
    const cap = 15_000;
    const attempt = 30;
    const [first, second] = [0, 0.999999].map((random) => withRandom(random, () => backoffDelay(attempt, cap)));
    assert.ok(Math.abs(first! - second!) >= cap * 0.1, `spread at the cap: ${first} and ${second} ms`);
    // Clamping a jittered delay would put about half the fleet on exactly the cap.
    const counts = new Map<number, number>();
    for (let draw = 0; draw < 500; draw++) {
      const delay = backoffDelay(attempt, cap);
      counts.set(delay, (counts.get(delay) ?? 0) + 1);
    }
    const [mostCommon, times] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    assert.ok(times <= 50, `${times} of 500 engines would retry after exactly ${mostCommon} ms`);
  });
});
