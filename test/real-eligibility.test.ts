// Who gets surveyed, on the real Asterisk 22: callers go through asterisk-dev's real Queue(sales-queue,c)
// (extension 100), talk to the scripted agent, who hangs up; the dialplan works out the talk time
// and the engine decides. What is asserted is what a user notices: the outcome rows, the rating,
// what Asterisk played, and that the caller's number is nowhere in the database or the log.
// Runs when CC_CSAT_ASTERISK names the Asterisk wrapper printed by ../shared/asterisk/install.sh.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import type { EngineProcess } from './helpers/engine-process.js';
import { within } from './helpers/wait.js';
import { ARI_PASSWORD, RealAsterisk, SHIPPED_IVR, eventually, queryDb, startReadyEngine } from './helpers/real-asterisk.js';

const ASTERISK = process.env['CC_CSAT_ASTERISK'];
const SKIP = ASTERISK
  ? false
  : 'real-Asterisk tier skipped: set CC_CSAT_ASTERISK to the asterisk wrapper printed by ../shared/asterisk/install.sh (bash .ci/run does it)';

// The scripted agent talks about 3 s (asterisk-dev [agents]); CSAT_AGENT_TALK_S keeps it longer.
const MIN_TALK_SECONDS = 6;
const QUEUES = `
[[queue]]
name = "sales-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "csat-survey"
min_talk_seconds = ${MIN_TALK_SECONDS}
resurvey_after_hours = 4
`;
const HASH_KEY = 'real-eligibility-test-key-0123456789';
const QUESTION_START = 'sound:csat/rate-intro';
const CALL_TIMEOUT_MS = 120_000;

interface OutcomeRow {
  call_id: string;
  agent_id: string | null;
  queue_id: string | null;
  outcome: string;
  reason: string | null;
  score: number | null;
}

interface QueueCall {
  /** The caller's channel (its ${UNIQUEID}, so the call id cc-csat stores). */
  readonly callId: string;
  readonly phone: string;
}

