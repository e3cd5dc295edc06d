// The real-Asterisk tier: a real Asterisk 22 run from asterisk-dev/conf, the real `cc-csat start`
// process, callers on Local channels (the dialplan presses the keys) and sipp over SIP/RTP. What is
// asserted is what a user would notice: the rows in the engine's SQLite file, what Asterisk played
// and received (its own events), what the dialplan did. Runs when CC_CSAT_ASTERISK names the
// Asterisk wrapper printed by ../shared/asterisk/install.sh (`bash .ci/run` sets it).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import { spawnEngine, type EngineProcess } from './helpers/engine-process.js';
import { within } from './helpers/wait.js';
import { ARI_PASSWORD, RealAsterisk, SALES_QUEUE, SHIPPED_IVR, eventually, killOnExit, queryDb, type LocalCall, type LocalCallOptions } from './helpers/real-asterisk.js';

const ASTERISK = process.env['CC_CSAT_ASTERISK'];
const SKIP = ASTERISK
  ? false
  : 'real-Asterisk tier skipped: set CC_CSAT_ASTERISK to the asterisk wrapper printed by ../shared/asterisk/install.sh (bash .ci/run does it)';

// The survey as shipped on sales-queue; a disabled queue beside it.
const QUEUES = `${SALES_QUEUE}
[[queue]]
name = "quiet-queue"
[queue.after_call]
csat_enabled = false
`;
const QUESTION_START = 'sound:csat/rate-intro';
const QUESTION = ['sound:csat/rate-intro', 'sound:csat/rate-keys'];
const SURVEY_TIMEOUT_MS = 150_000;

interface OutcomeRow {
  call_id: string;
  agent_id: string | null;
  queue_id: string | null;
  outcome: string;
  reason: string | null;
  attempts: number;
  last_step: string | null;
  score: number | null;
}
interface RatingRow {
  call_id: string;
  agent_id: string;
  queue_id: string;
  score: number;
}

