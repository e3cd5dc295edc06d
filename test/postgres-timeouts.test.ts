// PostgreSQL: nobody waits forever on the database. A rating or a read blocked by a lock held elsewhere
// ends after [database] lock_wait_ms, one stalled past statement_timeout_ms is cancelled; both are a
// 503 with Retry-After and nothing written. Result service runs are exempt: they wait their turn.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { CC_CSAT_LOCK_CLASS, LOCK } from '../src/db/postgres/locks.js';
import { startApi, type ApiHarness } from './helpers/api.js';
import { POSTGRES_SKIP } from './helpers/postgres.js';
import { within } from './helpers/wait.js';

const rating = { agent_id: 'agent-1', queue_id: 'sales-queue', score: 4 };

/** Another session of the database (an operator's psql, another engine), holding `lockSql` in an open transaction. */
async function holdLock(api: ApiHarness, lockSql: string): Promise<{ release(): Promise<void> }> {
  const url = (api.config.database as { url: string }).url;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // Dropping the test database ends this session too, when a test fails half-way: not news.
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query(lockSql);
  return {
    async release() {
      try {
        await client.query('ROLLBACK');
      } finally {
        await client.end();
      }
    },
  };
}

const storedCount = async (api: ApiHarness, callId: string): Promise<number> =>
  (await api.db.selectFrom('cc_csat').select((eb) => eb.fn.countAll<number>().as('n')).where('call_id', '=', callId).executeTakeFirstOrThrow()).n;

describe('PostgreSQL: lock and statement timeouts', { skip: POSTGRES_SKIP }, () => {
  test('a rating blocked by a lock held elsewhere is a 503 "locked" after lock_wait_ms, nothing written; after the lock, it is stored', async () => {
    const api = await startApi({ database: 'postgres', databaseExtra: 'lock_wait_ms = 300\nstatement_timeout_ms = 20000' });
    try {
      const lock = await holdLock(api, 'LOCK TABLE cc_csat IN ACCESS EXCLUSIVE MODE');
      try {
        const blocked = await within(api.request('POST', '/cc/csat/while-locked', { body: rating, duringOpenTransaction: true }), 10_000, 'the blocked write to answer');
        assert.equal(blocked.status, 503);
        assert.match(blocked.body.detail, /locked/);
        assert.equal(blocked.headers.get('retry-after'), '1');
        const read = await within(api.request('GET', '/cc/csat/while-locked', { duringOpenTransaction: true }), 10_000, 'the blocked read to answer');
        assert.equal(read.status, 503);
      } finally {
        await lock.release();
      }
      assert.equal(await storedCount(api, 'while-locked'), 0);
      assert.equal((await api.request('POST', '/cc/csat/while-locked', { body: rating })).status, 201);
      assert.equal(await storedCount(api, 'while-locked'), 1);
    } finally {
      await api.close();
    }
  });

  test('a statement that runs past statement_timeout_ms is cancelled: 503 "did not answer in time" with Retry-After, nothing written', async () => {
    // No lock timeout: the wait goes on until the statement's own limit ends it.
    const api = await startApi({ database: 'postgres', databaseExtra: 'lock_wait_ms = 0\nstatement_timeout_ms = 1000' });
    try {
      const lock = await holdLock(api, 'LOCK TABLE cc_csat IN ACCESS EXCLUSIVE MODE');
      try {
        const stalled = await within(api.request('POST', '/cc/csat/stalled', { body: rating, duringOpenTransaction: true }), 10_000, 'the stalled write to answer');
        assert.equal(stalled.status, 503);
        assert.match(stalled.body.detail, /did not answer in time/);
        assert.equal(stalled.headers.get('retry-after'), '5');
      } finally {
        await lock.release();
      }
      assert.equal(await storedCount(api, 'stalled'), 0);
    } finally {
      await api.close();
    }
  });

  test('a result service run waiting for another engine\'s run is not cancelled by those limits: it runs once the other is done', async () => {
    const api = await startApi({ database: 'postgres', databaseExtra: 'lock_wait_ms = 200\nstatement_timeout_ms = 1000' });
    try {
      assert.equal((await api.request('POST', '/cc/csat/before-run', { body: rating })).status, 201);
      // Another engine's run, holding the run lock for longer than both limits.
      const otherRun = await holdLock(api, `SELECT pg_advisory_xact_lock(${CC_CSAT_LOCK_CLASS}, ${LOCK.resultRun})`);
      const run = api.results.run('full');
      let released = false;
      const releasing = new Promise<void>((resolve, reject) => {
        setTimeout(() => {
          released = true;
          otherRun.release().then(resolve, reject);
        }, 2_500);
      });
      const report = await within(run, 20_000, 'the waiting run');
      await releasing;
      assert.equal(released, true, 'the run ended only after the other one');
      assert.equal(report.kind, 'full');
      assert.equal(report.newRatings, 1);
    } finally {
      await api.close();
    }
  });
});
