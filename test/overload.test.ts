// Asterisk overloaded or dropping answers: new callers are turned away before their survey starts,
// surveys already running keep their place and finish, and the requests that are safe to repeat
// are sent once more instead of hanging up on a caller in the middle of a question.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { RequestPool, type RequestPriority } from '../src/ari/request-pool.js';
import { outcomesForCall } from '../src/db/outcomes.js';
import { findRatingByCallId } from '../src/db/ratings.js';
import type { SimChannel } from './ari-sim/simulator.js';
import { followScript, startHarness, type Harness } from './helpers/harness.js';
import { unhandledRejections } from './helpers/unhandled.js';
import { until, within } from './helpers/wait.js';

const PROMPT = 'sound:csat/rate-intro';
const KEY_SCORE: Record<string, number> = { '1': 5, '2': 4, '3': 3, '4': 2, '5': 1 };

async function shedCounter(h: Harness): Promise<number> {
  return (await h.metrics.admissionShed.get()).values[0]?.value ?? 0;
}

async function outcomeRows(h: Harness) {
  return h.database.db.selectFrom('survey_outcome').select(['call_id', 'outcome', 'reason']).execute();
}

/** A caller whose survey is running: it has heard the start of the question. */
async function callerAtQuestion(h: Harness, callId: string): Promise<{ channel: SimChannel; done: Promise<void> }> {
  const channel = h.sim.enterStasis({ args: [callId, 'agent-1', 'sales-queue'] });
  const done = h.surveyDone(channel.id);
  await until(() => channel.played.length === 1, 5000, `${callId} to hear the question`);
  return { channel, done };
}

const requestsFor = (h: Harness, method: string, path: string) => h.sim.received.filter((r) => r.method === method && r.path === path);

