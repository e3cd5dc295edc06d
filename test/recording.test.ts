// A spoken comment (the `record` step), in three tiers. Fast: the real runner and record step on an
// in-memory channel under mock timers (what the session is handed, what is discarded). Simulator:
// the engine against the ARI simulator, whose recordings are real WAV files of the caller's
// simulated speech: the answer row, the file on "Asterisk", GET /cc/csat/:call_id/recording, and the
// result service's retention sweep, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import express from 'express';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { parse } from 'smol-toml';
import { recordingSourceFor } from '../src/ari/recording-source.js';
import { headlineQuestion } from '../src/config/questions.js';
import { IvrFileSchema, type Ivr, type Step } from '../src/config/schema.js';
import { createHttpApp } from '../src/http/app.js';
import { KeyRing, RateLimiter } from '../src/http/auth.js';
import { errorHandler } from '../src/http/errors.js';
import { recordingRoutes } from '../src/http/recording-route.js';
import { listenFirst } from '../src/http/server.js';
import type { CollectedAnswer, RecordedAnswer, StepContext } from '../src/ivr/context.js';
import { DigitBuffer } from '../src/ivr/digits.js';
import { runIvr, type RunEnd, type RunSession } from '../src/ivr/runner.js';
import { createLogger } from '../src/log.js';
import { Metrics } from '../src/metrics.js';
import { RecordingRetention } from '../src/results/recording-retention.js';
import { RecordingSourceUnavailableError } from '../src/telephony/recordings.js';
import { ResultService } from '../src/results/service.js';
import { openStorage } from '../src/storage/open.js';
import type { Storage } from '../src/storage/ports.js';
import { AriSimulator, type SimChannel } from './ari-sim/simulator.js';
import { BEEP_MS } from './ari-sim/recordings.js';
import { DATABASES } from './helpers/api.js';
import { FakeChannel } from './helpers/fake-channel.js';
import { LogCapture, startHarness, type Harness } from './helpers/harness.js';
import { within } from './helpers/wait.js';

