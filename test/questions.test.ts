// Several typed questions in one survey, consent and branching, end to end: real ari-client -> ARI
// simulator -> controller -> SQLite and PostgreSQL. What is asserted is what a caller hears, the
// answer rows, the cc_csat row (headline only) and the outcome row.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, mock, test } from 'node:test';
import { parse } from 'smol-toml';
import { headlineQuestion } from '../src/config/questions.js';
import { IvrFileSchema, type Ivr } from '../src/config/schema.js';
import type { CollectedAnswer, StepContext } from '../src/ivr/context.js';
import { DigitBuffer } from '../src/ivr/digits.js';
import { runIvr, type RunEnd, type RunSession } from '../src/ivr/runner.js';
import { createLogger } from '../src/log.js';
import { classifyEnd } from '../src/survey/outcomes.js';
import { FakeChannel } from './helpers/fake-channel.js';
import type { SimChannel } from './ari-sim/simulator.js';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/problems.js';
import { DATABASES } from './helpers/api.js';
import { runCli } from './helpers/cli.js';
import { writeConfigTree } from './helpers/config-tree.js';
import { startHarness, type CallerAction, type Harness } from './helpers/harness.js';
import { unhandledRejections } from './helpers/unhandled.js';

// Consent, a csat headline, yes/no with a skip key, a two-digit NPS whose detractors hear a
// different step, then thanks. Short timeouts: a survey takes well under two seconds.
export const MULTI_IVR = `
description = "consent, csat, resolved, nps"
playback_guard_ms = 1500
max_duration_ms = 20000

[[step]]
id = "offer"
type = "consent"
prompt = ["sound:csat/consent"]
accept_key = "1"
decline_key = "2"
on_silence = "decline"
timeout_ms = 600
max_retries = 1
no_input_prompt = ["sound:csat/no-input"]
next = "csat"
on_decline = "declined"

[[step]]
id = "csat"
type = "collect"
kind = "csat"
prompt = ["sound:csat/rate-intro"]
scores = { "1" = 5, "2" = 4, "3" = 3, "4" = 2, "5" = 1 }
timeout_ms = 600
max_retries = 1
next = "resolved"
on_failure = "goodbye"

[[step]]
id = "resolved"
type = "collect"
kind = "yes_no"
prompt = ["sound:csat/resolved"]
scores = { "1" = 1, "2" = 0 }
skip_key = "*"
timeout_ms = 600
max_retries = 0
next = "nps"
on_failure = "nps"

[[step]]
id = "nps"
type = "collect"
kind = "nps"
prompt = ["sound:csat/nps"]
inter_digit_timeout_ms = 500
timeout_ms = 800
max_retries = 1
invalid_prompt = ["sound:csat/invalid-nps"]
branch = [{ max = 6, next = "sorry" }]
next = "thanks"
on_failure = "thanks"

[[step]]
id = "sorry"
type = "play"
media = ["sound:csat/sorry"]
next = "bye"

[[step]]
id = "thanks"
type = "play"
media = ["sound:csat/thank-you"]
next = "bye"

[[step]]
id = "declined"
type = "play"
media = ["sound:csat/declined"]
next = "bye"

[[step]]
id = "goodbye"
type = "play"
media = ["sound:csat/goodbye"]
next = "bye"

[[step]]
id = "bye"
type = "hangup"
`;

const NPS_ONLY_IVR = `
max_duration_ms = 20000
playback_guard_ms = 1500

[[step]]
id = "nps"
type = "collect"
kind = "nps"
prompt = ["sound:csat/nps"]
inter_digit_timeout_ms = 500
timeout_ms = 800
max_retries = 0
next = "thanks"

[[step]]
id = "thanks"
type = "play"
media = ["sound:csat/thank-you"]
`;

const QUEUES = `
[[queue]]
name = "multi-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "multi"

[[queue]]
name = "nps-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "nps-only"
`;

/** A caller pressing `keys` a moment after `prompt` starts (the n-th time it plays). */
// (A csat "1" right after the consent's "1" would be taken for a double press: such tests wait past a second.)
const on = (prompt: string, press: string, nth = 1, after = 120): CallerAction => ({ whenPlaying: `sound:csat/${prompt}`, nth, after, press });

