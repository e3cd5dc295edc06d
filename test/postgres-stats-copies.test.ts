// PostgreSQL: an engine answers queue statistics from an in-memory copy of the queue's rollups, kept
// until the rollups move (src/db/postgres/stats-queue-copies.ts, stats-state-watch.ts). A run of
// another engine must show in this engine's answers; the copies held stay bounded whatever ids a
// client asks for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openPostgresStorage } from '../src/db/postgres/open.js';
import type { PostgresStatsStore } from '../src/db/postgres/stats.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { startApi } from './helpers/api.js';
import { POSTGRES_SKIP } from './helpers/postgres.js';
import { eventually } from './helpers/real-asterisk.js';

const NOW = new Date('2026-11-20T14:03:07.123Z');

describe('PostgreSQL: queue statistics from in-memory copies', { skip: POSTGRES_SKIP }, () => {
  test('a run by another engine shows in this engine\'s next answers (count, ETag) without a run here', async () => {
    const api = await startApi({ database: 'postgres', now: NOW, apiExtra: 'allow_unknown_queues = true' });
    const url = (api.config.database as { url: string }).url;
    const other = await openPostgresStorage({ url, poolMax: 2, applicationName: 'the other engine' });
    const otherRuns = new ResultService({ rollups: other.rollups, timezone: 'UTC', log: createLogger('silent'), now: () => NOW });
    try {
      const rate = async (callId: string, score: number) =>
        assert.equal((await api.request('POST', `/cc/csat/${callId}`, { body: { score, agent_id: 'ana', queue_id: 'sales-queue' } })).status, 201);
      await rate('copy-1', 5);
      await api.results.run('incremental');
      const first = await api.request('GET', '/cc/csat/queue/sales-queue?days=7');
      assert.equal(first.body.count, 1);
      // Asked again: the same answer (from the copy), the same ETag.
      const again = await api.request('GET', '/cc/csat/queue/sales-queue?days=7');
      assert.deepEqual([again.body.count, again.headers.get('etag')], [1, first.headers.get('etag')]);
      assert.equal((api.storage.stats as PostgresStatsStore).heldQueueCopies, 1);

      // A rating folded in by the other engine's run: this engine never ran.
      await rate('copy-2', 1);
      await otherRuns.run('incremental');
      let seen: Awaited<ReturnType<typeof api.request>> | undefined;
      await eventually(
        async () => {
          seen = await api.request('GET', '/cc/csat/queue/sales-queue?days=7');
          return seen.body.count === 2;
        },
        5_000,
        'this engine to answer with the other engine\'s run',
      );
      assert.ok(seen);
      assert.equal(seen.body.average, 3);
      assert.deepEqual(seen.body.agent_ranking, [{ rank: 1, agent_id: 'ana', average: 3, count: 2 }]);
      assert.notEqual(seen.headers.get('etag'), first.headers.get('etag'));
    } finally {
      await other.close();
      await api.close();
    }
  });

  test('held copies stay bounded: ids nobody rated hold nothing, and at most 32 rated queues are held', async () => {
    const api = await startApi({ database: 'postgres', now: NOW, apiExtra: 'allow_unknown_queues = true' });
    try {
      for (let q = 0; q < 40; q++) {
        assert.equal((await api.request('POST', `/cc/csat/bound-${q}`, { body: { score: 4, agent_id: 'ana', queue_id: `queue-${q}` } })).status, 201);
      }
      await api.results.run('incremental');
      const stats = api.storage.stats as PostgresStatsStore;
      for (let i = 0; i < 200; i++) assert.equal((await api.request('GET', `/cc/csat/queue/nobody-${i}`)).status, 404);
      assert.equal(stats.heldQueueCopies, 0, 'unknown ids hold no copy');
      for (let q = 0; q < 40; q++) assert.equal((await api.request('GET', `/cc/csat/queue/queue-${q}?days=7`)).body.count, 1, `queue-${q}`);
      assert.equal(stats.heldQueueCopies, 32);
      // The least recently asked went first: the early queues are read again, and answer the same.
      assert.equal((await api.request('GET', '/cc/csat/queue/queue-0?days=7')).body.count, 1);
      assert.equal(stats.heldQueueCopies, 32);
    } finally {
      await api.close();
    }
  });
});