describe('real Asterisk 22: who gets surveyed', { skip: SKIP }, () => {
  let asterisk: RealAsterisk;
  let tree: ConfigTree;
  let engine: EngineProcess;

  const outcomes = (callId: string): OutcomeRow[] =>
    queryDb<OutcomeRow>(tree.dbPath, 'SELECT call_id, agent_id, queue_id, outcome, reason, score FROM survey_outcome WHERE call_id = ? ORDER BY id', callId);

  async function outcomeOf(call: QueueCall): Promise<OutcomeRow> {
    await eventually(
      () => asterisk.events.destroyed(call.callId) && outcomes(call.callId).length > 0,
      CALL_TIMEOUT_MS,
      () => `the call ${call.callId} to end with an outcome (dialplan: ${asterisk.events.dialplan(call.callId).join(' -> ')})\n${engine.output().slice(-4000)}`,
    );
    const rows = outcomes(call.callId);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    return rows[0]!;
  }

  /**
   * A caller dialing extension 100 (asterisk-dev [from-callers]): the real Queue(sales-queue,c), the
   * scripted agent, then Stasis. The ;1 half of Local/s@csat-phone is the caller; the ;2 half, its
   * phone, presses `keys` when cued.
   */
  async function callThroughQueue(name: string, options: { number: string; agentTalksLongerS?: number; keys?: string }): Promise<QueueCall> {
    const stamp = `${name}-${Date.now().toString(36)}`;
    const call = { callId: `${stamp}-caller`, phone: `${stamp}-phone` };
    const variables: Record<string, string> = { CSAT_PHONE_LISTEN: '60', CSAT_PHONE_CUE: cueName(call.callId) };
    if (options.keys) variables['CSAT_PHONE_KEYS'] = options.keys;
    // Inherited by the agent's channel through the queue: the agent keeps talking that much longer.
    if (options.agentTalksLongerS) variables['__CSAT_AGENT_TALK_S'] = String(options.agentTalksLongerS);
    const query = new URLSearchParams({
      endpoint: 'Local/s@csat-phone',
      context: 'from-callers',
      extension: '100',
      priority: '1',
      channelId: call.callId,
      otherChannelId: call.phone,
      callerId: `"Caller" <${options.number}>`,
      timeout: '30',
    });
    const answer = await asterisk.ari('POST', `/channels?${query}`, { variables });
    assert.ok(answer.ok, `originate: ${answer.status} ${await answer.text()}`);
    return call;
  }

  const cue = (call: QueueCall): Promise<Response> =>
    asterisk.ari('POST', `/asterisk/variable?${new URLSearchParams({ variable: cueName(call.callId), value: '1' })}`);

  before(async () => {
    asterisk = await RealAsterisk.start(ASTERISK!);
    tree = writeConfigTree({ ariUrl: asterisk.ariUrl, ariPassword: ARI_PASSWORD, queues: QUEUES, ivrs: { 'csat-survey': SHIPPED_IVR }, logLevel: 'debug' });
    ({ engine } = await startReadyEngine(tree, { CC_CSAT_CALLER_HASH_KEY: HASH_KEY }));
  });

  after(async () => {
    engine?.child.kill('SIGKILL');
    if (engine) await within(engine.exited, 10_000, 'the engine to exit');
    await asterisk?.close();
    if (tree) rmSync(tree.dir, { recursive: true, force: true });
  });

  test(`min_talk_seconds = ${MIN_TALK_SECONDS} through Queue(sales-queue,c): a short talk is skipped, a long one surveyed; the same number again is not surveyed`, async () => {
    const [short, long] = await Promise.all([
      callThroughQueue('short', { number: '5550001' }),
      callThroughQueue('long', { number: '5550002', agentTalksLongerS: MIN_TALK_SECONDS, keys: '2' }),
    ]);
    await asterisk.whenPlaying(long.callId, QUESTION_START, CALL_TIMEOUT_MS);
    await cue(long);

    const shortOutcome = await outcomeOf(short);
    assert.deepEqual([shortOutcome.outcome, shortOutcome.reason, shortOutcome.agent_id, shortOutcome.queue_id], ['skipped', 'talk_too_short', 'agent-001', 'sales-queue']);
    const shortPlan = asterisk.events.dialplan(short.callId);
    assert.ok(shortPlan.indexOf('Queue(sales-queue,c)') >= 0, `the caller went through the queue: ${shortPlan.join(' -> ')}`);
    assert.deepEqual(asterisk.events.played(short.callId).filter((uri) => uri.startsWith('sound:csat/')), [], 'no survey prompt played to the short call');
    assert.equal(asterisk.events.userEvents(short.callId, 'CsatBackInDialplan').length, 1, 'the dialplan went on after Stasis');

    const longOutcome = await outcomeOf(long);
    assert.deepEqual([longOutcome.outcome, longOutcome.score, longOutcome.agent_id], ['completed', 4, 'agent-001']);
    const ratings = queryDb<{ score: number }>(tree.dbPath, 'SELECT score FROM cc_csat WHERE call_id = ?', long.callId);
    assert.deepEqual(ratings, [{ score: 4 }]);

    // The same number, talking long enough again, within resurvey_after_hours.
    const again = await callThroughQueue('again', { number: '5550002', agentTalksLongerS: MIN_TALK_SECONDS });
    const againOutcome = await outcomeOf(again);
    assert.deepEqual([againOutcome.outcome, againOutcome.reason], ['skipped', 'recently_surveyed']);

    const stored = queryDb<{ caller_hash: string }>(tree.dbPath, 'SELECT caller_hash FROM survey_caller');
    assert.equal(stored.length, 1, 'one surveyed number remembered (the short call was never offered a survey)');
    assert.match(stored[0]!.caller_hash, /^[0-9a-f]{64}$/);
    assert.ok(!stored[0]!.caller_hash.includes('5550002'));
    assert.ok(!engine.output().includes('5550002') && !engine.output().includes(stored[0]!.caller_hash), 'neither the number nor its hash is in the log');
  });
});

function cueName(callId: string): string {
  return `CSAT_CUE_${callId.replace(/[^A-Za-z0-9]/g, '_')}`;
}
