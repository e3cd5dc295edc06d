// Survey claims (PostgreSQL, where engines share a database): one engine per call at a time; a dead
// engine's callers taken over once its lease runs out. SQLite has one engine per file and no claims.
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openStorage } from '../src/storage/open.js';
import type { ClaimResult, Storage } from '../src/storage/ports.js';
import { followScript, startHarness } from './helpers/harness.js';
import { createPostgresDatabase, POSTGRES_SKIP } from './helpers/postgres.js';
import { TEST_IVR } from './helpers/config-tree.js';
import { within } from './helpers/wait.js';

const PROMPT = 'csat/rate-intro';
const granted = (result: ClaimResult): boolean => result.granted;
const request = (callId: string, channelId: string, engineId: string, leaseMs = 15_000) => ({ callId, channelId, engineId, leaseMs });

interface ClaimsUnderTest {
  storage: Storage;
  /** Moves a lease's end by `ms` on the database's clock (negative: into the past), as time passing would. */
  shiftLease(callId: string, ms: number): Promise<void>;
  /** The lease's end as the database holds it, in ms from the database's now (negative: ran out). */
  leaseLeftMs(callId: string): Promise<number | undefined>;
}

async function withStorage(work: (under: ClaimsUnderTest) => Promise<void>): Promise<void> {
  const postgres = await createPostgresDatabase('claims');
  const storage = await openStorage({ kind: 'postgres', url: postgres.url, password: undefined, poolMax: 4, statementTimeoutMs: 30_000 });
  const client = new pg.Client({ connectionString: postgres.url });
  try {
    await storage.migrate();
    await client.connect();
    await work({
      storage,
      async shiftLease(callId, ms) {
        const { rowCount } = await client.query("UPDATE survey_claim SET lease_until = lease_until + $2 * interval '1 millisecond' WHERE call_id = $1", [callId, ms]);
        assert.equal(rowCount, 1, `a claim on ${callId} to shift`);
      },
      async leaseLeftMs(callId) {
        const { rows } = await client.query<{ left_ms: number }>('SELECT (extract(epoch FROM lease_until - now()) * 1000)::float8 AS left_ms FROM survey_claim WHERE call_id = $1', [callId]);
        return rows[0]?.left_ms;
      },
    });
  } finally {
    await client.end().catch(() => undefined);
    await storage.close();
    await postgres.drop();
  }
}

