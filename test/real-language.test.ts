// Languages on a real Asterisk 22: the dialplan sets CHANNEL(language) (asterisk-dev: CSAT_LANGUAGE)
// before Stasis, the real `cc-csat start` runs the shipped survey for a queue offering en and fr,
// with the prompts of asterisk-dev/make-prompts.sh, one French prompt removed. What is asserted is
// what Asterisk says it played (each playback's language, and how long the French "you pressed"
// took, which is the French file's length, not the English one's) and the answer rows.
// Runs when CC_CSAT_ASTERISK names the wrapper printed by ../shared/asterisk/install.sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import type { EngineProcess } from './helpers/engine-process.js';
import { ARI_PASSWORD, RealAsterisk, SHIPPED_IVR, eventually, queryDb, surveyPrompts, type AriEvent, type LocalCall, startReadyEngine } from './helpers/real-asterisk.js';
import { within } from './helpers/wait.js';

const ASTERISK = process.env['CC_CSAT_ASTERISK'];
const SKIP = ASTERISK
  ? false
  : 'real-Asterisk languages tier skipped: set CC_CSAT_ASTERISK to the asterisk wrapper printed by ../shared/asterisk/install.sh (bash .ci/run does it)';

const QUEUES = `
[[queue]]
name = "sales-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "csat-survey"
language = "en"
languages = ["en", "fr"]
`;

/** The prompt that has no French file in this test: French callers must hear the queue's English one. */
const MISSING_IN_FRENCH = 'thank-you';

function secondsOf(wav: string): number {
  const out = spawnSync('soxi', ['-D', wav], { encoding: 'utf8', timeout: 10_000 });
  if (out.status !== 0) throw new Error(`soxi ${wav}: ${out.stderr}`);
  return Number(out.stdout.trim());
}

describe('real Asterisk 22: the caller\'s language', { skip: SKIP }, () => {
  let asterisk: RealAsterisk;
  let tree: ConfigTree;
  let engine: EngineProcess;
  const run = Date.now().toString(36);

  before(async () => {
    asterisk = await RealAsterisk.start(ASTERISK!);
    // sounds/fr/csat is a link to the made prompts: make it a folder of links without the one prompt.
    const frenchPrompts = join(asterisk.runDir, 'data', 'sounds', 'fr', 'csat');
    const made = readlinkSync(frenchPrompts);
    unlinkSync(frenchPrompts);
    mkdirSync(frenchPrompts);
    for (const file of readdirSync(made)) if (file !== `${MISSING_IN_FRENCH}.wav`) symlinkSync(join(made, file), join(frenchPrompts, file));
    tree = writeConfigTree({ ariUrl: asterisk.ariUrl, ariPassword: ARI_PASSWORD, queues: QUEUES, ivrs: { 'csat-survey': SHIPPED_IVR }, logLevel: 'info' });
    ({ engine } = await startReadyEngine(tree));
  });

  after(async () => {
    engine?.child.kill('SIGKILL');
    if (engine) await within(engine.exited, 10_000, 'the killed engine to exit');
    await asterisk?.close();
    if (tree) rmSync(tree.dir, { recursive: true, force: true });
  });

  const answers = (id: string) => queryDb<{ question_id: string; value: number; language: string | null }>(tree.dbPath, 'SELECT question_id, value, language FROM survey_answer WHERE call_id = ?', id);
  const outcome = (id: string) => queryDb<{ outcome: string }>(tree.dbPath, 'SELECT outcome FROM survey_outcome WHERE call_id = ?', id);

  async function surveyEnd(call: LocalCall): Promise<void> {
    await eventually(
      () => asterisk.events.destroyed(call.survey) && outcome(call.callId).length > 0,
      90_000,
      () => `the survey of ${call.callId} to end (played: ${asterisk.events.played(call.survey).join(', ')})\n${engine.output().slice(-3000)}`,
    );
  }

  /** Each playback Asterisk started on the caller's channel: its media list (as far as Asterisk said) and its language. */
  function playbacks(channelId: string): Array<{ id: string; first: string; language: string; events: AriEvent[] }> {
    const byId = new Map<string, { id: string; first: string; language: string; events: AriEvent[] }>();
    for (const event of asterisk.events.forChannel(channelId)) {
      const playback = event.raw['playback'];
      if (!playback) continue;
      let entry = byId.get(playback.id);
      if (!entry) byId.set(playback.id, (entry = { id: playback.id, first: String(playback.media_uri), language: String(playback.language), events: [] }));
      entry.events.push(event);
    }
    return [...byId.values()];
  }

  test('CHANNEL(language)=fr: French prompts, a prompt missing in French in English, the answer says fr', async () => {
    const call = await asterisk.originate({ callId: `fr-${run}`, keys: '4', language: 'fr', listenS: 40 });
    await surveyEnd(call);
    const heard = playbacks(call.survey);
    assert.deepEqual(
      heard.map((playback) => [playback.first, playback.language]),
      [
        ['sound:csat/rate-intro', 'fr'],
        ['sound:csat/you-pressed', 'fr'],
        [`sound:csat/${MISSING_IN_FRENCH}`, 'en'],
      ],
    );
    // The French file itself played: "vous avez appuyé sur" lasts as long as the French recording,
    // from Asterisk's PlaybackStarted to its PlaybackContinuing on to digits:4 (Asterisk's clock).
    const confirm = heard[1]!.events;
    const started = Date.parse(confirm.find((event) => event.type === 'PlaybackStarted')!.timestamp);
    const next = Date.parse(confirm.find((event) => event.type === 'PlaybackContinuing')!.timestamp);
    const french = secondsOf(join(surveyPrompts(), 'fr', 'csat', 'you-pressed.wav'));
    const english = secondsOf(join(surveyPrompts(), 'en', 'csat', 'you-pressed.wav'));
    const played = (next - started) / 1000;
    assert.ok(Math.abs(played - french) < Math.abs(played - english), `"you pressed" played for ${played} s: French file ${french} s, English ${english} s`);
    // Every playback played to its end: none failed for a missing file.
    for (const playback of heard.slice(1)) {
      assert.equal(playback.events.find((event) => event.type === 'PlaybackFinished')?.raw['playback']?.state, 'done', playback.first);
    }
    assert.deepEqual(answers(call.callId), [{ question_id: 'ask', value: 2, language: 'fr' }]);
    assert.deepEqual(outcome(call.callId), [{ outcome: 'completed' }]);
  });

  test('CHANNEL(language)=de, not offered: the queue\'s English, and the answer says en', async () => {
    const call = await asterisk.originate({ callId: `de-${run}`, keys: '2', language: 'de', listenS: 40 });
    await surveyEnd(call);
    assert.deepEqual(
      playbacks(call.survey).map((playback) => [playback.first, playback.language]),
      [
        ['sound:csat/rate-intro', 'en'],
        ['sound:csat/you-pressed', 'en'],
        ['sound:csat/thank-you', 'en'],
      ],
    );
    assert.deepEqual(answers(call.callId), [{ question_id: 'ask', value: 4, language: 'en' }]);
  });
});