describe('overload and lost answers', () => {
  afterEach(() => {
    assert.deepEqual(unhandledRejections, [], 'no unhandled promise rejection');
  });

  test('Asterisk slow: running surveys finish, new callers go back to the dialplan (counted once each), and after it recovers callers are surveyed again', async () => {
    const h = await startHarness({ ariExtra: 'request_timeout_ms = 3000\nadmission_max_latency_ms = 100' });
    try {
      const running = await Promise.all(['2', '5', '1', '3', '4', '2'].map(async (key, i) => ({ key, id: `run-${i}`, ...(await callerAtQuestion(h, `run-${i}`)) })));
      // Every answer now takes 250 ms, well past the 100 ms bound.
      h.sim.restDelay = () => 250;
      for (const caller of running) h.sim.press(caller.channel, caller.key);
      await until(() => h.telephony.load.recentLatencyMs() >= 100, 5000, 'the slow answers to be noticed');

      const arriving: SimChannel[] = [];
      for (let i = 0; i < 8; i++) {
        arriving.push(h.sim.enterStasis({ args: [`new-${i}`, 'agent-2', 'sales-queue'] }));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await within(Promise.all([...running.map((c) => c.done), ...arriving.map((c) => h.surveyDone(c.id))]), 15_000, 'every caller to be settled');

      for (const caller of running) {
        const [row, ...more] = await outcomesForCall(h.database.db, caller.id);
        assert.equal(more.length, 0, `one outcome row for ${caller.id}`);
        assert.equal(row?.outcome, 'completed', `${caller.id} was answering when Asterisk slowed: ${JSON.stringify(row)}`);
        assert.equal((await findRatingByCallId(h.database.db, caller.id))?.score, KEY_SCORE[caller.key]);
        assert.equal(caller.channel.endedBy, 'app_hangup');
      }
      for (const channel of arriving) {
        assert.equal(channel.endedBy, 'continued', `${channel.args[0]} went back to the dialplan`);
        assert.deepEqual(channel.played, [], `${channel.args[0]} heard nothing of a survey`);
      }
      const rows = await outcomeRows(h);
      const shedRows = rows.filter((r) => r.outcome === 'skipped' && r.reason === 'overloaded');
      const continued = [...h.sim.channels.values()].filter((c) => c.endedBy === 'continued').length;
      assert.deepEqual(shedRows.map((r) => r.call_id).sort(), arriving.map((c) => c.args[0]).sort());
      assert.equal(await shedCounter(h), shedRows.length, 'cc_csat_admission_shed_total counts each refused caller once');
      assert.equal(continued, shedRows.length, 'every refused caller, and only they, continued in the dialplan');
      assert.deepEqual(rows.filter((r) => r.outcome === 'failed'), [], 'no survey failed');

      // Asterisk recovers: once its recent answers are fast again, new callers get their survey.
      h.sim.restDelay = () => 0;
      await until(() => h.telephony.load.recentLatencyMs() < 100, 5000, 'the slow answers to age out');
      const after = await h.call({ args: ['after-recovery', 'agent-2', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '5' }] });
      assert.equal(after.endedBy, 'app_hangup');
      assert.equal((await findRatingByCallId(h.database.db, 'after-recovery'))?.score, 1);
      assert.equal(await shedCounter(h), 8);
    } finally {
      await h.close();
    }
  });

  test('running surveys go ahead of queued work for new callers: a live caller is rated and hung up while earlier arrivals still wait', async () => {
    // Three connections, of which work for callers not yet admitted may hold one.
    const h = await startHarness({
      ariExtra: 'request_timeout_ms = 10000\nmax_concurrent_requests = 3\nadmission_max_in_flight = 1\nadmission_max_latency_ms = 5000',
    });
    try {
      const live = await callerAtQuestion(h, 'live-1');
      h.sim.restDelay = () => 40;
      // Callers whose ids come from channel variables (three reads each), from a queue without surveys.
      const arriving = Array.from({ length: 10 }, (_, i) =>
        h.sim.enterStasis({ variables: { CSAT_CALL_ID: `queued-${i}`, CSAT_AGENT_ID: 'agent-3', CSAT_QUEUE_ID: 'quiet-queue' } }),
      );
      await until(() => h.sim.received.some((r) => r.path.endsWith('/variable')), 5000, 'the first variable read');
      h.sim.press(live.channel, '4');
      await within(live.done, 10_000, 'the live survey');
      await within(Promise.all(arriving.map((c) => h.surveyDone(c.id))), 15_000, 'the new callers');

      assert.equal((await findRatingByCallId(h.database.db, 'live-1'))?.score, 2);
      assert.equal(live.channel.endedBy, 'app_hangup');
      const order = h.sim.received.map((r) => `${r.method} ${r.path}`);
      const liveHangup = order.indexOf(`DELETE /channels/${live.channel.id}`);
      const variableReads = order.flatMap((r, i) => (r.endsWith('/variable') ? [i] : []));
      assert.equal(variableReads.length, 30);
      const readsAfterHangup = variableReads.filter((i) => i > liveHangup).length;
      assert.ok(liveHangup >= 0 && readsAfterHangup >= 10, `the live survey went first: ${readsAfterHangup} of 30 reads were sent after its hangup`);
      for (const channel of arriving) assert.equal(channel.endedBy, 'continued');
    } finally {
      await h.close();
    }
  });

  test('a play Asterisk never got is sent once more with the same playback id; the question is heard once and the rating stored', async () => {
    const h = await startHarness({ ariExtra: 'request_timeout_ms = 500' });
    try {
      const id = 'lost-play';
      h.sim.leaveUnanswered((method, path) => method === 'POST' && path === `/channels/${id}/play`, { process: false });
      const channel = await h.call({ id, args: ['lost-play-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '2' }] });
      const plays = requestsFor(h, 'POST', `/channels/${id}/play`);
      assert.equal(plays[0]?.query['playbackId'], plays[1]?.query['playbackId'], 'sent again with the playback id chosen for it');
      assert.equal(plays[0]?.query['media'], plays[1]?.query['media']);
      assert.equal(channel.played.filter((media) => media.includes(PROMPT)).length, 1, 'the question played once');
      assert.equal((await outcomesForCall(h.database.db, 'lost-play-1'))[0]?.outcome, 'completed');
      assert.equal((await findRatingByCallId(h.database.db, 'lost-play-1'))?.score, 4);
      assert.equal(channel.endedBy, 'app_hangup');
    } finally {
      await h.close();
    }
  });

  test('a play Asterisk acted on but never answered is not sent again: the caller hears the question once', async () => {
    const h = await startHarness({ ariExtra: 'request_timeout_ms = 500' });
    try {
      const id = 'silent-play';
      h.sim.leaveUnanswered((method, path) => method === 'POST' && path === `/channels/${id}/play`, { process: true });
      const channel = await h.call({ id, args: ['silent-play-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '1' }] });
      assert.deepEqual(channel.played[0], ['sound:csat/rate-intro', 'sound:csat/rate-keys']);
      assert.equal(channel.played.filter((media) => media.includes(PROMPT)).length, 1, 'the question played once');
      assert.equal((await outcomesForCall(h.database.db, 'silent-play-1'))[0]?.outcome, 'completed');
      assert.equal((await findRatingByCallId(h.database.db, 'silent-play-1'))?.score, 5);
    } finally {
      await h.close();
    }
  });

  test('a stop and a hangup Asterisk never answers are sent once more: the key counts and the caller is released', async () => {
    // A long question, so it is still playing when the stop is sent again.
    const h = await startHarness({
      ariExtra: 'request_timeout_ms = 500',
      sim: { mediaMs: (uri) => (uri === PROMPT ? 5000 : uri.startsWith('digits:') ? 60 : 120) },
    });
    try {
      const id = 'lost-stop';
      h.sim.leaveUnanswered((method, path) => method === 'DELETE' && path.startsWith('/playbacks/'), { process: false });
      h.sim.leaveUnanswered((method, path) => method === 'DELETE' && path === `/channels/${id}`, { process: false });
      const channel = await h.call({ id, args: ['lost-stop-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 50, press: '3' }] });
      await within(channel.ended, 3000, 'the caller to be released');
      assert.equal(channel.endedBy, 'app_hangup', 'hung up, not left in silence');
      const stops = h.sim.received.filter((r) => r.method === 'DELETE' && r.path.startsWith('/playbacks/'));
      assert.equal(stops[0]?.path, stops[1]?.path, 'the same playback stopped twice');
      assert.ok(!channel.completed.some((media) => media.includes(PROMPT)), 'the question was cut short by the key');
      assert.equal(requestsFor(h, 'DELETE', `/channels/${id}`).length, 2);
      assert.equal((await outcomesForCall(h.database.db, 'lost-stop-1'))[0]?.outcome, 'completed');
      assert.equal((await findRatingByCallId(h.database.db, 'lost-stop-1'))?.score, 3);
    } finally {
      await h.close();
    }
  });

  test("resync: a channel's StasisStart landing while the resync asks Asterisk about it gives one survey, not two", async () => {
    const h = await startHarness();
    try {
      // In the application, but its StasisStart is late: it comes while the resync's GET is in flight.
      const channel = h.sim.enterStasis({ args: ['race-1', 'agent-1', 'sales-queue'], announce: false });
      const stop = followScript(h.sim, channel, [{ whenPlaying: PROMPT, after: 20, press: '4' }]);
      let asked = false;
      h.sim.onRequest = (method, path) => {
        if (method === 'GET' && path === `/channels/${channel.id}` && !asked) {
          asked = true;
          h.sim.deliverStasisStart(channel);
        }
      };
      h.sim.restDelay = (method, path) => (method === 'GET' && path === `/channels/${channel.id}` ? 100 : 0);
      h.sim.dropConnections();
      await until(() => asked, 10_000, 'the resync to ask about the channel');
      await within(channel.ended, 5000, 'the survey to end');
      await until(() => h.controller.liveCount === 0, 3000, 'every survey handler to finish');
      stop();
      const rows = await outcomesForCall(h.database.db, 'race-1');
      assert.deepEqual(rows.map((r) => r.outcome), ['completed'], 'one survey');
      assert.equal((await findRatingByCallId(h.database.db, 'race-1'))?.score, 2);
      assert.equal(channel.played.filter((media) => media.includes(PROMPT)).length, 1, 'the question played once');
      assert.equal(channel.endedBy, 'app_hangup');
    } finally {
      await h.close();
    }
  });
});

describe('the REST connection pool', () => {
  test('running surveys are served first; work for new callers keeps its share, and at least one connection', async () => {
    const pool = new RequestPool(3, 2);
    const never = new AbortController().signal;
    const served: string[] = [];
    const releases = new Map<string, () => void>();
    const ask = (name: string, priority: RequestPriority): Promise<void> =>
      pool.acquire(priority, never).then((release) => {
        served.push(name);
        releases.set(name, release);
      });
    await Promise.all([ask('survey-1', 'survey'), ask('survey-2', 'survey'), ask('survey-3', 'survey')]);
    // The pool is full of survey requests; new callers' work and another survey request wait.
    const waiting = [ask('continue-1', 'background'), ask('continue-2', 'background'), ask('survey-4', 'survey')];
    releases.get('survey-1')!();
    releases.get('survey-2')!();
    releases.get('survey-3')!();
    await Promise.all(waiting);
    // Background work had no connection at all: it gets one before the waiting survey request; then
    // surveys go first; the second continue waits for its share.
    assert.deepEqual(served.slice(3), ['continue-1', 'survey-4', 'continue-2']);
    const timedOut = new AbortController();
    const blocked = pool.acquire('background', timedOut.signal);
    timedOut.abort(new Error('deadline'));
    await assert.rejects(within(blocked, 1000, 'the request to give up its place'), /deadline/, 'a request whose deadline passes while it waits is never sent');
  });
});