{
  describe('survey claims on PostgreSQL', { skip: POSTGRES_SKIP }, () => {
    test('one engine per call while its lease holds; the same engine and channel again is fine; another channel is not', async () => {
      await withStorage(async ({ storage: { claims } }) => {
        assert.equal(granted(await claims.claim(request('call-1', 'ch-a', 'engine-a'))), true);
        assert.equal(granted(await claims.claim(request('call-1', 'ch-a', 'engine-b'))), false, 'another engine, lease live');
        assert.equal(granted(await claims.claim(request('call-1', 'ch-a', 'engine-a'))), true, 'the owner again (a resync)');
        assert.equal(granted(await claims.claim(request('call-1', 'ch-other', 'engine-a'))), false, 'the same call on another channel');
        assert.equal(granted(await claims.claim(request('call-2', 'ch-b', 'engine-b'))), true, 'other calls are free');
      });
    });

    test('a lease that runs out is taken over; a renewed one is not; a released call is free at once', async () => {
      await withStorage(async ({ storage: { claims }, shiftLease }) => {
        assert.equal(granted(await claims.claim(request('dead-owner', 'ch-1', 'engine-a', 5_000))), true);
        assert.equal(granted(await claims.claim(request('renewed', 'ch-2', 'engine-a', 5_000))), true);
        // 10 s pass on the database's clock: both leases ran out; engine-a renews only the live one.
        await shiftLease('dead-owner', -10_000);
        await shiftLease('renewed', -10_000);
        assert.equal(await claims.renew('engine-a', ['renewed', 'not-held'], 5_000), 1);
        assert.equal(granted(await claims.claim(request('renewed', 'ch-2', 'engine-b'))), false, 'renewed: still engine-a\'s');
        assert.equal(granted(await claims.claim(request('dead-owner', 'ch-1', 'engine-b'))), true, 'ran out: taken over');
        assert.equal(granted(await claims.claim(request('dead-owner', 'ch-1', 'engine-a'))), false, 'the old owner lost it');
        assert.equal(await claims.renew('engine-a', ['dead-owner'], 5_000), 0, 'nor can it renew it');
        await claims.release('renewed', 'engine-b');
        assert.equal(granted(await claims.claim(request('renewed', 'ch-2', 'engine-c'))), false, 'only the owner releases');
        await claims.release('renewed', 'engine-a');
        assert.equal(granted(await claims.claim(request('renewed', 'ch-2', 'engine-c'))), true);
      });
    });

    test('leases and shared rate-limit counts run on the database\'s clock, whatever the engine\'s says', async () => {
      await withStorage(async ({ storage: { claims, keyUsage }, leaseLeftMs }) => {
        // This engine's clock is 56 years off (1970): a lease or a count stamped with it would be long dead.
        mock.timers.enable({ apis: ['Date'], now: 0 });
        try {
          assert.equal(granted(await claims.claim(request('timed', 'ch-1', 'engine-a', 60_000))), true);
          const left = await leaseLeftMs('timed');
          assert.ok(left !== undefined && left > 50_000 && left <= 60_000, `a 60 s lease from the database's now, left ${left} ms`);
          assert.equal(await claims.renew('engine-a', ['timed'], 1_000), 1);
          const renewed = await leaseLeftMs('timed');
          assert.ok(renewed !== undefined && renewed > 0 && renewed <= 1_000, `renewed to 1 s from the database's now, left ${renewed} ms`);
          await keyUsage.publish([{ keyName: 'k', engineId: 'engine-a', epoch: 'e1', used: 7 }]);
          assert.deepEqual(await keyUsage.othersSince('engine-b', 120_000), [{ keyName: 'k', engineId: 'engine-a', epoch: 'e1', used: 7 }], 'a fresh count, to another engine');
        } finally {
          mock.timers.reset();
        }
      });
    });

    test('engines racing for one call: exactly one wins', async () => {
      await withStorage(async ({ storage: { claims } }) => {
        for (let round = 0; round < 20; round++) {
          const wins = (await Promise.all(['a', 'b', 'c', 'd'].map((engine) => claims.claim(request(`race-${round}`, `ch-${round}`, `engine-${engine}`))))).map(granted);
          assert.equal(wins.filter(Boolean).length, 1, `round ${round}: ${wins.join(',')}`);
        }
      });
    });
  });
}

