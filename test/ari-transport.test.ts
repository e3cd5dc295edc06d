// How REST reaches Asterisk (over the event WebSocket where Asterisk offers it, else HTTP keep-alive),
// and the event filter that keeps events the engine does not use off the stream.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { AriTelephony } from '../src/ari/ari-telephony.js';
import { outcomesForCall } from '../src/db/outcomes.js';
import { findRatingByCallId } from '../src/db/ratings.js';
import { createLogger } from '../src/log.js';
import { AriSimulator, type RestRecord } from './ari-sim/simulator.js';
import { LogCapture, startHarness } from './helpers/harness.js';
import { unhandledRejections } from './helpers/unhandled.js';
import { until, within } from './helpers/wait.js';

const PROMPT = 'sound:csat/rate-intro';

/** The requests a survey makes, apart from the engine's start-up and resync requests. */
const surveyRequests = (log: readonly RestRecord[], channelId: string): RestRecord[] => log.filter((r) => r.path.includes(channelId));

describe('REST transport and event filter', () => {
  afterEach(() => {
    assert.deepEqual(unhandledRejections, [], 'no unhandled promise rejection');
  });

  test('an Asterisk with REST over WebSocket: every request of a survey goes over the event stream, none over HTTP', async () => {
    const h = await startHarness();
    try {
      const channel = await h.call({ id: 'ws-1', args: ['ws-call-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '2' }] });
      assert.equal((await findRatingByCallId(h.database.db, 'ws-call-1'))?.score, 4);
      assert.equal(channel.endedBy, 'app_hangup');
      const requests = surveyRequests(h.sim.restLog, 'ws-1');
      assert.ok(requests.length >= 4, `play, stop, play, play, hangup: got ${requests.length}`);
      assert.deepEqual([...new Set(requests.map((r) => r.via))], ['websocket']);
      assert.ok(h.logs.lines.some((line) => line['msg'] === 'connected to ARI' && line['rest_transport'] === 'websocket'));
    } finally {
      await h.close();
    }
  });

  test('an Asterisk without it (before 20.13, 21.8, 22.3): the survey runs over HTTP keep-alive', async () => {
    const h = await startHarness({ sim: { restOverWebSocket: false } });
    try {
      const channel = await h.call({ id: 'http-1', args: ['http-call-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '5' }] });
      assert.equal((await findRatingByCallId(h.database.db, 'http-call-1'))?.score, 1);
      assert.equal(channel.endedBy, 'app_hangup');
      assert.deepEqual([...new Set(surveyRequests(h.sim.restLog, 'http-1').map((r) => r.via))], ['http']);
    } finally {
      await h.close();
    }
  });

  test('rest_transport = "http" keeps REST off the WebSocket even where Asterisk offers it', async () => {
    const h = await startHarness({ ariExtra: 'rest_transport = "http"' });
    try {
      await h.call({ id: 'forced-http', args: ['forced-http-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '3' }] });
      assert.equal((await findRatingByCallId(h.database.db, 'forced-http-1'))?.score, 3);
      assert.deepEqual([...new Set(surveyRequests(h.sim.restLog, 'forced-http').map((r) => r.via))], ['http']);
    } finally {
      await h.close();
    }
  });

  test('rest_transport = "websocket" on an Asterisk without it: not connected, the log names the setting, no caller taken', async () => {
    const sim = await new AriSimulator({ restOverWebSocket: false }).start();
    const logs = new LogCapture();
    const telephony = new AriTelephony({
      url: sim.url,
      username: 'csat',
      password: 'secret',
      app: 'csat',
      reconnectMaxDelayMs: 200,
      requestTimeoutMs: 1000,
      restTransport: 'websocket',
      log: createLogger('debug', logs.stream),
    });
    try {
      telephony.start();
      await until(() => logs.lines.filter((line) => line['msg'] === 'ARI not reachable; will retry').length >= 2, 10_000, 'two failed attempts');
      const warning = logs.lines.find((line) => line['msg'] === 'ARI not reachable; will retry');
      assert.match(String(warning?.['err']), /rest_transport/);
      assert.notEqual(telephony.state, 'connected');
      assert.equal(sim.connectedClients, 0, 'no event stream opened: callers stay with the dialplan');
    } finally {
      await telephony.stop();
      await sim.close();
    }
  });

  test('the event stream drops with a request unanswered on it: the request fails at once, and the caller is released after the reconnect', async () => {
    // A timeout far beyond the test's own bound: the survey must not wait for it.
    const h = await startHarness({ ariExtra: 'request_timeout_ms = 60000' });
    try {
      const id = 'dropped-answer';
      h.sim.leaveUnanswered((method, path) => method === 'POST' && path === `/channels/${id}/play`, { process: false });
      const channel = h.sim.enterStasis({ id, args: ['dropped-answer-1', 'agent-1', 'sales-queue'] });
      const done = h.surveyDone(id);
      await until(() => h.sim.received.some((r) => r.method === 'POST' && r.path === `/channels/${id}/play`), 5000, 'the play request');
      h.sim.dropConnections();
      await within(done, 10_000, 'the survey to end without waiting for the 60 s timeout');
      await within(channel.ended, 10_000, 'the caller to be released after the reconnect');
      assert.equal(channel.endedBy, 'app_hangup', 'hung up, not left in silence');
      const outcome = (await outcomesForCall(h.database.db, 'dropped-answer-1'))[0];
      assert.equal(outcome?.outcome, 'failed');
      assert.match(String(outcome?.reason), /event stream closed/);
    } finally {
      await h.close();
    }
  });

  test('the engine asks Asterisk for the events it uses only, and again after every reconnect', async () => {
    const h = await startHarness();
    try {
      const expected = ['StasisStart', 'StasisEnd', 'ChannelDtmfReceived', 'PlaybackFinished', 'ChannelHangupRequest', 'RESTResponse'];
      assert.deepEqual([...(h.sim.allowedEvents ?? [])].sort(), [...expected].sort());
      // A restarted Asterisk has forgotten the filter.
      h.sim.allowedEvents = undefined;
      h.sim.dropConnections();
      await until(() => h.sim.allowedEvents !== undefined, 10_000, 'the filter to be set again after the reconnect');
      assert.deepEqual([...h.sim.allowedEvents!].sort(), [...expected].sort());
      // Surveys work with only those events.
      await until(() => h.telephony.state === 'connected', 10_000, 'connected again');
      await h.call({ id: 'filtered', args: ['filtered-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '1' }] });
      assert.equal((await findRatingByCallId(h.database.db, 'filtered-1'))?.score, 5);
    } finally {
      await h.close();
    }
  });
});
