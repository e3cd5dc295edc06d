// Languages (issue 12): the caller's channel language when the queue offers it, else the queue's
// default; a prompt missing in the caller's language plays in the default; each answer records the
// language. Simulator tier (the engine as `cc-csat start` builds it, over real HTTP/WebSocket) and
// the config and CLI surfaces.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/problems.js';
import { chooseLanguage } from '../src/survey/language.js';
import type { SimChannel, SimOptions } from './ari-sim/simulator.js';
import { runCli } from './helpers/cli.js';
import { TEST_IVR, TEST_QUEUES, writeConfigTree } from './helpers/config-tree.js';
import { followScript, startHarness, type Harness } from './helpers/harness.js';
import { POSTGRES_SKIP } from './helpers/postgres.js';
import { within } from './helpers/wait.js';

const BILINGUAL_QUEUES = TEST_QUEUES.replace('csat_ivr = "survey"', 'csat_ivr = "survey"\nlanguage = "en"\nlanguages = ["en", "fr"]');

/** A caller whose channel language is `language` presses `key` during the question; resolves when its survey is settled. */
async function callIn(h: Harness, language: string | undefined, key: string, callId: string): Promise<SimChannel> {
  const channel = h.sim.enterStasis({ args: [callId, 'agent-7', 'sales-queue'], ...(language ? { language } : {}) });
  const stop = followScript(h.sim, channel, [{ whenPlaying: 'rate-keys', press: key }]);
  try {
    await within(h.surveyDone(channel.id), 15_000, `the survey of ${callId} to end`);
  } finally {
    stop();
  }
  return channel;
}

/** Each play of the call: its media and the language asked for. */
function heard(channel: SimChannel): Array<[string, string | undefined]> {
  return channel.played.map((media, i) => [media.join(','), channel.playedLanguages[i]]);
}

async function answerLanguages(h: Harness, callId: string): Promise<Array<[string, string | null]>> {
  return (await h.storage.answers.forCalls([callId])).map((answer) => [answer.question_id, answer.language]);
}

async function withHarness(options: { sim?: SimOptions; queues?: string; database?: 'sqlite' | 'postgres' }, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ queues: BILINGUAL_QUEUES, ...options });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

describe('the caller\'s language', () => {
  const languageIsHonoured = async (database: 'sqlite' | 'postgres'): Promise<void> => {
    await withHarness({ database, sim: { soundLanguages: ['en', 'fr'] } }, async (h) => {
      const french = await callIn(h, 'fr', '1', 'call-fr');
      assert.deepEqual(heard(french), [
        ['sound:csat/rate-intro,sound:csat/rate-keys', 'fr'],
        ['sound:csat/you-pressed,digits:1', 'fr'],
        ['sound:csat/thank-you', 'fr'],
      ]);
      assert.deepEqual(await answerLanguages(h, 'call-fr'), [['ask', 'fr']]);
      assert.equal((await h.storage.ratings.findByCallId('call-fr'))?.score, 5);

      // German is not offered: the queue's default, English.
      const german = await callIn(h, 'de', '2', 'call-de');
      assert.deepEqual(heard(german).map(([, language]) => language), ['en', 'en', 'en']);
      assert.deepEqual(await answerLanguages(h, 'call-de'), [['ask', 'en']]);
    });
  };

  test('SQLite: a French channel hears French and its answer says fr; a language not offered gets the queue default', async () => {
    await languageIsHonoured('sqlite');
  });

  test('PostgreSQL: the same', { skip: POSTGRES_SKIP }, async () => {
    await languageIsHonoured('postgres');
  });

  test('a queue offering one language plays it to everyone, and never asks Asterisk which sounds exist', async () => {
    await withHarness({ queues: TEST_QUEUES, sim: { soundLanguages: ['en', 'fr'] } }, async (h) => {
      const french = await callIn(h, 'fr', '3', 'call-fr-only-en');
      assert.deepEqual(heard(french).map(([, language]) => language), ['en', 'en', 'en']);
      assert.deepEqual(await answerLanguages(h, 'call-fr-only-en'), [['ask', 'en']]);
      assert.equal(h.sim.received.filter((request) => request.path.startsWith('/sounds')).length, 0);
    });
  });

  test('regional and differently written codes find the language offered', () => {
    const afterCall = { language: 'en', languages: ['en', 'fr'] };
    assert.equal(chooseLanguage('fr', afterCall).language, 'fr');
    assert.equal(chooseLanguage('fr_CA', afterCall).language, 'fr');
    assert.equal(chooseLanguage('FR-ca', afterCall).language, 'fr');
    assert.equal(chooseLanguage('de', afterCall).language, 'en');
    assert.equal(chooseLanguage(undefined, afterCall).language, 'en');
    assert.equal(chooseLanguage('fr', { language: 'en', languages: undefined }).language, 'en');
    assert.equal(chooseLanguage('fr_CA', { language: 'en', languages: ['en', 'fr', 'fr_CA'] }).language, 'fr_CA');
    assert.equal(chooseLanguage('fr', afterCall).fallbackLanguage, 'en');
  });
});