for (const { kind, skip } of DATABASES) {
  describe(`several typed questions, consent and branching on ${kind}`, { skip }, () => {
    let h: Harness;
    let seq = 0;
    const callId = (label: string): string => `${label}-${++seq}`;

    before(async () => {
      h = await startHarness({ database: kind, queues: QUEUES, ivrs: { multi: MULTI_IVR, 'nps-only': NPS_ONLY_IVR }, sim: { missingSounds: [], stuckSounds: [] } });
    });
    after(async () => {
      await h?.close();
    });
    afterEach(() => assert.deepEqual(unhandledRejections, [], 'no unhandled promise rejection'));

    const answersOf = (id: string) =>
      h.storage.db.selectFrom('survey_answer').select(['question_id', 'kind', 'value', 'digits', 'ivr']).where('call_id', '=', id).orderBy('id').execute();
    const ratingOf = (id: string) => h.storage.db.selectFrom('cc_csat').select(['score']).where('call_id', '=', id).executeTakeFirst();
    const outcomeOf = async (id: string) => {
      const rows = await h.storage.db.selectFrom('survey_outcome').selectAll().where('call_id', '=', id).execute();
      assert.equal(rows.length, 1, `one outcome row for ${id}: ${JSON.stringify(rows)}`);
      return rows[0]!;
    };
    const heard = (channel: SimChannel): string[] => channel.played.map((media) => media.join('+'));
    const call = (id: string, queue: string, script: CallerAction[]) => h.call({ args: [id, 'agent-007', queue], script });

    test('accepted, all answered: each answer stored with its kind, "10" typed as two keys, the csat answer is the rating', async () => {
      const id = callId('all');
      const channel = await call(id, 'multi-queue', [on('consent', '1'), on('rate-intro', '2'), on('resolved', '1'), on('nps', '10')]);
      assert.deepEqual(await answersOf(id), [
        { question_id: 'csat', kind: 'csat', value: 4, digits: '2', ivr: 'multi' },
        { question_id: 'resolved', kind: 'yes_no', value: 1, digits: '1', ivr: 'multi' },
        { question_id: 'nps', kind: 'nps', value: 10, digits: '10', ivr: 'multi' },
      ]);
      assert.deepEqual(await ratingOf(id), { score: 4 });
      assert.deepEqual(heard(channel), ['sound:csat/consent', 'sound:csat/rate-intro', 'sound:csat/resolved', 'sound:csat/nps', 'sound:csat/thank-you']);
      const outcome = await outcomeOf(id);
      assert.equal(outcome.outcome, 'completed');
      assert.equal(outcome.consent, 'accepted');
      assert.equal(outcome.score, 4);
    });

    test('NPS: a single "1" then silence is 1, and a detractor goes to the branch', async () => {
      const id = callId('one');
      const channel = await call(id, 'multi-queue', [on('consent', '1'), on('rate-intro', '4'), on('resolved', '2'), on('nps', '1')]);
      const nps = (await answersOf(id)).find((answer) => answer.question_id === 'nps');
      assert.deepEqual(nps, { question_id: 'nps', kind: 'nps', value: 1, digits: '1', ivr: 'multi' });
      assert.deepEqual(heard(channel).slice(-1), ['sound:csat/sorry']);
      assert.equal((await answersOf(id)).find((answer) => answer.question_id === 'resolved')?.value, 0, 'no is stored as 0');
    });

    test('NPS: "7#" is 7 (a promoter-side passive, no branch); "10#" leaves no stray "#"', async () => {
      const seven = callId('seven');
      const channel = await call(seven, 'multi-queue', [on('consent', '1'), on('rate-intro', '1', 1, 1_100), on('resolved', '1'), on('nps', '7#')]);
      assert.equal((await answersOf(seven)).at(-1)?.value, 7);
      assert.deepEqual(heard(channel).slice(-1), ['sound:csat/thank-you']);
      const ten = callId('ten');
      await call(ten, 'nps-queue', [on('nps', '10#')]);
      assert.deepEqual((await answersOf(ten)).map((answer) => answer.value), [10]);
    });

    test('NPS: "15" is out of range: the invalid prompt and the question again, then a valid answer', async () => {
      const id = callId('bad');
      const channel = await call(id, 'multi-queue', [on('consent', '1'), on('rate-intro', '3'), on('resolved', '1'), on('nps', '15'), on('invalid-nps', '9')]);
      assert.ok(heard(channel).includes('sound:csat/invalid-nps+sound:csat/nps'), heard(channel).join(' | '));
      assert.equal((await answersOf(id)).at(-1)?.value, 9);
      assert.equal((await outcomeOf(id)).attempts, 4, 'csat, resolved and nps twice');
    });

    test('barge-in across two digits: both keys during the NPS prompt stop it and make 10', async () => {
      const id = callId('barge');
      await call(id, 'multi-queue', [on('consent', '1', 1, 30), on('rate-intro', '5', 1, 30), on('resolved', '1', 1, 30), on('nps', '10', 1, 30)]);
      assert.deepEqual((await answersOf(id)).map((answer) => answer.value), [1, 1, 10]);
    });

    test('the skip key skips a question: nothing stored for it, the survey goes on', async () => {
      const id = callId('skip');
      const channel = await call(id, 'multi-queue', [on('consent', '1'), on('rate-intro', '1', 1, 1_100), on('resolved', '*'), on('nps', '9')]);
      assert.deepEqual((await answersOf(id)).map((answer) => answer.question_id), ['csat', 'nps']);
      assert.ok(heard(channel).includes('sound:csat/nps'));
      assert.equal((await outcomeOf(id)).outcome, 'completed');
    });

    test('declined by key: no question asked, nothing stored, outcome declined', async () => {
      const id = callId('decline');
      const channel = await call(id, 'multi-queue', [on('consent', '2')]);
      assert.deepEqual(heard(channel), ['sound:csat/consent', 'sound:csat/declined']);
      assert.deepEqual(await answersOf(id), []);
      assert.equal(await ratingOf(id), undefined);
      const outcome = await outcomeOf(id);
      assert.equal(outcome.outcome, 'declined');
      assert.equal(outcome.consent, 'declined');
      assert.equal(outcome.reason, 'declined_by_key');
    });

    test('silence at the offer, with on_silence = "decline": asked again once, then declined', async () => {
      const id = callId('silent');
      const channel = await call(id, 'multi-queue', []);
      assert.deepEqual(heard(channel), ['sound:csat/consent', 'sound:csat/no-input+sound:csat/consent', 'sound:csat/declined']);
      const outcome = await outcomeOf(id);
      assert.equal(outcome.outcome, 'declined');
      assert.equal(outcome.reason, 'no_answer_to_offer');
    });

    test('a caller who hangs up at question 3 keeps answers 1 and 2; rated, so the survey counts as completed', async () => {
      const id = callId('hangup');
      await call(id, 'multi-queue', [on('consent', '1'), on('rate-intro', '2'), on('resolved', '1'), { whenPlaying: 'sound:csat/nps', after: 100, hangup: true }]);
      assert.deepEqual((await answersOf(id)).map((answer) => answer.question_id), ['csat', 'resolved']);
      const outcome = await outcomeOf(id);
      assert.equal(outcome.outcome, 'completed');
      assert.equal(outcome.last_step, 'nps');
    });

    test('"1" pressed twice at the offer: the second press does not rate the call (key 1 is also "very satisfied")', async () => {
      const id = callId('double');
      const channel = await call(id, 'multi-queue', [on('consent', '11'), on('rate-intro', '3', 1, 300), on('resolved', '1'), on('nps', '8')]);
      assert.deepEqual((await answersOf(id)).map((answer) => [answer.question_id, answer.value]), [['csat', 3], ['resolved', 1], ['nps', 8]]);
      assert.ok(heard(channel).includes('sound:csat/rate-intro'));
      assert.deepEqual(await ratingOf(id), { score: 3 });
    });

    test('only wrong keys at the offer (never accept, never decline): declined, not taken for silence', async () => {
      const id = callId('wrong-keys');
      await call(id, 'multi-queue', [on('consent', '9'), on('consent', '7', 2)]);
      assert.deepEqual(await answersOf(id), []);
      const outcome = await outcomeOf(id);
      assert.equal(outcome.outcome, 'declined');
      assert.equal(outcome.reason, 'no_valid_answer_to_offer');
    });

    test('a hang-up while the IVR waits to see whether "1" becomes "10": the 1 is kept', async () => {
      const id = callId('nps-1-gone');
      await call(id, 'nps-queue', [on('nps', '1'), { whenPlaying: 'sound:csat/nps', after: 250, hangup: true }]);
      assert.deepEqual(await answersOf(id), [{ question_id: 'nps', kind: 'nps', value: 1, digits: '1', ivr: 'nps-only' }]);
      assert.equal((await outcomeOf(id)).outcome, 'completed');
    });

    test('a hang-up during the offer: abandoned, consent not given', async () => {
      const id = callId('gone');
      await call(id, 'multi-queue', [{ whenPlaying: 'sound:csat/consent', after: 100, hangup: true }]);
      const outcome = await outcomeOf(id);
      assert.equal(outcome.outcome, 'abandoned');
      assert.equal(outcome.consent, null);
    });

    test('a survey without a csat question stores answers but no cc_csat row, and completes', async () => {
      const id = callId('nps-only');
      await call(id, 'nps-queue', [on('nps', '3')]);
      assert.deepEqual(await answersOf(id), [{ question_id: 'nps', kind: 'nps', value: 3, digits: '3', ivr: 'nps-only' }]);
      assert.equal(await ratingOf(id), undefined);
      const outcome = await outcomeOf(id);
      assert.equal(outcome.outcome, 'completed');
      assert.equal(outcome.score, null);
    });

    test('the same call back in Stasis after an NPS-only survey: not surveyed twice (already_answered)', async () => {
      const id = callId('nps-twice');
      await call(id, 'nps-queue', [on('nps', '8')]);
      const again = await call(id, 'nps-queue', [on('nps', '2')]);
      assert.deepEqual(again.played, [], 'nothing played the second time');
      assert.deepEqual((await answersOf(id)).map((answer) => answer.value), [8]);
      const rows = await h.storage.db.selectFrom('survey_outcome').select(['outcome', 'reason']).where('call_id', '=', id).orderBy('id').execute();
      assert.deepEqual(rows, [{ outcome: 'completed', reason: null }, { outcome: 'skipped', reason: 'already_answered' }]);
    });

    test('an NPS-only caller who hangs up during the question abandoned it; one who stays silent is no_input', async () => {
      const gone = callId('nps-gone');
      await call(gone, 'nps-queue', [{ whenPlaying: 'sound:csat/nps', after: 100, hangup: true }]);
      assert.equal((await outcomeOf(gone)).outcome, 'abandoned');
      const silent = callId('nps-silent');
      await call(silent, 'nps-queue', []);
      assert.equal((await outcomeOf(silent)).outcome, 'no_input');
    });
  });
}