describe('the survey controller and claims on PostgreSQL', { skip: POSTGRES_SKIP }, () => {
  test('an engine renews the leases of its live surveys, so no other engine takes them; once it stops, its leases run out', async () => {
    const { SurveyClaims } = await import('../src/survey/claims.js');
    const { createLogger } = await import('../src/log.js');
    await withStorage(async ({ storage }) => {
      const here = new SurveyClaims({ store: storage.claims, engineId: 'engine-here', leaseMs: 1_000, log: createLogger('silent') });
      here.start();
      assert.equal(granted(await here.claim('long-call', 'ch-1')), true);
      await sleep(1_600);
      const other = async () =>
        granted(await storage.claims.claim({ callId: 'long-call', channelId: 'ch-1', engineId: 'engine-there', leaseMs: 1_000 }));
      assert.equal(await other(), false, 'renewed past its first lease');
      await here.stop();
      await sleep(1_200);
      assert.equal(await other(), true, 'not renewed any more: taken over');

      // A claim granted at once did not wait; one granted after another engine's lease ran out did
      // (the controller then looks again whether that engine stored the rating before it died).
      const gone = new AbortController().signal;
      const fresh = await here.claimOrWait('fresh-call', 'ch-2', gone);
      assert.deepEqual([fresh.granted, fresh.waited], [true, false]);
      assert.equal(granted(await storage.claims.claim({ callId: 'dead-owner', channelId: 'ch-3', engineId: 'engine-there', leaseMs: 300 })), true);
      const after = await within(here.claimOrWait('dead-owner', 'ch-3', gone), 10_000, 'the lease to run out');
      assert.deepEqual([after.granted, after.waited], [true, true]);
    });
  });

  test('a channel held by an engine that stopped renewing is surveyed once its lease runs out; the same call on another channel goes back as survey_in_progress', async () => {
    const h = await startHarness({ database: 'postgres', engineExtra: '[engine]\nid = "engine-here"' });
    try {
      // An engine that died (or came back under another id) while surveying this channel.
      const held = await h.storage.claims.claim({
        callId: 'held-elsewhere',
        channelId: 'ch-held',
        engineId: 'engine-gone',
        leaseMs: 1_500,
      });
      assert.equal(held.granted, true);
      // The same call id on another channel meanwhile: not left in silence, sent back and recorded.
      const twin = h.sim.enterStasis({ args: ['held-elsewhere', 'agent-1', 'sales-queue'] });
      assert.equal(await within(twin.ended, 5_000, 'the other channel to go back'), 'continued');
      await within(h.surveyDone(twin.id), 5_000, 'the other channel to be recorded');
      assert.deepEqual((await h.storage.outcomes.forCall('held-elsewhere')).map((row) => [row.channel_id, row.outcome, row.reason]), [[twin.id, 'skipped', 'survey_in_progress']]);

      // Asterisk hands us the held channel (we own the app now): surveyed once the lease ran out.
      const channel = h.sim.enterStasis({ id: 'ch-held', args: ['held-elsewhere', 'agent-1', 'sales-queue'] });
      const stop = followScript(h.sim, channel, [{ whenPlaying: PROMPT, after: 20, press: '2' }]);
      await within(h.surveyDone(channel.id), 30_000, 'the survey after the lease ran out');
      stop();
      assert.equal((await h.storage.ratings.findByCallId('held-elsewhere'))?.score, 4);
      assert.deepEqual((await h.storage.outcomes.forCall('held-elsewhere')).map((row) => [row.channel_id, row.outcome]), [
        [twin.id, 'skipped'],
        ['ch-held', 'completed'],
      ]);
      assert.deepEqual(await h.storage.db.selectFrom('survey_claim').selectAll().execute(), [], 'released when the survey ended');
    } finally {
      await h.close();
    }
  });

  test('the wait for a channel another engine holds counts against max_duration: the caller goes back to the dialplan within it', async () => {
    // max_duration_ms 5 s against a claim lease of 15 s (a wait of up to 20 s without the bound).
    const h = await startHarness({ database: 'postgres', engineExtra: '[engine]\nid = "engine-here"', ivrs: { survey: TEST_IVR.replace('max_duration_ms = 20000', 'max_duration_ms = 5000') } });
    try {
      const held = await h.storage.claims.claim({ callId: 'held-long', channelId: 'ch-held-long', engineId: 'engine-elsewhere', leaseMs: 120_000 });
      assert.equal(held.granted, true);
      const channel = h.sim.enterStasis({ id: 'ch-held-long', args: ['held-long', 'agent-1', 'sales-queue'] });
      assert.equal(await within(channel.ended, 12_000, 'the caller to go back within max_duration'), 'continued');
      await within(h.surveyDone(channel.id), 5_000, 'the outcome');
      assert.deepEqual((await h.storage.outcomes.forCall('held-long')).map((row) => [row.outcome, row.reason]), [['skipped', 'survey_in_progress']]);
      assert.deepEqual(channel.played, [], 'never asked anything');
    } finally {
      await h.close();
    }
  });

  test('while a survey runs its claim names this engine and channel; a second channel for the call is sent back as survey_in_progress', async () => {
    const h = await startHarness({ database: 'postgres', engineExtra: '[engine]\nid = "engine-here"' });
    try {
      const first = h.sim.enterStasis({ args: ['busy-call', 'agent-1', 'sales-queue'] });
      await within(
        (async () => {
          while ((await h.storage.db.selectFrom('survey_claim').selectAll().execute()).length === 0) await sleep(10);
        })(),
        5_000,
        'the claim of the first channel',
      );
      const [claim] = await h.storage.db.selectFrom('survey_claim').selectAll().execute();
      assert.equal(claim?.engine_id, 'engine-here');
      assert.equal(claim?.channel_id, first.id);
      const second = h.sim.enterStasis({ args: ['busy-call', 'agent-1', 'sales-queue'] });
      assert.equal(await within(second.ended, 5_000, 'the second channel to go back'), 'continued');
      await within(h.surveyDone(second.id), 5_000, 'the second channel to be recorded');
      const outcomes = await h.storage.outcomes.forCall('busy-call');
      assert.deepEqual(outcomes.map((row) => [row.channel_id, row.outcome, row.reason]), [[second.id, 'skipped', 'survey_in_progress']]);
      h.sim.callerHangup(first);
      await within(h.surveyDone(first.id), 5_000, 'the first survey to end');
    } finally {
      await h.close();
    }
  });
});
