// A spoken comment on a real Asterisk 22 with the real `cc-csat start`. The caller is a Local
// channel whose phone half plays a sound file of known length (a 3 s tone: what the caller "says")
// as soon as Asterisk starts writing the recording, then presses "#" or hangs up. What is asserted:
// the file Asterisk stored, its length against what was spoken, the answer row, and the API serving
// Asterisk's bytes. Runs when CC_CSAT_ASTERISK names the wrapper printed by ../shared/asterisk/install.sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { wavLayout } from '../src/ari/stored-recordings.js';
import { writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import type { EngineProcess } from './helpers/engine-process.js';
import { ARI_PASSWORD, RealAsterisk, eventually, queryDb, startReadyEngine } from './helpers/real-asterisk.js';
import { within } from './helpers/wait.js';

const ASTERISK = process.env['CC_CSAT_ASTERISK'];
const SKIP = ASTERISK
  ? false
  : 'real-Asterisk recording tier skipped: set CC_CSAT_ASTERISK to the asterisk wrapper printed by ../shared/asterisk/install.sh (bash .ci/run does it)';

const SPOKEN_S = 3;
const PROMPT = 'sound:csat/comment';
const IVR = `
max_duration_ms = 60000

[[step]]
id = "comment"
type = "record"
prompt = ["${PROMPT}"]
max_seconds = 20
min_seconds = 1
silence_seconds = 0
next = "thanks"

[[step]]
id = "thanks"
type = "play"
media = ["sound:csat/thank-you"]
next = "bye"

[[step]]
id = "bye"
type = "hangup"
`;

const QUEUES = `
[[queue]]
name = "sales-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "comment"
`;

const READ_KEY = 'real-recording-read-key';

// The caller's phone for this test: waits for its cue (the test sets it the moment Asterisk starts
// writing the file), "speaks" (plays the tone to the survey channel), then presses # or hangs up.
const SPEAKER_CONTEXT = `
[csat-test-speaker]
exten => s,1,Answer()
 same => n,WaitForCondition(#,#["#{GLOBAL(#{CSAT_PHONE_CUE})}" != ""],60,0.02)
 same => n,Playback(csat-test/speech)
 same => n,GotoIf($["\${CSAT_SPEAKER_THEN}" = "hangup"]?gone)
 same => n,SendDTMF(#)
 same => n,Wait(30)
 same => n(gone),Hangup()
`;

interface CommentRow {
  recording: string;
  recording_ms: number;
  recording_format: string;
  recording_server: string;
}

describe('real Asterisk 22: a spoken comment', { skip: SKIP }, () => {
  let asterisk: RealAsterisk;
  let tree: ConfigTree;
  let engine: EngineProcess;
  let api: string;
  let seq = 0;
  const run = Date.now().toString(36);

  before(async () => {
    asterisk = await RealAsterisk.start(ASTERISK!);
    const speechDir = join(asterisk.runDir, 'data', 'sounds', 'en', 'csat-test');
    mkdirSync(speechDir, { recursive: true });
    const made = spawnSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', join(speechDir, 'speech.wav'), 'synth', String(SPOKEN_S), 'sine', '440', 'vol', '0.5'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    // Asterisk records into its spool's recording directory but does not create it (ARI answers 500).
    mkdirSync(join(asterisk.runDir, 'spool', 'recording'), { recursive: true });
    appendFileSync(join(asterisk.etcDir, 'extensions.conf'), SPEAKER_CONTEXT);
    await asterisk.cli('dialplan reload');
    tree = writeConfigTree({
      ariUrl: asterisk.ariUrl,
      ariPassword: ARI_PASSWORD,
      queues: QUEUES,
      ivrs: { comment: IVR },
      logLevel: 'info',
      engineExtra: `\n[[api_keys]]\nname = "reader"\nkey_sha256 = "${createHash('sha256').update(READ_KEY).digest('hex')}"\nscopes = ["csat:read", "csat:recordings"]\n`,
    });
    ({ engine, api } = await startReadyEngine(tree));
  });

  after(async () => {
    engine?.child.kill('SIGKILL');
    if (engine) await within(engine.exited, 10_000, 'the killed engine to exit');
    await asterisk?.close();
    if (tree) rmSync(tree.dir, { recursive: true, force: true });
  });

  const recordingDir = (): string => join(asterisk.runDir, 'spool', 'recording');
  const comment = (callId: string): CommentRow[] =>
    queryDb<CommentRow>(tree.dbPath, "SELECT recording, recording_ms, recording_format, recording_server FROM survey_answer WHERE call_id = ? AND kind = 'comment'", callId);
  const outcome = (callId: string) => queryDb<{ outcome: string }>(tree.dbPath, 'SELECT outcome FROM survey_outcome WHERE call_id = ?', callId);

  /** A caller whose phone speaks SPOKEN_S seconds once the recording starts, then `then`s. */
  async function speakingCaller(then: 'press' | 'hangup'): Promise<{ callId: string; survey: string }> {
    const callId = `rec-${then}-${run}-${++seq}`;
    const survey = `${callId}-caller`;
    const cue = `CSAT_CUE_${callId.replace(/[^A-Za-z0-9]/g, '_')}`;
    const before = new Set(existsSync(recordingDir()) ? readdirSync(recordingDir()) : []);
    const query = new URLSearchParams({
      endpoint: 'Local/s@csat-test-speaker',
      context: 'csat-after-queue',
      extension: 'survey',
      priority: '1',
      channelId: survey,
      otherChannelId: `${callId}-phone`,
      timeout: '30',
    });
    const originated = await asterisk.ari('POST', `/channels?${query}`, { variables: { CSAT_CALL_ID: callId, CSAT_PHONE_CUE: cue, CSAT_SPEAKER_THEN: then } });
    assert.equal(originated.ok, true, await originated.text());
    // Asterisk opens the file after the beep, as it starts recording: that is when the caller speaks.
    await eventually(
      () => existsSync(recordingDir()) && readdirSync(recordingDir()).some((file) => !before.has(file) && file.includes(survey.replace(/[^A-Za-z0-9_-]/g, '_'))),
      30_000,
      () => `Asterisk to start recording ${survey} (played: ${asterisk.events.played(survey).join(', ')})\n${engine.output().slice(-2000)}`,
      10,
    );
    const cued = await asterisk.ari('POST', `/asterisk/variable?${new URLSearchParams({ variable: cue, value: '1' })}`);
    assert.equal(cued.ok, true);
    await eventually(
      () => asterisk.events.destroyed(survey) && outcome(callId).length > 0,
      60_000,
      () => `the survey of ${callId} to end (played: ${asterisk.events.played(survey).join(', ')})\n${engine.output().slice(-3000)}`,
    );
    return { callId, survey };
  }

  /** The length of a WAV file Asterisk wrote, from its own header. */
  const fileSeconds = (path: string): number => {
    const bytes = readFileSync(path);
    const layout = wavLayout(bytes);
    assert.ok(layout, `${path} is a WAV file`);
    return Math.min(layout.dataBytes, bytes.length - layout.dataOffset) / layout.byteRate;
  };

  test('"#" after 3 s of speech: the file is on Asterisk, its length and the stored length within 0.5 s of what was spoken, and the API serves it', async (t) => {
    const { callId, survey } = await speakingCaller('press');
    const rows = comment(callId);
    assert.equal(rows.length, 1, engine.output().slice(-3000));
    const row = rows[0]!;
    assert.equal(row.recording_format, 'wav');
    assert.equal(row.recording_server, 'asterisk');
    const file = join(recordingDir(), `${row.recording}.wav`);
    assert.ok(existsSync(file), `${file} exists on Asterisk`);
    const seconds = fileSeconds(file);
    t.diagnostic(`spoken ${SPOKEN_S} s, Asterisk's file ${seconds} s, stored ${row.recording_ms} ms`);
    assert.ok(Math.abs(seconds - SPOKEN_S) <= 0.5, `Asterisk's file holds ${seconds} s of ${SPOKEN_S} s spoken`);
    assert.ok(Math.abs(row.recording_ms / 1000 - SPOKEN_S) <= 0.5, `stored ${row.recording_ms} ms of ${SPOKEN_S} s spoken`);
    assert.ok(Math.abs(row.recording_ms / 1000 - seconds) <= 0.001, 'the stored length is the file\'s');
    assert.equal(asterisk.events.played(survey).at(-1), 'sound:csat/thank-you', 'thank-you after the comment');

    const response = await fetch(`${api}/cc/csat/${encodeURIComponent(callId)}/recording`, { headers: { 'x-api-key': READ_KEY } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'audio/wav');
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), readFileSync(file));
  });

  test('the caller hangs up while speaking: the comment is kept, stored and on Asterisk', async (t) => {
    const { callId } = await speakingCaller('hangup');
    const rows = comment(callId);
    assert.equal(rows.length, 1, engine.output().slice(-3000));
    const row = rows[0]!;
    const file = join(recordingDir(), `${row.recording}.wav`);
    assert.ok(existsSync(file));
    t.diagnostic(`spoken ${SPOKEN_S} s then hung up, stored ${row.recording_ms} ms`);
    assert.ok(Math.abs(row.recording_ms / 1000 - SPOKEN_S) <= 0.5, `stored ${row.recording_ms} ms of ${SPOKEN_S} s spoken before the hang-up`);
    assert.ok(Math.abs(row.recording_ms / 1000 - fileSeconds(file)) <= 0.001);
    assert.deepEqual(outcome(callId), [{ outcome: 'completed' }]);
  });
});