describe('a prompt missing in the caller\'s language', () => {
  test('plays, whole, in the queue\'s default; the survey completes; Asterisk is asked once per sound, not per caller', async () => {
    // No French thank-you and no French "4": those prompts play in English, the others in French.
    const sim: SimOptions = { soundLanguages: ['en', 'fr'], missingInLanguage: { fr: ['csat/thank-you', 'digits/4'] } };
    await withHarness({ sim }, async (h) => {
      const first = await callIn(h, 'fr', '4', 'call-missing-1');
      assert.deepEqual(heard(first), [
        ['sound:csat/rate-intro,sound:csat/rate-keys', 'fr'],
        ['sound:csat/you-pressed,digits:4', 'en'],
        ['sound:csat/thank-you', 'en'],
      ]);
      assert.equal(first.endedBy, 'app_hangup');
      const outcome = (await h.storage.outcomes.forCall('call-missing-1')).at(-1);
      assert.equal(outcome?.outcome, 'completed');
      // The caller was surveyed in French: the answer says so, whatever voice read the key back.
      assert.deepEqual(await answerLanguages(h, 'call-missing-1'), [['ask', 'fr']]);

      const second = await callIn(h, 'fr', '1', 'call-missing-2');
      assert.deepEqual(heard(second).map(([, language]) => language), ['fr', 'fr', 'en']);
      const lookups = h.sim.received.filter((request) => request.path.startsWith('/sounds/')).map((request) => request.path);
      assert.equal(lookups.length, new Set(lookups).size, `each sound looked up once: ${lookups.join(' ')}`);
      assert.ok(lookups.includes('/sounds/csat%2Fthank-you'), lookups.join(' '));
      // One warning per missing sound and language, not one per caller.
      const warned = h.logs.lines.filter((line) => line['level'] === 40 && line['sound'] !== undefined).map((line) => `${line['language']}:${line['sound']}`);
      assert.deepEqual(warned.sort(), ['fr:csat/thank-you', 'fr:digits/4']);
    });
  });

  test('falls back to the queue\'s default even when that is not English (Asterisk alone would play English)', async () => {
    const queues = TEST_QUEUES.replace('csat_ivr = "survey"', 'csat_ivr = "survey"\nlanguage = "fr"\nlanguages = ["fr", "de"]');
    const sim: SimOptions = { soundLanguages: ['en', 'fr', 'de'], missingInLanguage: { de: ['csat/thank-you'] } };
    await withHarness({ queues, sim }, async (h) => {
      const german = await callIn(h, 'de', '2', 'call-de-fr');
      assert.deepEqual(heard(german).map(([, language]) => language), ['de', 'de', 'fr']);
      assert.deepEqual(await answerLanguages(h, 'call-de-fr'), [['ask', 'de']]);
      // An English-speaking caller: not offered, the queue's French.
      const english = await callIn(h, 'en', '2', 'call-en-fr');
      assert.deepEqual(heard(english).map(([, language]) => language), ['fr', 'fr', 'fr']);
    });
  });
});

describe('config: language codes', () => {
  const problemsFor = (queues: string): string[] => {
    const tree = writeConfigTree({ queues, ivrs: { survey: TEST_IVR } });
    try {
      loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return [...err.problems].map((problem) => problem.replace(/^.*?config\//, 'config/'));
    }
    return [];
  };
  const withLanguages = (lines: string): string => TEST_QUEUES.replace('csat_ivr = "survey"', `csat_ivr = "survey"\n${lines}`);

  test('defaults: English only', () => {
    const tree = writeConfigTree({ queues: TEST_QUEUES });
    const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
    assert.equal(config.queues.get('sales-queue')?.after_call.language, 'en');
    assert.deepEqual(problemsFor(withLanguages('language = "fr_CA"\nlanguages = ["fr_CA", "en"]')), []);
  });

  test('a code that is not a sounds folder name, a default not offered, a language listed twice', () => {
    assert.deepEqual(problemsFor(withLanguages('language = "French"')), [
      'config/queues.toml: queue[0].after_call.language: must be a language code as Asterisk names its sounds folders, e.g. "en", "fr" or "fr_CA"',
    ]);
    const slash = problemsFor(withLanguages('languages = ["en", "../fr"]'));
    assert.equal(slash.length, 1);
    assert.match(slash[0]!, /^config\/queues\.toml: queue\[0\]\.after_call\.languages\[1\]: must be a language code/);
    assert.deepEqual(problemsFor(withLanguages('language = "en"\nlanguages = ["fr"]')), [
      'config/queues.toml: queue[0].after_call.languages: must include the queue\'s language "en" (its prompts are the fallback)',
    ]);
    assert.deepEqual(problemsFor(withLanguages('languages = ["en", "fr", "fr"]')), ['config/queues.toml: queue[0].after_call.languages: lists "fr" twice']);
  });
});

describe('cc-csat simulate --language', () => {
  test('shows the language each prompt plays in, and records it with the answer', async () => {
    const tree = writeConfigTree({ queues: BILINGUAL_QUEUES });
    const french = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits', '2', '--call-id', 'sim-fr', '--language', 'fr'], { cwd: tree.dir });
    assert.equal(french.code, 0, french.stderr);
    assert.match(french.stdout, /♪ \[fr\] sound:csat\/rate-intro {2}sound:csat\/rate-keys\n/);
    assert.match(french.stdout, /♪ \[fr\] sound:csat\/thank-you\n/);
    assert.match(french.stdout, /✎ ask \(csat\): 4 \[keys 2\] \[fr\]/);

    const german = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits', '2', '--call-id', 'sim-de', '--language', 'de'], { cwd: tree.dir });
    assert.equal(german.code, 0, german.stderr);
    assert.match(german.stdout, /♪ \[en\] sound:csat\/rate-intro/);
    assert.match(german.stdout, /✎ ask \(csat\): 4 \[keys 2\] \[en\]/);

    const bad = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits', '2', '--language', 'fr/../x'], { cwd: tree.dir });
    assert.equal(bad.code, 2);
  });
});
