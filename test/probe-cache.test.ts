// /readyz's database probe: one at a time, at most once per interval, whatever the load.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProbeCache } from '../src/http/probe-cache.js';

test('a burst of readiness checks probes the database once; a later check after the interval probes again', async () => {
  let probes = 0;
  let now = 0;
  let answer = 'ok';
  const cache = new ProbeCache(
    async () => {
      probes++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return answer;
    },
    1000,
    () => now,
  );
  const answers = await Promise.all(Array.from({ length: 500 }, () => cache.answer()));
  assert.equal(probes, 1);
  assert.ok(answers.every((each) => each === 'ok'));
  answer = 'database is read-only (attempt to write a readonly database)';
  now = 999;
  assert.equal(await cache.answer(), 'ok', 'within the interval: the last answer');
  now = 1001;
  assert.equal(await cache.answer(), answer, 'after it: probed again');
  assert.equal(probes, 2);
});