describe('real Asterisk 22', { skip: SKIP }, () => {
  let asterisk: RealAsterisk;
  let tree: ConfigTree;
  let engine: EngineProcess;
  let api: string;
  const engines: EngineProcess[] = [];
  const counts = { ran: 0, passed: 0, failed: 0, todo: 0, todoFailed: 0 };

  /** A test of this tier: counted for the one-line summary the file prints. */
  function realTest(name: string, fn: (t: TestContext) => Promise<void>, options: { todo?: string } = {}): void {
    test(name, options, async (t) => {
      counts.ran++;
      if (options.todo) counts.todo++;
      try {
        await fn(t);
        if (!options.todo) counts.passed++;
      } catch (err) {
        if (options.todo) counts.todoFailed++;
        else counts.failed++;
        throw err;
      }
    });
  }

  async function startEngine(): Promise<void> {
    engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir });
    killOnExit(engine.child);
    engines.push(engine);
    api = await engine.started(30_000);
  }

  const readyz = async (): Promise<number> =>
    fetch(`${api}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((answer) => answer.status, () => 0);

  const untilReady = (status: number, timeoutMs: number): Promise<true> =>
    eventually(async () => (await readyz()) === status, timeoutMs, () => `/readyz to answer ${status}\n${tail(engine.output())}`, 100);

  const ratings = (callIds: readonly string[]): RatingRow[] =>
    queryDb<RatingRow>(
      tree.dbPath,
      `SELECT call_id, agent_id, queue_id, score FROM cc_csat WHERE call_id IN (${callIds.map(() => '?').join(',')}) ORDER BY call_id`,
      ...callIds,
    );

  const outcomes = (callId: string): OutcomeRow[] =>
    queryDb<OutcomeRow>(
      tree.dbPath,
      'SELECT call_id, agent_id, queue_id, outcome, reason, attempts, last_step, score FROM survey_outcome WHERE call_id = ? ORDER BY id',
      callId,
    );

  /** Waits until Asterisk destroyed the caller's channel and the engine recorded how the survey ended. */
  async function surveyEnd(
    call: LocalCall | { callId: string; survey: string },
    { timeoutMs = SURVEY_TIMEOUT_MS, hangupSeen = true }: { timeoutMs?: number; hangupSeen?: boolean } = {},
  ): Promise<OutcomeRow> {
    await eventually(
      () => (!hangupSeen || asterisk.events.destroyed(call.survey)) && outcomes(call.callId).length > 0,
      timeoutMs,
      () => `the survey of ${call.callId} to end (played: ${asterisk.events.played(call.survey).join(', ')})\n${tail(engine.output())}`,
    );
    const rows = outcomes(call.callId);
    assert.equal(rows.length, 1, `one survey_outcome row per survey: ${JSON.stringify(rows)}`);
    return rows[0]!;
  }

  /** What the caller heard start after their first key, per Asterisk's events. */
  function playedAfterFirstKey(channelId: string): string[] {
    const events = asterisk.events.forChannel(channelId);
    const key = events.findIndex((event) => event.type === 'ChannelDtmfReceived');
    assert.ok(key >= 0, `Asterisk received a key on ${channelId}`);
    return events
      .slice(key + 1)
      .filter((event) => event.type === 'PlaybackStarted')
      .map((event) => String(event.raw['playback']?.media_uri));
  }

  /** A caller whose phone presses `keys` when it hears the question start. */
  async function callAndPressDuringQuestion(options: LocalCallOptions): Promise<LocalCall> {
    const call = await asterisk.originate({ ...options, cued: true });
    await asterisk.whenPlaying(call.survey, QUESTION_START);
    await asterisk.cue(call.callId);
    return call;
  }

  let seq = 0;
  const run = Date.now().toString(36);
  const callId = (name: string): string => `${name}-${run}-${++seq}`;

  before(async () => {
    asterisk = await RealAsterisk.start(ASTERISK!);
    tree = writeConfigTree({
      ariUrl: asterisk.ariUrl,
      ariPassword: ARI_PASSWORD,
      queues: QUEUES,
      ivrs: { 'csat-survey': SHIPPED_IVR },
      logLevel: 'info',
    });
    await startEngine();
    await untilReady(200, 60_000);
  });

  after(async () => {
    for (const each of engines) each.child.kill('SIGKILL');
    await Promise.all(engines.map((each) => within(each.exited, 10_000, 'a killed engine to exit')));
    await asterisk?.close();
    if (tree) rmSync(tree.dir, { recursive: true, force: true });
    // One line, so the test output says how many real-Asterisk tests ran.
    const { ran, passed, failed, todo, todoFailed } = counts;
    console.log(`real Asterisk 22 tier: ${ran} tests ran against a real Asterisk: ${passed} passed, ${failed} failed, ${todo} todo (known engine bugs, ${todoFailed} of them failing)`);
  });

  describe('Local callers: the dialplan presses the keys (SendDTMF), SIP callers through the queue', { concurrency: true }, () => {
    for (const key of ['1', '2', '3', '4', '5']) {
      const score = 6 - Number(key);
      realTest(`key ${key} during the question: score ${score} stored, the question stops, the key is read back, thanks, cc-csat hangs up`, async () => {
        const call = await callAndPressDuringQuestion({ callId: callId(`key${key}`), keys: key });
        const outcome = await surveyEnd(call);
        assert.deepEqual(ratings([call.callId]), [{ call_id: call.callId, agent_id: 'agent-001', queue_id: 'sales-queue', score }]);
        assert.deepEqual(outcome, {
          call_id: call.callId,
          agent_id: 'agent-001',
          queue_id: 'sales-queue',
          outcome: 'completed',
          reason: null,
          attempts: 1,
          last_step: 'bye',
          score,
        });
        assert.deepEqual(asterisk.events.dtmf(call.survey), [key]);
        assert.equal(asterisk.events.played(call.survey)[0], QUESTION_START);
        // Barge-in: nothing of the question starts after the key.
        assert.deepEqual(playedAfterFirstKey(call.survey), ['sound:csat/you-pressed', `digits:${key}`, 'sound:csat/thank-you']);
        // The survey ended with cc-csat's hangup: the dialplan did not go on.
        assert.deepEqual(asterisk.events.userEvents(call.survey, 'CsatBackInDialplan'), []);
      });
    }

    realTest('an invalid key then a valid one: "invalid" is played, the valid key counts, attempts 2', async () => {
      const call = await callAndPressDuringQuestion({ callId: callId('invalid'), keys: '9W4' });
      const outcome = await surveyEnd(call);
      assert.deepEqual(ratings([call.callId]), [{ call_id: call.callId, agent_id: 'agent-001', queue_id: 'sales-queue', score: 2 }]);
      assert.deepEqual([outcome.outcome, outcome.attempts, outcome.score], ['completed', 2, 2]);
      assert.deepEqual(asterisk.events.dtmf(call.survey), ['9', '4']);
      const heard = playedAfterFirstKey(call.survey);
      assert.equal(heard[0], 'sound:csat/invalid', `after the invalid key: ${heard.join(', ')}`);
      assert.deepEqual(heard.slice(-3), ['sound:csat/you-pressed', 'digits:4', 'sound:csat/thank-you']);
    });

    realTest('no key at all: the question and "no input" until retries run out, goodbye, outcome no_input, nothing stored', async () => {
      const call = await asterisk.originate({ callId: callId('silent'), listenS: 170 });
      const outcome = await surveyEnd(call, { timeoutMs: 170_000 });
      assert.deepEqual(ratings([call.callId]), []);
      assert.deepEqual([outcome.outcome, outcome.attempts, outcome.last_step, outcome.score], ['no_input', 3, 'bye', null]);
      assert.deepEqual(asterisk.events.played(call.survey), [
        ...QUESTION,
        'sound:csat/no-input',
        ...QUESTION,
        'sound:csat/no-input',
        ...QUESTION,
        'sound:csat/goodbye',
      ]);
      assert.deepEqual(asterisk.events.dtmf(call.survey), []);
    });

    realTest('the caller hangs up during the question: outcome abandoned, nothing stored', async () => {
      const call = await asterisk.originate({ callId: callId('gone-question') });
      await asterisk.whenPlaying(call.survey, QUESTION_START);
      await asterisk.hangup(call.phone);
      const outcome = await surveyEnd(call);
      assert.deepEqual(ratings([call.callId]), []);
      assert.deepEqual([outcome.outcome, outcome.reason, outcome.last_step, outcome.score], ['abandoned', 'caller_hung_up', 'ask', null]);
      const heard = asterisk.events.played(call.survey);
      assert.deepEqual(heard, QUESTION.slice(0, Math.max(1, heard.length)), 'the question, cut short');
    });

    realTest('the caller hangs up while the key is read back: the rating stands, outcome completed', async () => {
      const call = await callAndPressDuringQuestion({ callId: callId('gone-confirm'), keys: '4' });
      await asterisk.whenPlaying(call.survey, 'sound:csat/you-pressed');
      await asterisk.hangup(call.phone);
      const outcome = await surveyEnd(call);
      assert.deepEqual(ratings([call.callId]), [{ call_id: call.callId, agent_id: 'agent-001', queue_id: 'sales-queue', score: 2 }]);
      assert.deepEqual([outcome.outcome, outcome.last_step, outcome.score], ['completed', 'confirm', 2]);
      assert.ok(!asterisk.events.played(call.survey).includes('sound:csat/thank-you'), 'hung up before the thank-you');
    });

    realTest('the caller hangs up during the thank-you: the rating stands, outcome completed', async () => {
      const call = await callAndPressDuringQuestion({ callId: callId('gone-thanks'), keys: '5' });
      await asterisk.whenPlaying(call.survey, 'sound:csat/thank-you');
      await asterisk.hangup(call.phone);
      const outcome = await surveyEnd(call);
      assert.deepEqual(ratings([call.callId]), [{ call_id: call.callId, agent_id: 'agent-001', queue_id: 'sales-queue', score: 1 }]);
      assert.deepEqual([outcome.outcome, outcome.last_step, outcome.score], ['completed', 'thanks', 1]);
    });

    realTest('a disabled queue: no survey, outcome skipped, and the dialplan goes on after Stasis', async () => {
      const call = await asterisk.originate({ callId: callId('quiet'), queueId: 'quiet-queue' });
      const back = await eventually(
        () => asterisk.events.userEvents(call.survey, 'CsatBackInDialplan')[0],
        60_000,
        () => `the dialplan's UserEvent after Stasis (dialplan so far: ${asterisk.events.dialplan(call.survey).join(' -> ')})\n${tail(engine.output())}`,
      );
      assert.deepEqual([back['call_id'], back['stasis_status']], [call.callId, 'SUCCESS']);
      const outcome = await surveyEnd(call);
      assert.deepEqual([outcome.outcome, outcome.reason, outcome.queue_id], ['skipped', 'csat_disabled', 'quiet-queue']);
      assert.deepEqual(ratings([call.callId]), []);
      assert.deepEqual(asterisk.events.played(call.survey), [], 'the caller heard no survey');
      const apps = asterisk.events.dialplan(call.survey).map((app) => app.replace(/\(.*$/, ''));
      assert.ok(apps.lastIndexOf('UserEvent') > apps.indexOf('Stasis') && apps.includes('Stasis'), `Stasis, then the next priorities: ${apps.join(' -> ')}`);
    });

    realTest('Stasis(csat) without args: call, agent and queue come from the CSAT_* channel variables', async () => {
      const call = await callAndPressDuringQuestion({ callId: callId('vars'), agentId: 'agent-from-var', queueId: 'sales-queue', stasisArgs: 'none', keys: '2' });
      const outcome = await surveyEnd(call);
      assert.ok(asterisk.events.dialplan(call.survey).includes('Stasis(csat)'), `bare Stasis(csat): ${asterisk.events.dialplan(call.survey).join(' -> ')}`);
      assert.deepEqual(ratings([call.callId]), [{ call_id: call.callId, agent_id: 'agent-from-var', queue_id: 'sales-queue', score: 4 }]);
      assert.deepEqual([outcome.outcome, outcome.agent_id], ['completed', 'agent-from-var']);
    });

    realTest('SIP callers (RFC 4733 keys) through Queue(sales-queue,c), the agent hangs up, Stasis: stored with MEMBERNAME and QUEUENAME', async () => {
      const since = asterisk.events.all.length;
      const runs = await Promise.all([asterisk.sipp({ digit: '1' }), asterisk.sipp({ digit: '4' })]);
      for (const sipp of runs) assert.equal(sipp.code, 0, `sipp: every call ended with cc-csat's BYE\n${sipp.output}\n${tail(engine.output())}`);
      const channels = asterisk.events.channelsCreated('PJSIP/sipp-', since);
      assert.equal(channels.length, 2, `two SIP callers: ${channels.join(', ')}`);
      for (const channel of channels) {
        const outcome = await surveyEnd({ callId: channel, survey: channel });
        const [digit] = asterisk.events.dtmf(channel);
        assert.ok(digit === '1' || digit === '4', `Asterisk received the caller's RFC 4733 key: ${asterisk.events.dtmf(channel).join(',')}`);
        const score = 6 - Number(digit);
        // call_id is the caller's ${UNIQUEID}, agent_id the queue's ${MEMBERNAME}, queue_id ${QUEUENAME}.
        assert.deepEqual(ratings([channel]), [{ call_id: channel, agent_id: 'agent-001', queue_id: 'sales-queue', score }]);
        assert.deepEqual([outcome.outcome, outcome.score], ['completed', score]);
        const apps = asterisk.events.dialplan(channel);
        const queue = apps.indexOf('Queue(sales-queue,c)');
        const stasis = apps.indexOf(`Stasis(csat,${channel},agent-001,sales-queue)`);
        assert.ok(queue >= 0 && stasis > queue, `the queue, then the survey: ${apps.join(' -> ')}`);
        assert.deepEqual(playedAfterFirstKey(channel), ['sound:csat/you-pressed', `digits:${digit}`, 'sound:csat/thank-you']);
      }
    });
  });

  describe('the engine killed (kill -9) mid-question', () => {
    const calls: LocalCall[] = [];
    const keys = ['1', '3', '5'];
    const playbacksOfKilledEngine = new Map<string, Set<string>>();

    realTest('a new engine adopts the callers still in Stasis and they are rated', async () => {
      for (const key of keys) calls.push(await asterisk.originate({ callId: callId(`adopted${key}`), keys: key, cued: true }));
      for (const call of calls) await asterisk.whenPlaying(call.survey, QUESTION_START);
      engine.child.kill('SIGKILL');
      await within(engine.exited, 10_000, 'the killed engine to exit');
      for (const call of calls) {
        playbacksOfKilledEngine.set(
          call.survey,
          new Set(asterisk.events.forChannel(call.survey).filter((event) => event.type === 'PlaybackStarted').map((event) => String(event.raw['playback'].id))),
        );
      }
      await startEngine();
      await untilReady(200, 60_000);
      for (const call of calls) assert.ok(!asterisk.events.destroyed(call.survey), `${call.callId} still on the line when the new engine is ready`);
      for (const call of calls) await asterisk.cue(call.callId);
      for (const [index, call] of calls.entries()) {
        const key = keys[index]!;
        const outcome = await surveyEnd(call);
        // The killed engine recorded nothing for them; the new one recorded the whole survey.
        assert.deepEqual([outcome.outcome, outcome.score], ['completed', 6 - Number(key)]);
        assert.deepEqual(asterisk.events.dtmf(call.survey), [key]);
        assert.deepEqual(playedAfterFirstKey(call.survey).slice(-3), ['sound:csat/you-pressed', `digits:${key}`, 'sound:csat/thank-you']);
      }
      assert.deepEqual(
        ratings(calls.map((call) => call.callId)).map((row) => [row.agent_id, row.queue_id, row.score]),
        keys.map((key) => ['agent-001', 'sales-queue', 6 - Number(key)]),
      );
    });

    realTest(
      'the killed engine\'s question does not go on over the adopted survey: the caller\'s key stops what they hear',
      async () => {
        assert.equal(calls.length, keys.length, 'runs after the adoption test');
        for (const call of calls) {
          const events = asterisk.events.forChannel(call.survey);
          const key = events.findIndex((event) => event.type === 'ChannelDtmfReceived');
          const orphans = playbacksOfKilledEngine.get(call.survey)!;
          const stillPlaying = events
            .slice(key + 1)
            .filter((event) => event.type === 'PlaybackFinished' && orphans.has(String(event.raw['playback'].id)))
            .map((event) => `${event.raw['playback'].media_uri} (finished ${event.timestamp}, key at ${events[key]!.timestamp})`);
          assert.deepEqual(stillPlaying, [], `${call.callId}: the killed engine's playback was still playing when the caller pressed`);
        }
      },
    );
  });

  describe('Asterisk restarted under the engine', () => {
    let cutOff: LocalCall | undefined;
    let cutOffOutcome: OutcomeRow | undefined;

    realTest('/readyz 503 while Asterisk is down, 200 once it is back; the caller it cut off is recorded; callers after it are rated', async () => {
      cutOff = await asterisk.originate({ callId: callId('cut-off') });
      await asterisk.whenPlaying(cutOff.survey, QUESTION_START);
      await asterisk.restart(async () => {
        await untilReady(503, 30_000);
      });
      await untilReady(200, 60_000);
      // Asterisk's last events about that caller may die with it: the engine's record tells.
      cutOffOutcome = await surveyEnd(cutOff, { timeoutMs: 60_000, hangupSeen: false });
      assert.notEqual(cutOffOutcome.outcome, 'completed');
      assert.equal(cutOffOutcome.score, null);
      assert.deepEqual(ratings([cutOff.callId]), []);

      const since = asterisk.events.all.length;
      const [after2, after4, sipp] = await Promise.all([
        callAndPressDuringQuestion({ callId: callId('after-restart'), keys: '2' }),
        callAndPressDuringQuestion({ callId: callId('after-restart'), keys: '4' }),
        asterisk.sipp({ digit: '3' }),
      ]);
      assert.equal(sipp.code, 0, `sipp after the restart\n${sipp.output}\n${tail(engine.output())}`);
      const [sipChannel] = asterisk.events.channelsCreated('PJSIP/sipp-', since);
      assert.ok(sipChannel, 'a SIP caller after the restart');
      for (const call of [after2, after4, { callId: sipChannel, survey: sipChannel }]) assert.equal((await surveyEnd(call)).outcome, 'completed');
      assert.deepEqual(
        ratings([after2.callId, after4.callId, sipChannel]).map((row) => [row.call_id, row.score]).sort(),
        [[after2.callId, 4], [after4.callId, 2], [sipChannel, 3]].sort(),
      );
    });

    realTest(
      'the caller cut off by the restart is not recorded as a prompt that failed to play',
      async () => {
        assert.ok(cutOff && cutOffOutcome, 'runs after the restart test');
        const seen = asterisk.events.forChannel(cutOff.survey).map((event) =>
          event.type === 'ChannelHangupRequest' ? `${event.type}(soft=${event.raw['soft'] === true})` : event.type === 'PlaybackFinished' ? `${event.type}(${event.raw['playback'].state})` : event.type,
        );
        // Its prompts were fine: Asterisk went away under the call (abandoned, or failed naming that).
        assert.doesNotMatch(
          `${cutOffOutcome.outcome}: ${cutOffOutcome.reason ?? ''}`,
          /prompt failed to play/,
          `Asterisk's events for the caller before it stopped: ${seen.join(', ')}`,
        );
      },
    );
  });

  describe('load', () => {
    realTest('200 concurrent SIP callers (sipp -r 20 -l 200 -m 200): every rating stored', async (t) => {
      const since = asterisk.events.all.length;
      const sipp = await asterisk.sipp({ digit: '3', calls: 200, rate: 20, timeoutMs: 240_000 });
      const channels = asterisk.events.channelsCreated('PJSIP/sipp-', since);
      t.diagnostic(`peak SIP callers on Asterisk at once: ${peakConcurrency(asterisk, 'PJSIP/sipp-', since)}`);
      assert.equal(channels.length, 200, `200 SIP callers reached Asterisk\n${sipp.output}`);
      await eventually(
        () => channels.every((channel) => asterisk.events.destroyed(channel)) && countOutcomes(channels) === 200,
        120_000,
        () => `200 survey outcomes (have ${countOutcomes(channels)})\n${tail(engine.output())}`,
      );
      const stored = ratings(channels);
      const byOutcome = outcomeCounts(channels);
      assert.deepEqual(byOutcome, { completed: 200 }, `every survey completed\n${sipp.output}`);
      assert.equal(stored.length, 200, 'every rating stored');
      assert.ok(stored.every((row) => row.score === 3 && row.agent_id === 'agent-001' && row.queue_id === 'sales-queue'), JSON.stringify(stored.filter((row) => row.score !== 3)));
      assert.equal(sipp.code, 0, `sipp: every call ended with cc-csat's BYE\n${sipp.output}`);
    });
  });

  describe('another connection takes the ARI application (an engine elsewhere with the same [ari] app)', () => {
    realTest('/readyz 503 "replaced" while another WebSocket holds "csat", no fight for it; once it leaves, 200 and callers are rated', async () => {
      const other = new WebSocket(`${asterisk.ariUrl.replace(/^http/, 'ws')}/ari/events?app=csat&api_key=${encodeURIComponent(`csat:${ARI_PASSWORD}`)}`);
      const otherEvents: string[] = [];
      other.on('message', (data) => otherEvents.push(String(JSON.parse(String(data))['type'])));
      await within(new Promise((resolve, reject) => other.once('open', resolve).once('error', reject)), 10_000, 'the other connection to open');
      try {
        await untilReady(503, 30_000);
        const answer = (await (await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(5_000) })).json()) as { ari: string };
        assert.equal(answer.ari, 'replaced');
        // A caller now goes to the other holder, which does nothing with it: hung up by its phone.
        const meanwhile = await asterisk.originate({ callId: callId('held-elsewhere'), listenS: 1 });
        await eventually(() => otherEvents.includes('StasisStart'), 15_000, 'the other holder to get the caller');
        await eventually(() => asterisk.events.destroyed(meanwhile.survey), 30_000, 'the caller held elsewhere to hang up');
        assert.deepEqual(outcomes(meanwhile.callId), [], 'the engine never saw that caller');
        assert.ok(!otherEvents.includes('ApplicationReplaced'), 'the engine did not take the application back while it was held');
      } finally {
        other.close();
      }
      await untilReady(200, 60_000);
      const call = await callAndPressDuringQuestion({ callId: callId('after-replaced'), keys: '4' });
      assert.deepEqual([(await surveyEnd(call)).outcome, ratings([call.callId])[0]?.score], ['completed', 2]);
    });

    realTest('the dialplan fallback of README "Scaling out": Stasis() to an app no engine holds fails at once, the next app\'s engine surveys the caller', async () => {
      const call = await asterisk.originate({ callId: callId('fallback'), keys: '5', cued: true, stasisFirst: 'csat-standby' });
      await asterisk.whenPlaying(call.survey, QUESTION_START);
      await asterisk.cue(call.callId);
      assert.deepEqual([(await surveyEnd(call)).outcome, ratings([call.callId])[0]?.score], ['completed', 1]);
      assert.deepEqual(
        asterisk.events.userEvents(call.survey, 'CsatStasisTried').map((event) => [event['app'], event['stasis_status']]),
        [['csat-standby', 'FAILED']],
      );
    });
  });

  describe('REST over HTTP keep-alive ([ari] rest_transport = "http"; what an Asterisk before 20.13/21.8/22.3 gets)', () => {
    realTest('a caller is surveyed with every request over HTTP: the key stops the question, is read back, and is stored', async () => {
      engine.child.kill('SIGTERM');
      await within(engine.exited, 60_000, 'the WebSocket-transport engine to stop');
      const previous = tree;
      tree = writeConfigTree({
        ariUrl: asterisk.ariUrl,
        ariPassword: ARI_PASSWORD,
        ariExtra: 'rest_transport = "http"',
        queues: QUEUES,
        ivrs: { 'csat-survey': SHIPPED_IVR },
        logLevel: 'info',
      });
      rmSync(previous.dir, { recursive: true, force: true });
      await startEngine();
      await untilReady(200, 60_000);
      // The engine's own report of the transport it chose (a structured field of its connect line).
      const connected = engine
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => 'rest_transport' in line);
      assert.equal(connected?.['rest_transport'], 'http');
      const call = await callAndPressDuringQuestion({ callId: callId('http'), keys: '2' });
      const outcome = await surveyEnd(call);
      assert.equal(outcome.outcome, 'completed');
      assert.deepEqual(ratings([call.callId]), [{ call_id: call.callId, agent_id: 'agent-001', queue_id: 'sales-queue', score: 4 }]);
      assert.deepEqual(playedAfterFirstKey(call.survey), ['sound:csat/you-pressed', 'digits:2', 'sound:csat/thank-you']);
    });
  });

  function countOutcomes(callIds: readonly string[]): number {
    return Object.values(outcomeCounts(callIds)).reduce((sum, n) => sum + n, 0);
  }

  function outcomeCounts(callIds: readonly string[]): Record<string, number> {
    const rows = queryDb<{ outcome: string; n: number }>(
      tree.dbPath,
      `SELECT outcome, count(*) AS n FROM survey_outcome WHERE call_id IN (${callIds.map(() => '?').join(',')}) GROUP BY outcome`,
      ...callIds,
    );
    return Object.fromEntries(rows.map((row) => [row.outcome, row.n]));
  }
});

function peakConcurrency(asterisk: RealAsterisk, prefix: string, since: number): number {
  let live = 0;
  let peak = 0;
  const ours = new Set<string>();
  for (const event of asterisk.events.all.slice(since)) {
    if (event.type === 'ChannelCreated' && event.channelName?.startsWith(prefix)) {
      ours.add(event.channelId!);
      peak = Math.max(peak, ++live);
    } else if (event.type === 'ChannelDestroyed' && ours.has(event.channelId!)) {
      live--;
    }
  }
  return peak;
}

function tail(text: string, chars = 4000): string {
  return text.length > chars ? `...${text.slice(-chars)}` : text;
}