describe('check-config on questions, consent and branches', () => {
  const problemsFor = (ivr: string): string[] => {
    const tree = writeConfigTree({ queues: QUEUES.replace('csat_ivr = "nps-only"', 'csat_ivr = "multi"'), ivrs: { multi: ivr } });
    try {
      loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return [...err.problems];
    }
    return [];
  };

  test('the multi-question survey is valid as written', () => {
    assert.deepEqual(problemsFor(MULTI_IVR), []);
  });

  test('values outside a kind\'s range name the file, the step and the key', () => {
    const text = problemsFor(MULTI_IVR.replace('"1" = 5, "2" = 4', '"1" = 6, "2" = 4').replace('scores = { "1" = 1, "2" = 0 }', 'scores = { "1" = 1, "2" = 2 }')).join('\n');
    assert.match(text, /ivr\/multi\.toml: step\[1\]\.scores\.1: 6 is outside csat's range 1-5/);
    assert.match(text, /ivr\/multi\.toml: step\[2\]\.scores\.2: 2 is outside yes_no's range 0-1/);
  });

  test('an nps range beyond 0-10 and a scale question without values are refused', () => {
    const text = problemsFor(MULTI_IVR.replace('kind = "nps"', 'kind = "nps"\nrange = { min = 0, max = 12 }').replace('kind = "yes_no"\nprompt = ["sound:csat/resolved"]\nscores = { "1" = 1, "2" = 0 }', 'kind = "scale"\nprompt = ["sound:csat/resolved"]')).join('\n');
    assert.match(text, /step\[3\]\.range: 0-12 is outside nps's range 0-10/);
    assert.match(text, /step\[2\]\.scores: a scale question needs scores \(key -> value\) or range \(a typed number\)/);
  });

  test('branch targets and values are checked: an unknown step, a value the question cannot take', () => {
    const text = problemsFor(MULTI_IVR.replace('branch = [{ max = 6, next = "sorry" }]', 'branch = [{ max = 6, next = "sory" }, { value = 11, next = "thanks" }]')).join('\n');
    assert.match(text, /ivr\/multi\.toml: step\[3\]\.branch\[0\]\.next: unknown step "sory" \(did you mean "sorry"\?/);
    assert.match(text, /ivr\/multi\.toml: step\[3\]\.branch\[1\]\.value: 11 is outside this question's values 0-10/);
  });

  test('headline: at most one, and only a csat question; consent keys differ; on_decline must exist', () => {
    const twoHeadlines = problemsFor(MULTI_IVR.replace('kind = "csat"', 'kind = "csat"\nheadline = true').replace('kind = "nps"', 'kind = "nps"\nheadline = true')).join('\n');
    assert.match(twoHeadlines, /step\[3\]\.headline: only a csat question can be the headline \(this one is nps\)/);
    const consent = problemsFor(MULTI_IVR.replace('decline_key = "2"', 'decline_key = "1"').replace('on_decline = "declined"', 'on_decline = "declind"')).join('\n');
    assert.match(consent, /step\[0\]\.decline_key: must differ from accept_key/);
    const target = problemsFor(MULTI_IVR.replace('on_decline = "declined"', 'on_decline = "declind"')).join('\n');
    assert.match(target, /step\[0\]\.on_decline: unknown step "declind" \(did you mean "declined"\?/);
  });

  test('a comment longer than the whole survey may last is refused', () => {
    const withComment = (seconds: number): string =>
      MULTI_IVR.replace('[[step]]\nid = "sorry"', `[[step]]\nid = "comment"\ntype = "record"\nmax_seconds = ${seconds}\nnext = "thanks"\n\n[[step]]\nid = "sorry"`);
    assert.deepEqual(problemsFor(withComment(10)), []);
    assert.match(problemsFor(withComment(20)).join('\n'), /ivr\/multi\.toml: step\[\d+\]\.max_seconds: 20 s does not fit in the survey's max_duration_ms \(20000 ms\)/);
  });

  test('a skip key that is also an answer key, and a terminator inside a typed number, are refused', () => {
    const text = problemsFor(MULTI_IVR.replace('skip_key = "*"', 'skip_key = "2"').replace('inter_digit_timeout_ms = 500', 'inter_digit_timeout_ms = 500\nterminator = "5"')).join('\n');
    assert.match(text, /step\[2\]\.skip_key: "2" is also an answer key/);
    assert.match(text, /step\[3\]\.terminator: "5" is also an answer key/);
  });
});

describe('typed numbers under mock timers: when the IVR stops waiting for another key', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  const NPS_FILE = IvrFileSchema.parse(parse(NPS_ONLY_IVR.replace('inter_digit_timeout_ms = 500', 'inter_digit_timeout_ms = 3000').replace('timeout_ms = 800', 'timeout_ms = 5000')));
  const NPS: Ivr = { ...NPS_FILE, name: 'nps-only', file: 'ivr/nps-only.toml', headline: headlineQuestion(NPS_FILE.step) };

  function start(): { channel: FakeChannel; answers: CollectedAnswer[]; ended: Promise<RunEnd> } {
    const channel = new FakeChannel('fake-nps', { mediaMs: 1_000 });
    const digits = new DigitBuffer();
    channel.onDtmf((digit) => digits.push(digit));
    const answers: CollectedAnswer[] = [];
    const session: RunSession = {
      record: async (answer) => {
        answers.push(answer);
        return { stored: true };
      },
    };
    const survey = new AbortController();
    channel.gone.addEventListener('abort', () => survey.abort(channel.gone.reason), { once: true });
    const ctx: StepContext = { ivr: NPS, channel, signal: survey.signal, digits, log: createLogger('silent'), answers, countAttempt: () => {} };
    return { channel, answers, ended: runIvr(NPS, ctx, session) };
  }
  async function advance(ms: number): Promise<void> {
    for (let passed = 0; passed < ms; passed += 50) {
      mock.timers.tick(50);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  test('"5" cannot grow into 0-10: taken at once, the thank-you starts before any inter-digit timeout', async () => {
    const run = start();
    await advance(1_100);
    run.channel.press('5');
    await advance(200);
    assert.deepEqual(run.answers.map((answer) => answer.kind !== 'comment' && answer.value), [5]);
    assert.deepEqual(run.channel.heard.at(-1), ['sound:csat/thank-you']);
  });

  test('"1" may become "10": it waits inter_digit_timeout_ms, then it is 1', async () => {
    const run = start();
    await advance(1_100);
    run.channel.press('1');
    await advance(2_500);
    assert.equal(run.answers.length, 0, 'still waiting for a second key');
    await advance(700);
    assert.deepEqual(run.answers.map((answer) => answer.kind !== 'comment' && answer.digit), ['1']);
  });

  test('"1" then "0" a second later is 10, with no further wait', async () => {
    const run = start();
    await advance(1_100);
    run.channel.press('1');
    await advance(1_000);
    run.channel.press('0');
    await advance(100);
    assert.deepEqual(run.answers.map((answer) => answer.kind !== 'comment' && answer.value), [10]);
  });
});

describe('cc-csat simulate on a multi-question survey', () => {
  test('consent, csat, yes/no and a typed "10#": each answer shown, stored, exit 0; a decline exits 3', async () => {
    const tree = writeConfigTree({ queues: QUEUES, ivrs: { multi: MULTI_IVR, 'nps-only': NPS_ONLY_IVR } });
    const done = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'multi-queue', '--digits', '1,2,1,10#', '--call-id', 'sim-multi'], { cwd: tree.dir });
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.match(done.stdout, /✎ csat \(csat\): 4 \[keys 2\]/);
    assert.match(done.stdout, /✎ resolved \(yes_no\): yes \[keys 1\]/);
    assert.match(done.stdout, /✎ nps \(nps\): 10 \[keys 10\]/);
    assert.match(done.stdout, /✔ outcome: completed, consent accepted, score 4 stored in cc_csat/);
    const declined = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'multi-queue', '--digits', '2', '--call-id', 'sim-no'], { cwd: tree.dir });
    assert.equal(declined.code, 3, declined.stdout + declined.stderr);
    assert.match(declined.stdout, /✘ outcome: declined \(declined_by_key\), consent declined/);
  });
});

describe('how a survey with a headline question ends when the headline is not answered', () => {
  const ivr = { name: 'multi', headline: 'csat' } as Ivr;
  const facts = { rated: false, answered: 0, skipped: 0, consent: undefined, consentBy: undefined, inQuestion: false };

  test('the caller skipped the headline and answered the rest: completed, saying the headline is missing', () => {
    assert.deepEqual(classifyEnd({ kind: 'finished', lastStep: 'bye' }, { ...facts, answered: 2, skipped: 1 }, ivr), { outcome: 'completed', reason: 'headline_not_answered' });
    assert.deepEqual(classifyEnd({ kind: 'exhausted', reason: 'no_input', lastStep: 'bye' }, { ...facts, skipped: 1 }, ivr), { outcome: 'completed', reason: 'headline_not_answered' });
  });

  test('nothing answered or skipped: no_input stays no_input, and a run that collected nothing failed', () => {
    assert.deepEqual(classifyEnd({ kind: 'exhausted', reason: 'no_input', lastStep: 'bye' }, facts, ivr), { outcome: 'no_input' });
    assert.equal(classifyEnd({ kind: 'finished', lastStep: 'bye' }, facts, ivr).outcome, 'failed');
  });
});