const COMMENT_IVR = `
playback_guard_ms = 3000
max_duration_ms = 30000

[[step]]
id = "ask"
type = "collect"
prompt = ["sound:csat/rate-intro"]
scores = { "1" = 5, "2" = 4, "3" = 3, "4" = 2, "5" = 1 }
timeout_ms = 3000
max_retries = 0
next = "comment"

[[step]]
id = "comment"
type = "record"
prompt = ["sound:csat/comment"]
max_seconds = 10
min_seconds = 1
silence_seconds = 2
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

const ivrOf = (text: string): Ivr => {
  const file = IvrFileSchema.parse(parse(text));
  return { ...file, name: 'comment-survey', file: 'ivr/comment-survey.toml', headline: headlineQuestion(file.step) };
};

// ------------------------------------------------------------------------------------------- fast

class MemorySession implements RunSession {
  readonly answers: CollectedAnswer[] = [];
  readonly skippedQuestions: string[] = [];
  async record(answer: CollectedAnswer): Promise<RecordedAnswer> {
    this.answers.push(answer);
    return { stored: true };
  }
  skipped(question: string): void {
    this.skippedQuestions.push(question);
  }
  enterStep(_step: Step): void {}
}

function startFast(ivrText: string = COMMENT_IVR): { channel: FakeChannel; session: MemorySession; survey: AbortController; ended: Promise<RunEnd> } {
  const ivr = ivrOf(ivrText);
  const channel = new FakeChannel('fake-rec', { mediaMs: 1_000 });
  const digits = new DigitBuffer();
  channel.onDtmf((digit) => digits.push(digit));
  const session = new MemorySession();
  const survey = new AbortController();
  channel.gone.addEventListener('abort', () => survey.abort(channel.gone.reason), { once: true });
  const ctx: StepContext = { ivr, channel, signal: survey.signal, digits, log: createLogger('silent'), answers: session.answers, countAttempt: () => undefined };
  return { channel, session, survey, ended: runIvr(ivr, ctx, session) };
}

async function advance(ms: number, stepMs = 50): Promise<void> {
  for (let passed = 0; passed < ms; passed += stepMs) {
    mock.timers.tick(stepMs);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

async function settle(ended: Promise<RunEnd>, limitMs = 60_000): Promise<RunEnd> {
  let end: RunEnd | undefined;
  void ended.then((value) => (end = value));
  for (let passed = 0; end === undefined && passed < limitMs; passed += 500) await advance(500);
  assert.ok(end, `the run ended within ${limitMs} ms of mock time`);
  return end;
}

describe('record step, fast tier (fake channel, mock timers)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  test('"#" ends the comment: its name, exact length and format go to the session, then thank-you', async () => {
    const run = startFast();
    await advance(300);
    run.channel.press('1');
    await advance(1_000 + 100);
    assert.equal(run.channel.recordings.length, 1, 'recording started after the comment prompt');
    const [recording] = run.channel.recordings;
    assert.deepEqual(
      { format: recording!.options.format, beep: recording!.options.beep, max: recording!.options.maxSeconds, silence: recording!.options.maxSilenceSeconds, key: recording!.options.terminateOn },
      { format: 'wav', beep: true, max: 10, silence: 2, key: '#' },
    );
    assert.match(recording!.options.name, /^csat-fake-rec-comment-[0-9a-f]{8}$/);
    await advance(4_000);
    run.channel.press('#');
    const end = await settle(run.ended);
    assert.deepEqual(end, { kind: 'finished', lastStep: 'bye' });
    assert.deepEqual(run.session.answers[1], {
      question: 'comment',
      kind: 'comment',
      recording: { name: recording!.options.name, durationMs: recording!.durationMs, format: 'wav', server: null },
    });
    // The mock clock moves in 50 ms steps: the recording began within one or two of them.
    assert.ok(Math.abs(recording!.durationMs! - 4_000) <= 100, `${recording!.durationMs} ms recorded`);
    assert.deepEqual(run.channel.heard.slice(-1), [['sound:csat/thank-you']]);
  });

  test('the caller hangs up while speaking: the comment Asterisk kept is handed to the session all the same', async () => {
    const run = startFast();
    await advance(300);
    run.channel.press('2');
    await advance(1_100 + 6_000);
    run.channel.callerHangsUp();
    const end = await settle(run.ended);
    assert.equal(end.kind, 'aborted');
    assert.equal(run.session.answers.length, 2);
    const comment = run.session.answers[1]!;
    assert.equal(comment.kind, 'comment');
    const durationMs = comment.kind === 'comment' ? comment.recording.durationMs : -1;
    assert.ok(Math.abs(durationMs - 6_000) <= 100, `${durationMs} ms kept`);
    assert.equal(run.channel.recordings[0]!.discarded, false);
  });

  test('the survey deadline (or a shutdown) while the caller speaks: the recording is stopped and what was said is kept', async () => {
    const run = startFast();
    await advance(300);
    run.channel.press('5');
    await advance(1_100 + 3_000);
    run.survey.abort(new Error('survey exceeded max_duration_ms'));
    const end = await settle(run.ended);
    assert.equal(end.kind, 'aborted');
    const recording = run.channel.recordings[0]!;
    assert.ok(recording.durationMs !== undefined, 'the recording was stopped');
    const comment = run.session.answers[1];
    assert.equal(comment?.kind === 'comment' && comment.recording.durationMs, recording.durationMs);
    assert.ok(recording.durationMs >= 2_900 && recording.durationMs <= 3_200, `${recording.durationMs} ms kept`);
  });

  test('a comment shorter than min_seconds is deleted and nothing is stored; the survey goes on', async () => {
    const run = startFast();
    await advance(300);
    run.channel.press('3');
    await advance(1_100 + 500);
    run.channel.press('#');
    const end = await settle(run.ended);
    assert.deepEqual(end, { kind: 'finished', lastStep: 'bye' });
    assert.equal(run.session.answers.length, 1, 'only the rating');
    assert.deepEqual(run.session.skippedQuestions, ['comment']);
    assert.equal(run.channel.recordings[0]!.discarded, true);
    assert.deepEqual(run.channel.heard.slice(-1), [['sound:csat/thank-you']]);
  });

  test('with on_empty, a caller who said nothing goes there instead of next ("your comment was recorded")', async () => {
    const ivr = COMMENT_IVR.replace('silence_seconds = 2\nnext = "thanks"', 'silence_seconds = 2\nnext = "recorded"\non_empty = "thanks"').replace(
      '[[step]]\nid = "thanks"',
      '[[step]]\nid = "recorded"\ntype = "play"\nmedia = ["sound:csat/recorded"]\nnext = "bye"\n\n[[step]]\nid = "thanks"',
    );
    const run = startFast(ivr);
    await advance(300);
    run.channel.press('3');
    await advance(1_100 + 500);
    run.channel.press('#');
    await settle(run.ended);
    assert.deepEqual(run.session.skippedQuestions, ['comment']);
    assert.deepEqual(run.channel.heard.slice(-1), [['sound:csat/thank-you']]);
    assert.ok(!run.channel.heard.some((media) => media.includes('sound:csat/recorded')));
  });

  test('nobody presses "#": the recording ends at max_seconds with max_seconds of comment', async () => {
    const run = startFast();
    await advance(300);
    run.channel.press('4');
    const end = await settle(run.ended);
    assert.equal(end.kind, 'finished');
    const comment = run.session.answers[1];
    assert.equal(comment?.kind === 'comment' && comment.recording.durationMs, 10_000);
  });

  test('the terminating "#" does not answer the question after the comment', async () => {
    const run = startFast(
      COMMENT_IVR.replace('next = "thanks"\n\n[[step]]\nid = "thanks"', 'next = "again"\n\n[[step]]\nid = "again"\ntype = "collect"\nkind = "yes_no"\nprompt = ["sound:csat/resolved"]\nscores = { "1" = 1, "2" = 0, "#" = 1 }\ntimeout_ms = 2000\nmax_retries = 0\nnext = "thanks"\n\n[[step]]\nid = "thanks"'),
    );
    await advance(300);
    run.channel.press('1');
    await advance(1_100 + 2_000);
    run.channel.press('#');
    const end = await settle(run.ended);
    assert.equal(end.kind, 'exhausted', 'the yes/no question heard no key');
    assert.deepEqual(
      run.session.answers.map((answer) => answer.question),
      ['ask', 'comment'],
    );
  });
});

// -------------------------------------------------------------------------------------- simulator

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const READ_KEY = 'rec-read-key';
const WRITE_KEY = 'rec-write-key';
const STATS_KEY = 'rec-stats-key';
const API_KEYS = `
[[api_keys]]
name = "reader"
key_sha256 = "${sha(READ_KEY)}"
scopes = ["csat:read", "csat:recordings"]

