// The survey protocol end to end: real ari-client -> ARI simulator (HTTP + WebSocket on loopback)
// -> controller -> real SQLite file. Each test is a caller a user would recognise.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { outcomesForCall } from '../src/db/outcomes.js';
import { findRatingByCallId } from '../src/db/ratings.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { unhandledRejections } from './helpers/unhandled.js';

const PROMPT = 'sound:csat/rate-intro';

let h: Harness;
let seq = 0;
const callId = (label: string): string => `${label}-${++seq}`;
const args = (id: string, queue = 'sales-queue') => [id, 'agent-007', queue];

async function outcomeOf(id: string) {
  const rows = await outcomesForCall(h.database.db, id);
  assert.equal(rows.length, 1, `exactly one outcome row for ${id}, got ${JSON.stringify(rows)}`);
  return rows[0]!;
}

describe('survey flow against the ARI simulator', () => {
  before(async () => {
    h = await startHarness({ sim: { missingSounds: [], stuckSounds: [] } });
  });
  after(async () => {
    await h.close();
  });
  afterEach(() => {
    assert.deepEqual(unhandledRejections, [], 'no unhandled promise rejection');
  });

  test('each key 1-5 is stored on the standard scale (1 -> 5 ... 5 -> 1) and confirmed back', async () => {
    const expected: Record<string, number> = { '1': 5, '2': 4, '3': 3, '4': 2, '5': 1 };
    await Promise.all(
      Object.entries(expected).map(async ([key, score]) => {
        const id = callId(`key${key}`);
        const channel = await h.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 300, press: key }] });
        const rating = await findRatingByCallId(h.database.db, id);
        assert.equal(rating?.score, score, `key ${key}`);
        assert.equal(rating?.agent_id, 'agent-007');
        assert.equal(rating?.queue_id, 'sales-queue');
        assert.match(rating!.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.deepEqual(channel.played[1], ['sound:csat/you-pressed', `digits:${key}`]);
        assert.deepEqual(channel.played[2], ['sound:csat/thank-you']);
        assert.equal(channel.endedBy, 'app_hangup');
        const outcome = await outcomeOf(id);
        assert.equal(outcome.outcome, 'completed');
        assert.equal(outcome.score, score);
        assert.equal(outcome.attempts, 1);
        assert.equal(outcome.last_step, 'bye');
      }),
    );
  });

  test('barge-in: a key during the question stops it and counts', async () => {
    const id = callId('barge');
    const channel = await h.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 40, press: '2' }] });
    assert.equal((await findRatingByCallId(h.database.db, id))?.score, 4);
    assert.ok(channel.stoppedPlaybacks >= 1, 'the question playback was stopped');
    assert.ok(!channel.completed.some((media) => media.includes(PROMPT)), 'the question never played to its end');
    assert.ok(h.sim.restLog.some((r) => r.method === 'DELETE' && r.path.startsWith('/playbacks/') && r.status === 204));
  });

  test('a key pressed after the question, within timeout_ms, counts', async () => {
    const id = callId('late');
    const channel = await h.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 240 + 300, press: '5' }] });
    assert.equal((await findRatingByCallId(h.database.db, id))?.score, 1);
    assert.ok(channel.completed.some((media) => media.includes(PROMPT)), 'the question played to its end first');
  });

  test('invalid then valid: the invalid prompt plays, the second key is stored, attempts = 2', async () => {
    const id = callId('invalid-valid');
    const channel = await h.call({
      args: args(id),
      script: [
        { whenPlaying: PROMPT, after: 30, press: '9' },
        { whenPlaying: 'sound:csat/invalid', after: 30, press: '3' },
      ],
    });
    assert.deepEqual(channel.played[1], ['sound:csat/invalid', 'sound:csat/rate-intro', 'sound:csat/rate-keys']);
    assert.equal((await findRatingByCallId(h.database.db, id))?.score, 3);
    assert.deepEqual(channel.played[2], ['sound:csat/you-pressed', 'digits:3']);
    const outcome = await outcomeOf(id);
    assert.equal(outcome.outcome, 'completed');
    assert.equal(outcome.attempts, 2);
  });

  test('no input until retries run out: no-input prompt twice, goodbye, hang up, outcome no_input', async () => {
    const id = callId('silent');
    const channel = await h.call({ args: args(id) });
    assert.equal(await findRatingByCallId(h.database.db, id), undefined);
    assert.deepEqual(channel.played, [
      ['sound:csat/rate-intro', 'sound:csat/rate-keys'],
      ['sound:csat/no-input', 'sound:csat/rate-intro', 'sound:csat/rate-keys'],
      ['sound:csat/no-input', 'sound:csat/rate-intro', 'sound:csat/rate-keys'],
      ['sound:csat/goodbye'],
    ]);
    assert.equal(channel.endedBy, 'app_hangup');
    const outcome = await outcomeOf(id);
    assert.equal(outcome.outcome, 'no_input');
    assert.equal(outcome.attempts, 3);
    assert.equal(outcome.last_step, 'bye');
  });

  test('invalid keys until retries run out: outcome invalid, nothing stored', async () => {
    const id = callId('wrong');
    await h.call({
      args: args(id),
      script: [
        { whenPlaying: PROMPT, nth: 1, after: 20, press: '8' },
        { whenPlaying: PROMPT, nth: 2, after: 20, press: '0' },
        { whenPlaying: PROMPT, nth: 3, after: 20, press: '#' },
      ],
    });
    assert.equal(await findRatingByCallId(h.database.db, id), undefined);
    const outcome = await outcomeOf(id);
    assert.equal(outcome.outcome, 'invalid');
    assert.equal(outcome.attempts, 3);
  });

  test('hangup during the question: abandoned, nothing stored, no REST after the hangup is fatal', async () => {
    const id = callId('hangup-prompt');
    const channel = await h.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 50, hangup: true }] });
    assert.equal(channel.endedBy, 'caller_hangup');
    assert.equal(await findRatingByCallId(h.database.db, id), undefined);
    const outcome = await outcomeOf(id);
    assert.equal(outcome.outcome, 'abandoned');
    assert.equal(outcome.last_step, 'ask');
    assert.equal(h.controller.liveCount, 0);
  });

  test('hangup while waiting for a key (after the question ended): abandoned, timer cancelled', async () => {
    const id = callId('hangup-collect');
    const started = Date.now();
    await h.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 240 + 100, hangup: true }] });
    assert.ok(Date.now() - started < 600 + 240, 'the survey ended at the hangup, not at the collect timeout');
    assert.equal((await outcomeOf(id)).outcome, 'abandoned');
  });

  test('hangup during confirm: the rating was already stored, outcome completed', async () => {
    const id = callId('hangup-confirm');
    const channel = await h.call({
      args: args(id),
      script: [
        { whenPlaying: PROMPT, after: 20, press: '1' },
        { whenPlaying: 'sound:csat/you-pressed', after: 20, hangup: true },
      ],
    });
    assert.equal(channel.endedBy, 'caller_hangup');
    assert.equal((await findRatingByCallId(h.database.db, id))?.score, 5);
    const outcome = await outcomeOf(id);
    assert.equal(outcome.outcome, 'completed');
    assert.equal(outcome.last_step, 'confirm');
  });

  test('hangup during thank-you: still rated', async () => {
    const id = callId('hangup-thanks');
    await h.call({
      args: args(id),
      script: [
        { whenPlaying: PROMPT, after: 20, press: '3' },
        { whenPlaying: 'sound:csat/thank-you', after: 10, hangup: true },
      ],
    });
    assert.equal((await findRatingByCallId(h.database.db, id))?.score, 3);
    assert.equal((await outcomeOf(id)).outcome, 'completed');
  });

  test('disabled queue: no survey, channel continues in the dialplan, outcome skipped', async () => {
    const id = callId('disabled');
    const channel = await h.call({ args: args(id, 'quiet-queue') });
    assert.equal(channel.endedBy, 'continued');
    assert.deepEqual(channel.played, []);
    const outcome = await outcomeOf(id);
    assert.deepEqual([outcome.outcome, outcome.reason], ['skipped', 'csat_disabled']);
  });

  test('unknown queue: continues in the dialplan, outcome skipped', async () => {
    const id = callId('unknown-queue');
    const channel = await h.call({ args: args(id, 'no-such-queue') });
    assert.equal(channel.endedBy, 'continued');
    const outcome = await outcomeOf(id).catch(() => undefined);
    assert.equal(outcome?.reason, 'unknown_queue');
  });

  test('a call already rated is not surveyed again', async () => {
    const id = callId('repeat');
    await h.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 20, press: '4' }] });
    const again = await h.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 20, press: '1' }] });
    assert.equal(again.endedBy, 'continued');
    assert.deepEqual(again.played, []);
    assert.equal((await findRatingByCallId(h.database.db, id))?.score, 2, 'the first rating stands');
    const rows = await outcomesForCall(h.database.db, id);
    assert.deepEqual(rows.map((r) => [r.outcome, r.reason]), [['completed', null], ['skipped', 'already_rated']]);
  });

  test('missing StasisStart args fall back to CSAT_* channel variables', async () => {
    const id = callId('vars');
    await h.call({
      args: [],
      variables: { CSAT_CALL_ID: id, CSAT_AGENT_ID: 'agent-var', CSAT_QUEUE_ID: 'sales-queue' },
      script: [{ whenPlaying: PROMPT, after: 20, press: '2' }],
    });
    const rating = await findRatingByCallId(h.database.db, id);
    assert.deepEqual([rating?.agent_id, rating?.score], ['agent-var', 4]);
  });

  test('no call id at all: logged and sent back to the dialplan', async () => {
    const channel = await h.call({ args: [] });
    assert.equal(channel.endedBy, 'continued');
    const row = await h.database.db.selectFrom('survey_outcome').selectAll().where('channel_id', '=', channel.id).executeTakeFirst();
    assert.deepEqual([row?.outcome, row?.reason, row?.call_id], ['skipped', 'no_call_id', null]);
    assert.ok(h.logs.lines.some((line) => line['channel_id'] === channel.id && line['reason'] === 'no_call_id'));
  });

  test('every IVR log line carries call_id, channel id and step', async () => {
    const id = callId('logs');
    const channel = await h.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 20, press: '4' }] });
    const stored = h.logs.lines.find((line) => line['msg'] === 'rating stored' && line['call_id'] === id);
    assert.ok(stored, 'a "rating stored" line for the call');
    assert.equal(stored['channel_id'], channel.id);
    assert.equal(stored['step'], 'ask');
    assert.equal(stored['score'], 2);
  });
});

