// One Asterisk, two holders of one ARI application name (another engine with the same [ari] app): as
// Asterisk does, the newer WebSocket takes the application and the older gets ApplicationReplaced and
// hears nothing more. The engine must not believe itself connected, must not fight for the app, and
// takes it back once Asterisk no longer lists it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startHarness } from './helpers/harness.js';
import { until, within } from './helpers/wait.js';

const PROMPT = 'sound:csat/rate-intro';

/** Another ARI client holding the application `csat` on the simulator, recording the events it gets. */
async function otherHolder(simUrl: string): Promise<{ events: Array<Record<string, any>>; close(): Promise<void> }> {
  const events: Array<Record<string, any>> = [];
  const socket = new WebSocket(`${simUrl.replace(/^http/, 'ws')}/ari/events?app=csat&api_key=csat:secret`);
  socket.on('message', (data) => events.push(JSON.parse(String(data)) as Record<string, any>));
  await within(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), 5_000, 'the other holder to connect');
  return {
    events,
    close: () =>
      within(
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.close();
        }),
        5_000,
        'the other holder to leave',
      ),
  };
}

test('another connection takes the ARI application: not ready, survey let go, no fight; once nobody holds it, the engine takes it back and surveys again', async () => {
  const h = await startHarness();
  try {
    // A survey running when the application is taken.
    const running = h.sim.enterStasis({ args: ['call-running', 'agent-1', 'sales-queue'] });
    await until(() => h.sim.restLog.some((r) => r.method === 'POST' && r.path.includes(`/channels/${running.id}/play`)), 5_000, 'the prompt of the running survey');

    const other = await otherHolder(h.sim.url);
    /** Waits (bounded) until the engine asked Asterisk `count` more times whether its app is free. */
    const polls = async (count: number): Promise<void> => {
      const asked = () => h.sim.received.filter((r) => r.method === 'GET' && r.path === '/applications/csat').length;
      const target = asked() + count;
      await until(() => asked() >= target, 10_000, `${count} more checks of the application`);
    };
    await until(() => h.readiness.state === 'replaced', 5_000, 'the engine to say it was replaced');
    assert.equal(h.telephony.state, 'replaced');
    // Its events go to the new holder now: the engine ends its side of the survey, rating nothing.
    await within(h.surveyDone(running.id), 5_000, 'the running survey to be let go');
    assert.equal(await h.storage.ratings.findByCallId('call-running'), undefined);
    assert.deepEqual((await h.storage.outcomes.forCall('call-running')).map((row) => [row.outcome, row.reason]), [['failed', 'ari_application_replaced']]);

    // A caller arriving now is the other holder's: the engine never touches it.
    const waiting = h.sim.enterStasis({ args: ['call-waiting', 'agent-1', 'sales-queue'] });
    await until(() => other.events.some((e) => e['type'] === 'StasisStart' && e['channel']?.id === waiting.id), 5_000, 'the other holder to get the caller');
    // The engine asks whether the app is free (every reconnect_max_delay_ms = 1000 in the harness):
    // twice held, twice left alone.
    const requestsBefore = h.sim.received.length;
    await polls(2);
    assert.equal(h.telephony.state, 'replaced', 'no fight for the application while another holds it');
    assert.equal(other.events.filter((e) => e['type'] === 'ApplicationReplaced').length, 0, 'the other holder was never replaced');
    assert.ok(!h.sim.received.slice(requestsBefore).some((r) => r.path.includes(waiting.id)), 'no request for the other holder\'s caller');
    assert.ok(!h.sim.received.slice(requestsBefore).some((r) => r.path.includes(running.id)), 'nor for the caller it let go');

    // The other holder goes away with its callers still in the application (as after a crash):
    // Asterisk keeps listing the application, and a holder it cannot tell from a live one is not
    // fought over. Once those callers hang up, nobody holds the application: the engine takes it back.
    await other.close();
    await polls(2);
    assert.equal(h.telephony.state, 'replaced', 'the app is still listed (callers in it): not taken');
    h.sim.callerHangup(waiting);
    h.sim.callerHangup(running);
    await until(() => h.readiness.state === 'connected', 10_000, 'the engine to take the application back');

    // And new callers are surveyed again.
    const later = await within(h.call({ args: ['call-later', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '1' }] }), 10_000, 'a later caller');
    assert.equal((await h.storage.ratings.findByCallId('call-later'))?.score, 5, `survey on ${later.id}`);
  } finally {
    await h.close();
  }
});
