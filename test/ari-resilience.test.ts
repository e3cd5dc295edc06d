// The event stream drops, Asterisk is down at boot, ari-client gives up after 10 tries, 500 callers at once.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, until } from './helpers/wait.js';
import { AriTelephony } from '../src/ari/ari-telephony.js';
import { outcomesForCall } from '../src/db/outcomes.js';
import { findRatingByCallId } from '../src/db/ratings.js';
import { createLogger } from '../src/log.js';
import { AriSimulator } from './ari-sim/simulator.js';
import { followScript, LogCapture, startHarness, type Harness } from './helpers/harness.js';
import { unhandledRejections } from './helpers/unhandled.js';

const PROMPT = 'sound:csat/rate-intro';

/** A caller in sales-queue's survey with the question playing: where the outage tests cut Asterisk off. */
async function callerHearingQuestion(h: Harness, callId: string) {
  const channel = h.sim.enterStasis({ args: [callId, 'agent-1', 'sales-queue'] });
  const done = h.surveyDone(channel.id);
  await until(() => channel.played.length === 1, 2000, 'question to start');
  return { channel, done };
}

describe('ARI connection resilience', () => {
  afterEach(() => {
    assert.deepEqual(unhandledRejections, [], 'no unhandled promise rejection');
  });

  test('event stream drops mid-survey: reconnects, settles the playback that ended meanwhile, stores the key', async () => {
    const h = await startHarness();
    try {
      const { channel, done } = await callerHearingQuestion(h, 'drop-1');
      h.sim.startOutage();
      // The question (240 ms) finishes while we cannot hear PlaybackFinished.
      await sleep(400);
      h.sim.endOutage();
      await until(() => h.sim.connectedClients === 1 && h.telephony.state === 'connected', 5000, 'reconnect');
      await sleep(50);
      h.sim.press(channel, '1');
      await done;
      assert.equal((await findRatingByCallId(h.database.db, 'drop-1'))?.score, 5);
      assert.equal((await outcomesForCall(h.database.db, 'drop-1'))[0]?.outcome, 'completed');
      assert.ok(h.logs.lines.some((line) => line['msg'] === 'ARI event stream lost; reconnecting'));
      assert.ok(h.logs.lines.some((line) => line['msg'] === 'resynced after reconnect'));
    } finally {
      await h.close();
    }
  });

  test('caller hangs up while events are down: the orphaned session is settled as abandoned on reconnect', async () => {
    const h = await startHarness();
    try {
      const { channel, done } = await callerHearingQuestion(h, 'orphan-1');
      h.sim.startOutage();
      await sleep(50);
      h.sim.callerHangup(channel); // its events go nowhere
      await sleep(200);
      h.sim.endOutage();
      await done;
      assert.equal((await outcomesForCall(h.database.db, 'orphan-1'))[0]?.outcome, 'abandoned');
      assert.equal(h.telephony.liveChannelCount, 0);
    } finally {
      await h.close();
    }
  });

  test('a caller who entered Stasis while events were down is adopted after reconnect and surveyed', async () => {
    const h = await startHarness();
    try {
      h.sim.startOutage();
      await sleep(30);
      const channel = h.sim.enterStasis({ args: ['adopt-1', 'agent-1', 'sales-queue'] });
      const stop = followScript(h.sim, channel, [{ whenPlaying: PROMPT, after: 20, press: '3' }]);
      h.sim.endOutage();
      await h.surveyDone(channel.id);
      stop();
      assert.equal((await findRatingByCallId(h.database.db, 'adopt-1'))?.score, 3);
    } finally {
      await h.close();
    }
  });

  test('a caller entering Stasis while the resync request is in flight is surveyed, not settled as orphaned', async () => {
    const h = await startHarness();
    try {
      let injected: ReturnType<typeof h.sim.enterStasis> | undefined;
      h.sim.beforeRespond = (method, path) => {
        if (method === 'GET' && path === '/applications/csat' && !injected) {
          // The answer (without this channel) is computed; its StasisStart overtakes it on the WebSocket.
          injected = h.sim.enterStasis({ args: ['mid-resync', 'agent-1', 'sales-queue'] });
          followScript(h.sim, injected, [{ whenPlaying: PROMPT, after: 20, press: '4' }]);
        }
      };
      h.sim.dropConnections();
      await until(() => injected !== undefined, 5000, 'resync request');
      await h.surveyDone(injected!.id);
      const stored = await findRatingByCallId(h.database.db, 'mid-resync');
      assert.equal(injected!.endedBy, 'app_hangup');
      assert.equal(stored?.score, 2);
    } finally {
      await h.close();
    }
  });

  test('a caller entering Stasis the instant the event stream opens is surveyed, not failed as "not connected"', async () => {
    let first: ReturnType<AriSimulator['enterStasis']> | undefined;
    const h = await startHarness({
      beforeConnect: (sim) =>
        sim.onClientConnected.add(() => {
          if (first) return;
          // Its StasisStart is the first frame after the upgrade: it lands before ari-client's start() settles.
          first = sim.enterStasis({ args: ['at-open', 'agent-1', 'sales-queue'] });
          followScript(sim, first, [{ whenPlaying: PROMPT, after: 20, press: '2' }]);
        }),
    });
    try {
      await h.surveyDone(first!.id);
      assert.equal((await outcomesForCall(h.database.db, 'at-open'))[0]?.outcome, 'completed');
      assert.equal((await findRatingByCallId(h.database.db, 'at-open'))?.score, 4);
      assert.equal(first!.endedBy, 'app_hangup');
    } finally {
      await h.close();
    }
  });

  test('a survey that ends while Asterisk is unreachable: the caller is hung up after reconnect, not left in silence', async () => {
    const h = await startHarness();
    try {
      const { channel, done } = await callerHearingQuestion(h, 'dark-1');
      h.sim.startOutage({ rest: true });
      // PlaybackFinished is lost, the guard timer's stop cannot reach Asterisk: the survey fails,
      // and so does its hangup.
      await done;
      assert.equal((await outcomesForCall(h.database.db, 'dark-1'))[0]?.outcome, 'failed');
      assert.equal(channel.endedBy, undefined, 'still in Stasis while Asterisk is unreachable');
      h.sim.endOutage();
      await until(() => channel.endedBy !== undefined, 10_000, 'the caller to be released');
      assert.equal(channel.endedBy, 'app_hangup');
      assert.ok(h.logs.lines.some((line) => line['msg'] === 'releasing a caller whose survey ended while Asterisk was unreachable'));
      // The hangup's answer and its StasisEnd travel separately; the channel is forgotten on StasisEnd.
      await until(() => h.telephony.liveChannelCount === 0, 2000, 'StasisEnd to reach the engine');
    } finally {
      await h.close();
    }
  });

  test('Asterisk down at boot: keeps retrying with backoff and connects when it appears', async () => {
    const port = await freePort();
    const logs = new LogCapture();
    const telephony = new AriTelephony({
      url: `http://127.0.0.1:${port}`,
      username: 'csat',
      password: 'secret',
      app: 'csat',
      reconnectMaxDelayMs: 400,
      requestTimeoutMs: 1000,
      log: createLogger('debug', logs.stream),
    });
    telephony.start();
    let sim: AriSimulator | undefined;
    try {
      await until(() => logs.lines.filter((l) => l['msg'] === 'ARI not reachable; will retry').length >= 3, 5000, 'three failed attempts');
      assert.equal(telephony.state, 'connecting');
      sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start(port);
      await until(() => telephony.state === 'connected', 5000, 'connection once Asterisk is up');
      assert.match(String(logs.lines.find((l) => l['msg'] === 'ARI not reachable; will retry')?.['err']), /unreachable \(ECONNREFUSED\)/);
      const attempts = logs.lines.filter((l) => l['msg'] === 'connecting to ARI').map((l) => l['attempt']);
      assert.deepEqual(attempts.slice(0, 3), [1, 2, 3], 'each attempt is logged with its number');
    } finally {
      await telephony.stop();
      await sim?.close();
    }
  });

  test('wrong ARI password is retried and logged, never crashes', async () => {
    const sim = await new AriSimulator({ username: 'csat', password: 'right' }).start();
    const logs = new LogCapture();
    const telephony = new AriTelephony({
      url: sim.url,
      username: 'csat',
      password: 'wrong',
      app: 'csat',
      reconnectMaxDelayMs: 300,
      requestTimeoutMs: 1000,
      log: createLogger('debug', logs.stream),
    });
    telephony.start();
    try {
      await until(() => logs.lines.filter((l) => l['msg'] === 'ARI not reachable; will retry').length >= 2, 5000, 'failed attempts');
      assert.match(String(logs.lines.find((l) => l['msg'] === 'ARI not reachable; will retry')?.['err']), /rejected user "csat" \(401\)/);
      assert.equal(sim.connectedClients, 0);
      assert.equal(telephony.state, 'connecting');
    } finally {
      await telephony.stop();
      await sim.close();
    }
  });

  test('ari-client gives up after 10 tries (~43 s); cc-csat keeps going and reconnects', { timeout: 120_000 }, async () => {
    const h = await startHarness();
    try {
      h.sim.startOutage();
      await until(() => h.logs.lines.some((l) => l['msg'] === 'ARI reconnect round exhausted; starting another'), 60_000, 'ari-client to give up');
      assert.equal(h.telephony.state, 'connecting');
      h.sim.endOutage();
      await until(() => h.telephony.state === 'connected' && h.sim.connectedClients === 1, 15_000, 'reconnect after the round');
      const channel = await h.call({ args: ['after-rounds', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '2' }] });
      assert.equal(channel.endedBy, 'app_hangup');
      assert.equal((await findRatingByCallId(h.database.db, 'after-rounds'))?.score, 4);
    } finally {
      await h.close();
    }
  });

  test('500 concurrent surveys: every rating stored with the right score, agent and queue', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    try {
      const keys = ['1', '2', '3', '4', '5'];
      const calls = Array.from({ length: 500 }, (_, i) => ({ id: `bulk-${i}`, key: keys[i % 5]!, agent: `agent-${i % 37}` }));
      await Promise.all(
        calls.map((call, i) =>
          h.call({
            args: [call.id, call.agent, 'sales-queue'],
            script: [{ whenPlaying: PROMPT, after: 20 + (i % 200), press: call.key }],
          }),
        ),
      );
      const rows = await h.database.db.selectFrom('cc_csat').selectAll().where('call_id', 'like', 'bulk-%').execute();
      if (rows.length !== 500) {
        const failed = await h.database.db.selectFrom('survey_outcome').select(['call_id', 'outcome', 'reason']).where('outcome', '!=', 'completed').limit(3).execute();
        assert.fail(`${500 - rows.length} surveys not stored, e.g. ${JSON.stringify(failed)}`);
      }
      assert.equal(rows.length, 500);
      const byCall = new Map(rows.map((row) => [row.call_id, row]));
      for (const call of calls) {
        const row = byCall.get(call.id);
        assert.equal(row?.score, 6 - Number(call.key), call.id);
        assert.equal(row?.agent_id, call.agent);
      }
      const outcomes = await h.database.db
        .selectFrom('survey_outcome')
        .select(({ fn }) => ['outcome', fn.countAll<number>().as('n')])
        .where('call_id', 'like', 'bulk-%')
        .groupBy('outcome')
        .execute();
      assert.deepEqual(outcomes, [{ outcome: 'completed', n: 500 }]);
      assert.equal(h.controller.liveCount, 0);
      await until(() => h.telephony.liveChannelCount === 0, 2000, 'every StasisEnd to reach the engine');
    } finally {
      await h.close();
    }
  });
});