[[api_keys]]
name = "stats-only"
key_sha256 = "${sha(STATS_KEY)}"
scopes = ["csat:read"]

[[api_keys]]
name = "writer"
key_sha256 = "${sha(WRITE_KEY)}"
scopes = ["csat:write"]
`;

const args = (id: string): string[] => [id, 'agent-7', 'sales-queue'];

/**
 * A caller who rates with `key`, then, once Asterisk starts recording (after the beep), speaks for
 * `speakMs` and then presses "#", hangs up, or stays silent. Resolves when the survey is settled.
 */
async function commentCall(h: Harness, callId: string, options: { speakMs: number; then: 'press' | 'hangup' | 'silence'; key?: string }): Promise<SimChannel> {
  const channel = h.sim.enterStasis({ args: args(callId) });
  const timers: NodeJS.Timeout[] = [];
  const onPlay = (ch: SimChannel, media: readonly string[]): void => {
    if (ch === channel && media.includes('sound:csat/rate-intro')) timers.push(setTimeout(() => h.sim.press(channel, options.key ?? '1'), 30));
  };
  h.sim.onPlaybackStarted.add(onPlay);
  const previous = h.sim.onRequest;
  h.sim.onRequest = (method, path) => {
    previous?.(method, path);
    if (method !== 'POST' || path !== `/channels/${channel.id}/record`) return;
    // Speech starts as the beep ends, as a caller who waited for it.
    timers.push(
      setTimeout(() => {
        h.sim.speak(channel, options.speakMs);
        if (options.then === 'press') timers.push(setTimeout(() => h.sim.press(channel, '#'), options.speakMs));
        if (options.then === 'hangup') timers.push(setTimeout(() => h.sim.callerHangup(channel), options.speakMs));
      }, BEEP_MS + 10),
    );
  };
  try {
    await within(h.surveyDone(channel.id), 20_000, `the survey of ${callId} to end`);
  } finally {
    timers.forEach(clearTimeout);
    h.sim.onPlaybackStarted.delete(onPlay);
    h.sim.onRequest = previous;
  }
  return channel;
}

async function answersOf(h: Harness, callId: string) {
  return h.storage.db.selectFrom('survey_answer').selectAll().where('call_id', '=', callId).orderBy('id').execute();
}

async function serveApi(h: Harness): Promise<{ base: string; close(): Promise<void> }> {
  const app = createHttpApp({ config: h.config, storage: h.storage, log: h.log, telephony: h.readiness, recordings: recordingSourceFor(h.config.ariServers) });
  const listening = await listenFirst(0, '127.0.0.1', '[http]');
  listening.serve(app);
  const { server } = listening;
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ALLOWED_OFF_BY_MS = 500;

for (const { kind, skip } of DATABASES) {
  describe(`record step on the ARI simulator (${kind})`, { skip }, () => {
    let h: Harness;
    let api: { base: string; close(): Promise<void> };
    beforeEach(async () => {
      h = await startHarness({ database: kind, ivrs: { survey: COMMENT_IVR }, engineExtra: API_KEYS });
      api = await serveApi(h);
    });
    afterEach(async () => {
      await api.close();
      await h.close();
    });

    test('a comment ended by "#": one answer row with the recording\'s name, length and format, the file on Asterisk, served by the API byte for byte', async () => {
      const channel = await commentCall(h, 'rec-hash-1', { speakMs: 1_500, then: 'press' });
      const rows = await answersOf(h, 'rec-hash-1');
      assert.deepEqual(
        rows.map((row) => [row.question_id, row.kind]),
        [
          ['ask', 'csat'],
          ['comment', 'comment'],
        ],
      );
      const comment = rows[1]!;
      assert.equal(comment.recording_format, 'wav');
      assert.equal(comment.recording_server, 'asterisk');
      assert.equal(comment.value, null);
      assert.match(comment.recording!, new RegExp(`^csat-${channel.id.replace(/[^A-Za-z0-9_-]/g, '_')}-comment-[0-9a-f]{8}$`));
      assert.ok(Math.abs(comment.recording_ms! - 1_500) <= ALLOWED_OFF_BY_MS, `recorded ${comment.recording_ms} ms of 1500 ms spoken`);
      const stored = h.sim.recorder.stored.get(comment.recording!);
      assert.ok(stored, 'the recording is stored on Asterisk');
      // 8 kHz 16-bit mono: the stored length is exactly what the file holds.
      assert.equal(comment.recording_ms, Math.round(((stored.audio.length - 44) / 16_000) * 1000));
      const outcome = await h.storage.outcomes.forCall('rec-hash-1');
      assert.equal(outcome[0]?.outcome, 'completed');
      assert.deepEqual(channel.completed.at(-1), ['sound:csat/thank-you'], 'thank-you after the comment');

      const response = await fetch(`${api.base}/cc/csat/rec-hash-1/recording`, { headers: { 'x-api-key': READ_KEY } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'audio/wav');
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), stored.audio);
      const byQuestion = await fetch(`${api.base}/cc/csat/rec-hash-1/recording?question=comment`, { headers: { 'x-api-key': READ_KEY } });
      assert.equal(byQuestion.status, 200);
      await byQuestion.arrayBuffer();
    });

    test('the caller hangs up while speaking: what was said is kept and stored; the survey counts as completed', async () => {
      await commentCall(h, 'rec-hangup-1', { speakMs: 1_200, then: 'hangup' });
      const comment = (await answersOf(h, 'rec-hangup-1')).find((row) => row.kind === 'comment');
      assert.ok(comment, 'the comment row exists');
      assert.ok(Math.abs(comment.recording_ms! - 1_200) <= ALLOWED_OFF_BY_MS, `recorded ${comment.recording_ms} ms of 1200 ms spoken`);
      assert.ok(h.sim.recorder.stored.has(comment.recording!));
      const outcome = await h.storage.outcomes.forCall('rec-hangup-1');
      assert.equal(outcome[0]?.outcome, 'completed');
    });
  });
}

describe('record step on the ARI simulator (sqlite): short comments, silence, and the recording endpoint\'s errors', () => {
  let h: Harness;
  let api: { base: string; close(): Promise<void> };
  beforeEach(async () => {
    h = await startHarness({ ivrs: { survey: COMMENT_IVR }, engineExtra: API_KEYS });
    api = await serveApi(h);
  });
  afterEach(async () => {
    await api.close();
    await h.close();
  });

  test('shorter than min_seconds: deleted from Asterisk, no answer row, the reason logged, thank-you all the same', async () => {
    const channel = await commentCall(h, 'rec-short-1', { speakMs: 300, then: 'press' });
    const rows = await answersOf(h, 'rec-short-1');
    assert.deepEqual(rows.map((row) => row.kind), ['csat']);
    const recordRequest = h.sim.received.find((request) => request.method === 'POST' && request.path === `/channels/${channel.id}/record`);
    const name = recordRequest?.query['name'];
    assert.ok(name);
    assert.equal(h.sim.recorder.stored.has(name), false, 'the short recording is gone from Asterisk');
    assert.ok(h.sim.received.some((request) => request.method === 'DELETE' && request.path === `/recordings/stored/${name}`));
    assert.ok(h.logs.lines.some((line) => line['recording'] === name && line['min_seconds'] === 1));
    assert.deepEqual(channel.completed.at(-1), ['sound:csat/thank-you']);
    assert.equal((await h.storage.outcomes.forCall('rec-short-1'))[0]?.outcome, 'completed');
  });

  test('silence ends the comment: silence_seconds after the caller stops, trailing silence not counted', async () => {
    await commentCall(h, 'rec-silence-1', { speakMs: 1_000, then: 'silence' });
    const comment = (await answersOf(h, 'rec-silence-1')).find((row) => row.kind === 'comment');
    assert.ok(comment);
    assert.ok(Math.abs(comment.recording_ms! - 1_000) <= ALLOWED_OFF_BY_MS, `recorded ${comment.recording_ms} ms of 1000 ms spoken`);
  });

  test('the endpoint: 404 without a recording, 401 without a key, 403 without csat:recordings (csat:read is not enough), 400 for a bad question, 503 + Retry-After when Asterisk is unreachable', async () => {
    await commentCall(h, 'rec-api-1', { speakMs: 1_500, then: 'press' });
    const get = (path: string, key: string | null = READ_KEY) => fetch(`${api.base}${path}`, { headers: key ? { 'x-api-key': key } : {} });
    const notFound = await get('/cc/csat/no-such-call/recording');
    assert.equal(notFound.status, 404);
    assert.match(((await notFound.json()) as { detail: string }).detail, /no recording for call no-such-call/);
    const otherQuestion = await get('/cc/csat/rec-api-1/recording?question=ask');
    assert.equal(otherQuestion.status, 404);
    await otherQuestion.arrayBuffer();
    const badQuestion = await get('/cc/csat/rec-api-1/recording?question=not%20an%20id');
    assert.equal(badQuestion.status, 400);
    assert.match(((await badQuestion.json()) as { detail: string }).detail, /question/);
    const noKey = await get('/cc/csat/rec-api-1/recording', null);
    assert.equal(noKey.status, 401);
    await noKey.arrayBuffer();
    const writeOnly = await get('/cc/csat/rec-api-1/recording', WRITE_KEY);
    assert.equal(writeOnly.status, 403);
    await writeOnly.arrayBuffer();
    const statsOnly = await get('/cc/csat/rec-api-1/recording', STATS_KEY);
    assert.equal(statsOnly.status, 403);
    assert.equal(((await statsOnly.json()) as { detail: string }).detail, 'API key "stats-only" lacks scope csat:recordings');

    h.sim.refuseRest = true;
    const down = await get('/cc/csat/rec-api-1/recording');
    assert.equal(down.status, 503);
    assert.ok(Number(down.headers.get('retry-after')) > 0);
    assert.match(((await down.json()) as { detail: string }).detail, /Asterisk/);
    h.sim.refuseRest = false;

    // Gone from Asterisk (deleted by hand): 404, not a broken stream.
    const comment = (await answersOf(h, 'rec-api-1')).find((row) => row.kind === 'comment')!;
    h.sim.recorder.stored.delete(comment.recording!);
    const gone = await get('/cc/csat/rec-api-1/recording');
    assert.equal(gone.status, 404);
    await gone.arrayBuffer();
  });
});

// -------------------------------------------------------------------------------------- retention

const DAY_MS = 86_400_000;

for (const { kind, skip } of DATABASES) {
  describe(`recording retention (${kind})`, { skip }, () => {
    test('the result service deletes recordings older than retention_days from Asterisk, marks their rows, logs and counts; younger ones stay; a non-leader does nothing', async () => {
      const h = await startHarness({ database: kind, ivrs: { survey: COMMENT_IVR }, engineExtra: `${API_KEYS}\n[survey]\nrecording_retention_days = 30\n` });
      const second = kind === 'postgres' ? await openStorage(h.config.database, { lockWaitMs: 1_000 }) : undefined;
      try {
        assert.equal(h.config.engine.survey.recording_retention_days, 30);
        const now = new Date('2026-03-01T12:00:00.000Z');
        const seed = async (callId: string, ageDays: number, onAsterisk: boolean): Promise<string> => {
          const name = `csat-seed-${callId}`;
          if (onAsterisk) h.sim.recorder.stored.set(name, { format: 'wav', audio: Buffer.alloc(44 + 16_000), channelId: callId });
          await h.storage.answers.record({
            call_id: callId,
            question_id: 'comment',
            kind: 'comment',
            value: null,
            digits: null,
            recording: name,
            recording_ms: 1_000,
            recording_format: 'wav',
            recording_server: 'asterisk',
            language: null,
            agent_id: 'agent-7',
            queue_id: 'sales-queue',
            ivr: 'survey',
            answered_at: new Date(now.getTime() - ageDays * DAY_MS).toISOString(),
          });
          return name;
        };
        const old = await seed('ret-old', 45, true);
        const oldGone = await seed('ret-old-gone', 31, false);
        const young = await seed('ret-young', 10, true);

        const logs = new LogCapture();
        const metrics = new Metrics({ processMetrics: false });
        const serviceFor = (storage: Storage, log = createLogger('debug', logs.stream)) =>
          new ResultService({
            rollups: storage.rollups,
            leadership: storage.leadership,
            timezone: 'UTC',
            log,
            now: () => now,
            recordingRetention: new RecordingRetention({
              store: storage.recordings,
              source: recordingSourceFor(h.config.ariServers),
              retentionDays: h.config.engine.survey.recording_retention_days,
              log,
              now: () => now,
              onDeleted: (how) => metrics.recordingsDeleted.inc({ found: how === 'deleted' ? 'true' : 'false' }),
            }),
          });
        const leader = serviceFor(h.storage);
        await leader.runIfLeader();
        if (second) {
          // Another engine on the same database: not the lease owner, so it deletes nothing.
          const follower = serviceFor(second as Storage, createLogger('silent'));
          assert.equal(await follower.runIfLeader(), undefined);
          assert.equal(await follower.sweepRecordings(), undefined);
          assert.ok(h.sim.recorder.stored.has(old), 'the follower left the old recording');
          await follower.stop();
        }
        const report = await leader.sweepRecordings();
        assert.deepEqual(report, { deleted: 1, missing: 1, failed: 0 });
        assert.equal(h.sim.recorder.stored.has(old), false);
        assert.equal(h.sim.recorder.stored.has(young), true);
        const rows = await h.storage.db.selectFrom('survey_answer').select(['recording', 'recording_deleted_at']).orderBy('id').execute();
        assert.deepEqual(
          rows.map((row) => [row.recording, row.recording_deleted_at]),
          [
            [old, now.toISOString()],
            [oldGone, now.toISOString()],
            [young, null],
          ],
        );
        assert.ok(logs.lines.some((line) => line['recording'] === old && line['found'] === true), 'the deletion is logged');
        const exposition = await metrics.registry.metrics();
        assert.match(exposition, /cc_csat_recordings_deleted_total\{found="true"\} 1/);
        assert.match(exposition, /cc_csat_recordings_deleted_total\{found="false"\} 1/);
        // A second run finds nothing more to do.
        assert.deepEqual(await leader.sweepRecordings(), { deleted: 0, missing: 0, failed: 0 });
        await leader.stop();

        // The API then says the recording is gone, and why.
        const api = await serveApi(h);
        try {
          const response = await fetch(`${api.base}/cc/csat/ret-old/recording`, { headers: { 'x-api-key': READ_KEY } });
          assert.equal(response.status, 404);
          assert.match(((await response.json()) as { detail: string }).detail, /deleted/);
        } finally {
          await api.close();
        }
      } finally {
        await second?.close();
        await h.close();
      }
    });
  });
}

test('while Asterisk cannot be reached, the retention sweep leaves recordings for the next run', async () => {
  const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
  try {
    const source = recordingSourceFor([{ name: 'asterisk', password: 'secret', config: { url: sim.url, username: 'csat', request_timeout_ms: 1_000 } as never }]);
    sim.recorder.stored.set('csat-x', { format: 'wav', audio: Buffer.alloc(44), channelId: 'x' });
    sim.refuseRest = true;
    const retention = new RecordingRetention({
      store: {
        expired: async (_before, _limit, after) => (after ? [] : [{ id: 1, callId: 'x', questionId: 'comment', name: 'csat-x', server: 'asterisk', answeredAt: '2020-01-01T00:00:00.000Z' }]),
        markDeleted: async () => assert.fail('nothing is marked while Asterisk is unreachable'),
      },
      source,
      retentionDays: 1,
      log: createLogger('silent'),
    });
    assert.deepEqual(await retention.sweep(), { deleted: 0, missing: 0, failed: 1 });
    assert.ok(sim.recorder.stored.has('csat-x'));
  } finally {
    await sim.close();
  }
});

test('recordings on an unreachable Asterisk cost one request per run and do not hold up those on another server', async () => {
  // 600 expired recordings on "down" first (more than a run deletes), then 2 on "up".
  const rows = [
    ...Array.from({ length: 600 }, (_, i) => ({ id: i + 1, callId: `d${i}`, questionId: 'comment', name: `csat-d${i}`, server: 'down', answeredAt: `2020-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000Z` })),
    { id: 601, callId: 'u1', questionId: 'comment', name: 'csat-u1', server: 'up', answeredAt: '2020-01-02T00:00:00.000Z' },
    { id: 602, callId: 'u2', questionId: 'comment', name: 'csat-u2', server: 'up', answeredAt: '2020-01-02T00:00:01.000Z' },
  ];
  const asked: string[] = [];
  const marked: number[] = [];
  const retention = new RecordingRetention({
    store: {
      expired: async (_before, limit, after) =>
        rows.filter((row) => !marked.includes(row.id) && (!after || row.answeredAt > after.answeredAt || (row.answeredAt === after.answeredAt && row.id > after.id))).slice(0, limit),
      markDeleted: async (id) => void marked.push(id),
    },
    source: {
      delete: async (server: string | null, name: string) => {
        asked.push(`${server}/${name}`);
        if (server === 'down') throw new RecordingSourceUnavailableError(`${server}: connection refused`);
        return 'deleted' as const;
      },
    } as never,
    retentionDays: 1,
    log: createLogger('silent'),
  });
  assert.deepEqual(await retention.sweep(), { deleted: 2, missing: 0, failed: 600 });
  assert.deepEqual(marked, [601, 602]);
  assert.deepEqual(asked.filter((each) => each.startsWith('down/')), ['down/csat-d0'], 'the unreachable server was asked once');
});

test('at most 8 recordings stream at once (each holds an Asterisk HTTP session): the 9th gets 503 + Retry-After, and a slot frees when a stream ends', async () => {
  const key = 'stream-reader-key';
  const keyRing = new KeyRing([{ name: 'reader', key_sha256: createHash('sha256').update(key).digest('hex'), scopes: ['csat:recordings'] }], 10_000);
  const bodies: PassThrough[] = [];
  const answer = { id: 1, call_id: 'c', question_id: 'comment', kind: 'comment', value: null, digits: null, recording: 'csat-c', recording_ms: 1000, recording_format: 'wav', recording_server: 'asterisk', recording_deleted_at: null, language: null, agent_id: 'a', queue_id: 'q', ivr: 'i', answered_at: '2026-11-28T00:00:00.000Z', source: 'ivr' as const, message: null };
  const app = express();
  app.use(
    recordingRoutes({
      answers: { forCalls: async () => [answer], record: async () => assert.fail('no writes') } as never,
      // Asterisk's side of each stream: it sends a first chunk and then waits, as for a slow reader.
      source: {
        open: async () => {
          const body = new PassThrough();
          body.write(Buffer.alloc(1024));
          bodies.push(body);
          return { body, contentLength: undefined };
        },
        delete: async () => 'deleted' as const,
      },
      keyRing,
      limiter: new RateLimiter(),
      log: createLogger('silent'),
    }),
  );
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const controllers: AbortController[] = [];
  const get = (): Promise<Response> => {
    const controller = new AbortController();
    controllers.push(controller);
    return fetch(`${base}/cc/csat/c/recording`, { headers: { 'x-api-key': key }, signal: controller.signal });
  };
  try {
    const open = await Promise.all(Array.from({ length: 8 }, get));
    assert.deepEqual(open.map((answer) => answer.status), Array(8).fill(200));
    const refused = await get();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.match(((await refused.json()) as { detail: string }).detail, /8 recordings are being streamed already/);
    bodies[0]!.end();
    await open[0]!.arrayBuffer();
    // The route frees its slot once the pipeline settles: a bounded few tries.
    let next = await get();
    for (let tries = 1; next.status !== 200 && tries < 50; tries++) {
      await next.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 100));
      next = await get();
    }
    assert.equal(next.status, 200, 'a slot freed once a stream ended');
  } finally {
    for (const controller of controllers) controller.abort();
    for (const body of bodies) body.destroy();
    server.closeAllConnections();
    server.close();
  }
});
