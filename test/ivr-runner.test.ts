// The fast tier of the IVR: the shipped survey run by the real runner and step handlers on an
// in-memory channel, under mock timers (no waiting for real timeouts). What is asserted is what the
// caller hears, what the session was handed to store, and how the run ended.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { parse } from 'smol-toml';
import { headlineQuestion } from '../src/config/questions.js';
import { IvrFileSchema, type Ivr, type Step } from '../src/config/schema.js';
import type { CollectedAnswer, RecordedAnswer, StepContext } from '../src/ivr/context.js';
import { DigitBuffer } from '../src/ivr/digits.js';
import { runIvr, type RunEnd, type RunSession } from '../src/ivr/runner.js';
import { createLogger } from '../src/log.js';
import { REPO_ROOT } from './helpers/cli.js';
import { FakeChannel } from './helpers/fake-channel.js';

const SHIPPED_FILE = IvrFileSchema.parse(parse(readFileSync(join(REPO_ROOT, 'ivr', 'csat-survey.toml'), 'utf8')));
const SHIPPED: Ivr = { ...SHIPPED_FILE, name: 'csat-survey', file: 'ivr/csat-survey.toml', headline: headlineQuestion(SHIPPED_FILE.step) };
const QUESTION = ['sound:csat/rate-intro', 'sound:csat/rate-keys'];
const MEDIA_MS = 1_000;

/** What the controller's session does, in memory: keeps each answer, or refuses to store it. */
class MemorySession implements RunSession {
  readonly answers: CollectedAnswer[] = [];
  attempts = 0;
  readonly steps: string[] = [];
  constructor(private readonly refuse?: string) {}
  async record(answer: CollectedAnswer): Promise<RecordedAnswer> {
    if (this.refuse) return { stored: false, reason: this.refuse };
    this.answers.push(answer);
    return { stored: true };
  }
  countAttempt(): void {
    this.attempts++;
  }
  enterStep(step: Step): void {
    this.steps.push(step.id);
  }
}

interface Run {
  channel: FakeChannel;
  session: MemorySession;
  ended: Promise<RunEnd>;
}

function start(options: { refuse?: string; failing?: string[] } = {}): Run {
  const channel = new FakeChannel('fake-1', { mediaMs: MEDIA_MS, ...(options.failing ? { failing: options.failing } : {}) });
  const digits = new DigitBuffer();
  channel.onDtmf((digit) => digits.push(digit));
  const session = new MemorySession(options.refuse);
  const survey = new AbortController();
  channel.gone.addEventListener('abort', () => survey.abort(channel.gone.reason), { once: true });
  const ctx: StepContext = {
    ivr: SHIPPED,
    channel,
    signal: survey.signal,
    digits,
    log: createLogger('silent'),
    answers: session.answers,
    countAttempt: () => session.countAttempt(),
  };
  return { channel, session, ended: runIvr(SHIPPED, ctx, session) };
}

/** Lets mock time pass in small steps, running what each step wakes up (promises, I/O callbacks). */
async function advance(ms: number, stepMs = 50): Promise<void> {
  for (let passed = 0; passed < ms; passed += stepMs) {
    mock.timers.tick(stepMs);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Advances mock time until the run ends (at most `limitMs` of it). */
async function finish(run: Run, limitMs = 120_000): Promise<RunEnd> {
  let end: RunEnd | undefined;
  void run.ended.then((value) => (end = value));
  for (let passed = 0; end === undefined && passed < limitMs; passed += 500) await advance(500);
  assert.ok(end, `the run ended within ${limitMs} ms of mock time; heard so far: ${JSON.stringify(run.channel.heard)}`);
  return end;
}

describe('the IVR runner on the shipped survey (mock timers)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('a key during the question: it stops, the answer goes to the session once, is read back, thanks, hang-up', async () => {
    const run = start();
    await advance(300);
    assert.deepEqual(run.channel.heard, [QUESTION]);
    run.channel.press('2');
    const end = await finish(run);
    assert.deepEqual(end, { kind: 'finished', lastStep: 'bye' });
    assert.deepEqual(run.session.answers, [{ question: 'ask', kind: 'csat', digit: '2', value: 4, headline: true }]);
    assert.equal(run.channel.ends[0], 'stopped', 'the key stopped the question');
    assert.deepEqual(run.channel.heard.slice(1), [['sound:csat/you-pressed', 'digits:2'], ['sound:csat/thank-you']]);
    assert.equal(run.channel.hungUpByUs, true);
    assert.equal(run.session.attempts, 1);
    assert.deepEqual(run.session.steps, ['ask', 'confirm', 'thanks', 'bye']);
  });

  test('silence: the question with "no input" until max_retries runs out, then goodbye; nothing handed to store', async () => {
    const run = start();
    const end = await finish(run);
    assert.deepEqual(end, { kind: 'exhausted', reason: 'no_input', lastStep: 'bye' });
    assert.deepEqual(run.channel.heard, [QUESTION, ['sound:csat/no-input', ...QUESTION], ['sound:csat/no-input', ...QUESTION], ['sound:csat/goodbye']]);
    assert.deepEqual(run.session.answers, []);
    assert.equal(run.session.attempts, 3);
  });

  test('an invalid key, then a valid one: "invalid" and the question again; only the valid key is an answer', async () => {
    const run = start();
    await advance(2_500);
    run.channel.press('9');
    await advance(200);
    assert.deepEqual(run.channel.heard[1], ['sound:csat/invalid', ...QUESTION]);
    run.channel.press('1');
    const end = await finish(run);
    assert.equal(end.kind, 'finished');
    assert.deepEqual(run.session.answers, [{ question: 'ask', kind: 'csat', digit: '1', value: 5, headline: true }]);
    assert.equal(run.session.attempts, 2);
  });

  test('keys pressed before the question starts are not lost: the first one answers it', async () => {
    const run = start();
    run.channel.press('4');
    const end = await finish(run);
    assert.equal(end.kind, 'finished');
    assert.deepEqual(run.session.answers, [{ question: 'ask', kind: 'csat', digit: '4', value: 2, headline: true }]);
  });

  test('an answer the session cannot store: no "you pressed", goodbye, and the run fails with the reason', async () => {
    const run = start({ refuse: 'rating not stored: disk full' });
    await advance(300);
    run.channel.press('3');
    const end = await finish(run);
    assert.deepEqual(end, { kind: 'failed', reason: 'rating not stored: disk full', lastStep: 'bye' });
    assert.deepEqual(run.channel.heard.slice(1), [['sound:csat/goodbye']]);
  });

  test('a question that cannot be played: failed, and the caller is not left waiting for a key', async () => {
    const run = start({ failing: ['sound:csat/rate-keys'] });
    const end = await finish(run);
    assert.equal(end.kind, 'failed');
    assert.match((end as { reason: string }).reason, /prompt failed to play/);
    assert.deepEqual(run.session.answers, []);
  });

  test('the caller hangs up during the question: aborted at that step, nothing stored, nothing more played', async () => {
    const run = start();
    await advance(500);
    run.channel.callerHangsUp();
    const end = await finish(run);
    assert.equal(end.kind, 'aborted');
    assert.equal(end.lastStep, 'ask');
    assert.deepEqual(run.channel.heard, [QUESTION]);
    assert.deepEqual(run.session.answers, []);
    assert.equal(run.session.attempts, 1, 'asked once, though the step never returned');
  });
});
