// How REST reaches Asterisk (over the event WebSocket where Asterisk offers it, else HTTP keep-alive),
// and the event filter that keeps events the engine does not use off the stream.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import { AriTelephony } from '../src/ari/ari-telephony.js';
import { WebSocketRest } from '../src/ari/ws-rest.js';
import { outcomesForCall } from '../src/db/outcomes.js';
import { findRatingByCallId } from '../src/db/ratings.js';
import { createLogger } from '../src/log.js';
import { AriSimulator, type RestRecord } from './ari-sim/simulator.js';
import { LogCapture, startHarness, type Harness } from './helpers/harness.js';
import { unhandledRejections } from './helpers/unhandled.js';
import { until, within } from './helpers/wait.js';

const PROMPT = 'sound:csat/rate-intro';

/** The requests a survey makes, apart from the engine's start-up and resync requests. */
/**
 * The next request matching `matches` goes out on the event stream, which then drops before Asterisk
 * answers it: the request is lost with the stream (the simulator never acts on it).
 */
function loseWithTheStream(h: Harness, matches: (method: string, path: string) => boolean): void {
  h.sim.leaveUnanswered(matches, { process: false });
  h.sim.onRequest = (method, path) => {
    if (!matches(method, path)) return;
    h.sim.onRequest = undefined;
    setImmediate(() => h.sim.dropConnections());
  };
}

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

  test('a play lost with the event stream is sent again over HTTP, once Asterisk says it has no such playback: heard once, rated', async () => {
    // A timeout far beyond the test's own bounds: the resend must not wait for it.
    const h = await startHarness({ ariExtra: 'request_timeout_ms = 60000' });
    try {
      const id = 'lost-with-stream';
      loseWithTheStream(h, (method, path) => method === 'POST' && path === `/channels/${id}/play`);
      // The key comes once the engine is back on the stream (a key pressed while it is away is lost, as on a real Asterisk).
      const channel = await within(
        h.call({ id, args: ['lost-with-stream-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 1500, press: '2' }] }),
        20_000,
        'the survey to end',
      );
      const plays = h.sim.restLog.filter((r) => r.method === 'POST' && r.path === `/channels/${id}/play`);
      assert.deepEqual(plays.slice(0, 2).map((r) => r.via), ['websocket', 'http'], 'the lost play, then the same play over HTTP');
      assert.equal(plays[0]?.query['playbackId'], plays[1]?.query['playbackId']);
      // The first question (not a no-input retry, which repeats it after its own sound) is heard once.
      assert.equal(channel.played.filter((media) => media[0] === PROMPT).length, 1, 'the question played once');
      assert.equal((await findRatingByCallId(h.database.db, 'lost-with-stream-1'))?.score, 4);
      assert.equal((await outcomesForCall(h.database.db, 'lost-with-stream-1'))[0]?.outcome, 'completed');
    } finally {
      await h.close();
    }
  });

  test('a stop lost with the event stream is sent again over HTTP: the key counts and the survey completes', async () => {
    const h = await startHarness({
      ariExtra: 'request_timeout_ms = 60000',
      sim: { mediaMs: (uri) => (uri === PROMPT ? 5000 : uri.startsWith('digits:') ? 60 : 120) },
    });
    try {
      const id = 'stop-lost-with-stream';
      loseWithTheStream(h, (method, path) => method === 'DELETE' && path.startsWith(`/playbacks/${id}`));
      const channel = await within(
        h.call({ id, args: ['stop-lost-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 50, press: '3' }] }),
        20_000,
        'the survey to end',
      );
      const stops = h.sim.restLog.filter((r) => r.method === 'DELETE' && r.path.startsWith(`/playbacks/${id}`));
      assert.deepEqual(stops.slice(0, 2).map((r) => [r.via, r.path]), [['websocket', stops[0]?.path], ['http', stops[0]?.path]]);
      assert.ok(!channel.completed.some((media) => media.includes(PROMPT)), 'the question was cut short by the key');
      assert.equal((await findRatingByCallId(h.database.db, 'stop-lost-1'))?.score, 3);
      assert.equal((await outcomesForCall(h.database.db, 'stop-lost-1'))[0]?.outcome, 'completed');
    } finally {
      await h.close();
    }
  });

  test('answers on the stream slow (one Asterisk thread behind): requests spill over to HTTP; once the stream is fast again, back to it', async () => {
    const h = await startHarness();
    try {
      // Asterisk answering the stream's requests late, its HTTP threads on time.
      h.sim.restDelay = (_method, _path, via) => (via === 'websocket' ? 60 : 0);
      const slow = ['spill-1', 'spill-2', 'spill-3'];
      await within(
        Promise.all(slow.map((id) => h.call({ id, args: [`${id}-call`, 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '1' }] }))),
        20_000,
        'three surveys with a slow stream',
      );
      for (const id of slow) assert.equal((await findRatingByCallId(h.database.db, `${id}-call`))?.score, 5);
      const during = slow.flatMap((id) => surveyRequests(h.sim.restLog, id));
      assert.ok(during.some((r) => r.via === 'websocket'), 'the stream was tried');
      assert.ok(during.some((r) => r.via === 'http'), `requests went over HTTP while the stream was slow: ${JSON.stringify(during.map((r) => r.via))}`);

      h.sim.restDelay = () => 0;
      // The latency window covers the last second: past it, the slow answers no longer count.
      await sleep(1500);
      await within(h.call({ id: 'spill-after', args: ['spill-after-call', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '2' }] }), 10_000, 'a survey after');
      assert.deepEqual([...new Set(surveyRequests(h.sim.restLog, 'spill-after').map((r) => r.via))], ['websocket']);
      assert.equal((await findRatingByCallId(h.database.db, 'spill-after-call'))?.score, 4);
    } finally {
      await h.close();
    }
  });

  test('the engine asks Asterisk for the events it uses only, and again after every reconnect', async () => {
    const h = await startHarness();
    try {
      const expected = ['StasisStart', 'StasisEnd', 'ChannelDtmfReceived', 'PlaybackFinished', 'ChannelHangupRequest', 'RESTResponse', 'ApplicationReplaced', 'RecordingFinished', 'RecordingFailed'];
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

describe('REST over WebSocket bookkeeping', () => {
  test('a request Asterisk never answers is given up after the limit, freeing its place; an answer after that is ignored', async () => {
    // A real WebSocket server that reads requests and, like a stuck Asterisk, answers none in time.
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const received: string[] = [];
    const serverSide = new Promise<WebSocket>((resolve) => server.once('connection', (ws) => {
      ws.on('message', (data) => received.push(String(data)));
      resolve(ws);
    }));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await once(client, 'open');
    const peer = await serverSide;
    const rest = new WebSocketRest(() => client, () => Promise.reject(new Error('the stream is open: no HTTP here')), { giveUpAfterMs: 200 });
    try {
      const stop = rest.api.playbacks.stop({ playbackId: 'ch-1:0' });
      await assert.rejects(within(stop, 5000, 'the request to be given up'), /no answer from Asterisk within 200 ms/);
      assert.equal(rest.inFlight, 0, 'nothing left waiting');
      const request = JSON.parse(received[0]!) as { type: string; request_id: string; method: string; uri: string };
      assert.deepEqual({ type: request.type, method: request.method, uri: request.uri }, { type: 'RESTRequest', method: 'DELETE', uri: 'playbacks/ch-1%3A0' });
      // The late answer finds no one waiting and changes nothing.
      rest.settle({ request_id: request.request_id, status_code: 204 });
      assert.equal(rest.inFlight, 0);
      // A later request on the same stream still gets its own answer.
      const get = rest.api.channels.get({ channelId: 'ch-1' });
      await until(() => received.length === 2, 5000, 'the second request');
      const second = JSON.parse(received[1]!) as { request_id: string };
      rest.settle({ request_id: second.request_id, status_code: 200, message_body: '{"state":"Up"}' });
      assert.deepEqual(await within(get, 5000, 'the answer'), { state: 'Up' });
      rest.settle({ request_id: 'unknown', status_code: 500 });
      peer.terminate();
    } finally {
      client.terminate();
      server.close();
    }
  });
});