describe('ARI faults that are normal', () => {
  afterEach(() => {
    assert.deepEqual(unhandledRejections, [], 'no unhandled promise rejection');
  });

  test('REST 404 after hangup (hangup events arrive late): normal outcome, nothing thrown', async () => {
    const fault = await startHarness({ sim: { hangupEventDelayMs: 200 } });
    try {
      // Key and hangup together: the engine stops the question and plays confirm on a channel
      // Asterisk already dropped, and only learns of it from the 404s.
      const rated = callId('race-rated');
      const ratedChannel = await fault.call({ args: args(rated), script: [{ whenPlaying: PROMPT, after: 30, press: '4', hangup: true }] });
      assert.equal(ratedChannel.endedBy, 'caller_hangup');
      assert.equal((await findRatingByCallId(fault.database.db, rated))?.score, 2);
      assert.equal((await outcomesForCall(fault.database.db, rated))[0]?.outcome, 'completed');

      const unrated = callId('race-unrated');
      await fault.call({ args: args(unrated), script: [{ whenPlaying: PROMPT, after: 30, press: '9', hangup: true }] });
      assert.equal((await outcomesForCall(fault.database.db, unrated))[0]?.outcome, 'abandoned');

      const notFound = fault.sim.restLog.filter((r) => r.status === 404);
      assert.ok(notFound.some((r) => r.method === 'POST' && /^\/channels\/[^/]+\/play$/.test(r.path)), 'play answered 404 after hangup');
      assert.ok(notFound.some((r) => r.method === 'DELETE' && r.path.startsWith('/playbacks/')), 'stop answered 404 after hangup');
      assert.ok(!fault.logs.lines.some((line) => line['level'] === 50), 'nothing logged at error level');
    } finally {
      await fault.close();
    }
  });

  for (const playOrder of ['event-first', 'response-first'] as const) {
    for (const stopOrder of ['event-first', 'response-first'] as const) {
      test(`barge-in with PlaybackStarted ${playOrder} and PlaybackFinished ${stopOrder} (both orders happen on Asterisk)`, async () => {
        const ordered = await startHarness({ sim: { playOrder, stopOrder } });
        try {
          const id = callId(`order-${playOrder}-${stopOrder}`);
          const channel = await ordered.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 30, press: '2' }] });
          assert.equal((await findRatingByCallId(ordered.database.db, id))?.score, 4);
          assert.equal(channel.stoppedPlaybacks, 1);
          assert.deepEqual(channel.played.slice(1), [['sound:csat/you-pressed', 'digits:2'], ['sound:csat/thank-you']]);
          assert.equal(channel.endedBy, 'app_hangup');
        } finally {
          await ordered.close();
        }
      });
    }
  }

  test('Asterisk fails while the call is identified: back to the dialplan, outcome failed, never left in silence', async () => {
    const fault = await startHarness({ sim: { failVariables: true } });
    try {
      // No args: the controller must read CSAT_* variables, and Asterisk answers 500.
      const channel = await fault.call({ args: [] });
      assert.equal(channel.endedBy, 'continued');
      assert.deepEqual(channel.played, []);
      const row = await fault.database.db.selectFrom('survey_outcome').selectAll().where('channel_id', '=', channel.id).executeTakeFirst();
      assert.equal(row?.outcome, 'failed');
      assert.match(row?.reason ?? '', /Internal Server Error/);
    } finally {
      await fault.close();
    }
  });

  test('the question fails to play (missing sound): outcome failed, caller hung up, not left in silence', async () => {
    const fault = await startHarness({ sim: { missingSounds: ['csat/rate-keys'] } });
    try {
      const id = callId('missing');
      const started = Date.now();
      const channel = await fault.call({ args: args(id) });
      assert.ok(Date.now() - started < 600, 'did not wait out the collect timeout in silence');
      assert.equal(channel.endedBy, 'app_hangup');
      const [outcome] = await outcomesForCall(fault.database.db, id);
      assert.equal(outcome?.outcome, 'failed');
      assert.match(outcome?.reason ?? '', /prompt failed to play/);
    } finally {
      await fault.close();
    }
  });

  test('Asterisk shutting down under the question (soft hangup only, then destroyed): abandoned, not "prompt failed to play"', async () => {
    const fault = await startHarness();
    try {
      const id = callId('shutdown');
      const stopAt = (ch: { id: string }, media: readonly string[]): void => {
        if (ch.id === id && media.some((uri) => uri.includes('rate-intro'))) setTimeout(() => fault.sim.shutDownUnder(fault.sim.channels.get(id)!), 30);
      };
      fault.sim.onPlaybackStarted.add(stopAt);
      await fault.call({ id, args: args(id) });
      fault.sim.onPlaybackStarted.delete(stopAt);
      const [outcome] = await outcomesForCall(fault.database.db, id);
      assert.equal(outcome?.outcome, 'abandoned');
      assert.doesNotMatch(outcome?.reason ?? '', /prompt failed/);
    } finally {
      await fault.close();
    }
  });

  test('a missing thank-you does not cost the rating', async () => {
    const fault = await startHarness({ sim: { missingSounds: ['csat/thank-you'] } });
    try {
      const id = callId('no-thanks');
      const channel = await fault.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 20, press: '5' }] });
      assert.equal(channel.endedBy, 'app_hangup');
      assert.equal((await findRatingByCallId(fault.database.db, id))?.score, 1);
      assert.equal((await outcomesForCall(fault.database.db, id))[0]?.outcome, 'completed');
    } finally {
      await fault.close();
    }
  });

  test('a playback that never finishes is stopped by the guard timer and the survey goes on', async () => {
    const fault = await startHarness({ sim: { stuckSounds: ['csat/thank-you'] } });
    try {
      const id = callId('stuck');
      const started = Date.now();
      const channel = await fault.call({ args: args(id), script: [{ whenPlaying: PROMPT, after: 20, press: '4' }] });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1500 && elapsed < 4000, `guard (1.5 s) ended the stuck playback (${elapsed} ms)`);
      assert.equal(channel.endedBy, 'app_hangup');
      assert.equal((await outcomesForCall(fault.database.db, id))[0]?.outcome, 'completed');
      assert.ok(fault.logs.lines.some((line) => line['msg'] === 'playback never finished; stopped by guard timer'));
    } finally {
      await fault.close();
    }
  });
});
