// Every answer a caller gives is a survey_answer row, written as it is given; the headline csat
// answer is also the call's cc_csat row, in the same transaction. The API shows a call's answers.
// On SQLite and PostgreSQL alike.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NewAnswer, NewRating } from '../src/db/schema.js';
import { CallResponse, ResponsesPage } from '../src/http/schemas.js';
import { DATABASES, KEYS, startApi } from './helpers/api.js';
import { startHarness } from './helpers/harness.js';
import { within } from './helpers/wait.js';

const AT = '2026-11-20T14:03:07.123Z';
const answer = (callId: string, question: string, fields: Partial<NewAnswer> = {}): NewAnswer => ({
  call_id: callId,
  question_id: question,
  kind: 'csat',
  value: 4,
  digits: '2',
  recording: null,
  recording_ms: null,
  recording_format: null,
  language: 'en',
  agent_id: 'agent-001',
  queue_id: 'sales-queue',
  ivr: 'csat-survey',
  answered_at: AT,
  ...fields,
});
const rating = (callId: string, score = 4): NewRating => ({ call_id: callId, agent_id: 'agent-001', queue_id: 'sales-queue', score, comment: null, created_at: AT });

for (const { kind, skip } of DATABASES) {
  describe(`survey answers on ${kind}`, { skip }, () => {
    test('a headline answer and its rating are committed together, or neither is; a repeated answer keeps the first', async () => {
      const api = await startApi({ database: kind, now: new Date(AT) });
      try {
        const stored = await api.storage.answers.record(answer('call-1', 'ask'), rating('call-1'));
        assert.equal(stored.answerInserted, true);
        assert.equal(stored.rating?.inserted, true);
        // A second question of the same call: an answer only.
        assert.deepEqual(await api.storage.answers.record(answer('call-1', 'resolved', { kind: 'yes_no', value: 1, digits: '1' })), { answerInserted: true });
        const again = await api.storage.answers.record(answer('call-1', 'ask', { value: 1, digits: '5' }), rating('call-1', 1));
        assert.equal(again.answerInserted, false);
        assert.equal(again.rating?.inserted, false);

        // The answer cannot be stored (its question id is too long for the table): nor is its rating.
        await assert.rejects(api.storage.answers.record(answer('call-2', 'q'.repeat(65)), rating('call-2')));
        assert.equal(await api.storage.ratings.findByCallId('call-2'), undefined, 'no rating without its answer');
        // api.request checks, after each request, that no transaction was left open.
        assert.equal((await api.request('GET', '/cc/csat/call-2')).status, 404);

        const got = await api.request('GET', '/cc/csat/call-1');
        assert.equal(got.status, 200);
        CallResponse.parse(got.body);
        assert.equal(got.body.score, 4);
        assert.deepEqual(got.body.answers, [
          { question_id: 'ask', kind: 'csat', value: 4, digits: '2', language: 'en', answered_at: AT, source: 'ivr', message: null, recording: null, recording_url: null },
          { question_id: 'resolved', kind: 'yes_no', value: 1, digits: '1', language: 'en', answered_at: AT, source: 'ivr', message: null, recording: null, recording_url: null },
        ]);
      } finally {
        await api.close();
      }
    });

    test('a call answered without a headline question (NPS only) has its answers and no rating; /responses items carry their answers', async () => {
      const api = await startApi({ database: kind, now: new Date(AT) });
      try {
        await api.storage.answers.record(answer('nps-only', 'nps', { kind: 'nps', value: 10, digits: '10#' }));
        const got = await api.request('GET', '/cc/csat/nps-only');
        assert.equal(got.status, 200);
        CallResponse.parse(got.body);
        assert.deepEqual({ ...got.body, answers: got.body.answers.map((a: { value: number }) => a.value) }, {
          id: null,
          call_id: 'nps-only',
          agent_id: 'agent-001',
          queue_id: 'sales-queue',
          score: null,
          comment: null,
          created_at: null,
          answers: [10],
        });

        await api.storage.answers.record(answer('rated-1', 'ask', { value: 5, digits: '1' }), rating('rated-1', 5));
        assert.equal((await api.request('POST', '/cc/csat/rated-api', { body: { score: 3, agent_id: 'agent-001', queue_id: 'sales-queue' } })).status, 201);
        const page = await api.request('GET', '/cc/csat/responses');
        ResponsesPage.parse(page.body);
        const answersOf = Object.fromEntries(page.body.items.map((item: { call_id: string; answers: Array<{ question_id: string; value: number }> }) => [item.call_id, item.answers.map((a) => [a.question_id, a.value])]));
        assert.deepEqual(answersOf, { 'rated-1': [['ask', 5]], 'rated-api': [] });
      } finally {
        await api.close();
      }
    });

    test('a spoken comment on GET /cc/csat/:call_id carries its recording_url as on /responses; listening to it needs csat:recordings', async () => {
      const api = await startApi({ database: kind, now: new Date(AT) });
      try {
        const comment = (callId: string, question: string, name: string) =>
          answer(callId, question, { kind: 'comment', value: null, digits: null, recording: name, recording_ms: 4_200, recording_format: 'wav' });
        await api.storage.answers.record(answer('voice/1', 'ask', { value: 2, digits: '4' }), rating('voice/1', 2));
        await api.storage.answers.record(comment('voice/1', 'why', 'csat-voice-1'));
        // Two comments in one call: each link names its question.
        await api.storage.answers.record(answer('voice-2', 'ask'), rating('voice-2'));
        await api.storage.answers.record(comment('voice-2', 'why', 'csat-voice-2a'));
        await api.storage.answers.record(comment('voice-2', 'more', 'csat-voice-2b'));

        const urls = (body: { answers: Array<{ question_id: string; recording_url: string | null }> }) => body.answers.map((a) => [a.question_id, a.recording_url]);
        const responses = await api.request('GET', '/cc/csat/responses', { key: KEYS.supervisor });
        assert.equal(responses.status, 200);
        const onResponses = new Map(responses.body.items.map((item: { call_id: string; answers: unknown[] }) => [item.call_id, item.answers]));
        // supervisor has csat:recordings, reporting has not: /responses shows both the link, and so does the per-call route.
        for (const key of [KEYS.supervisor, KEYS.reporting]) {
          const one = await api.request('GET', '/cc/csat/voice%2F1', { key });
          assert.equal(one.status, 200, JSON.stringify(one.body));
          CallResponse.parse(one.body);
          assert.deepEqual(urls(one.body), [['ask', null], ['why', '/cc/csat/voice%2F1/recording']]);
          assert.deepEqual(one.body.answers, onResponses.get('voice/1'), 'the same answers as on /responses');
          const two = await api.request('GET', '/cc/csat/voice-2', { key });
          assert.deepEqual(urls(two.body), [['ask', null], ['why', '/cc/csat/voice-2/recording?question=why'], ['more', '/cc/csat/voice-2/recording?question=more']]);
          assert.deepEqual(two.body.answers, onResponses.get('voice-2'));
        }
        const refused = await api.request('GET', '/cc/csat/voice%2F1/recording', { key: KEYS.reporting });
        assert.equal(refused.status, 403);
        assert.match(refused.body.detail, /csat:recordings/);

        // Once the retention sweep deleted the audio, the answer stays and its link goes.
        await api.db.updateTable('survey_answer').set({ recording_deleted_at: AT }).where('call_id', '=', 'voice/1').where('question_id', '=', 'why').execute();
        const deleted = await api.request('GET', '/cc/csat/voice%2F1', { key: KEYS.supervisor });
        assert.deepEqual(urls(deleted.body), [['ask', null], ['why', null]]);
        assert.equal(deleted.body.answers[1].recording.name, 'csat-voice-1');
      } finally {
        await api.close();
      }
    });

    test('the IVR writes the caller\'s key as an answer of its question the moment it is pressed, with its rating', async () => {
      const h = await startHarness({ database: kind });
      try {
        const channel = await within(
          h.call({ args: ['ivr-answer', 'agent-7', 'sales-queue'], script: [{ whenPlaying: 'csat/rate-intro', after: 20, press: '2' }] }),
          15_000,
          'the survey',
        );
        const [stored] = await h.storage.answers.forCalls(['ivr-answer']);
        assert.ok(stored, `an answer row for the survey on ${channel.id}`);
        assert.deepEqual(
          { question: stored.question_id, kind: stored.kind, value: stored.value, digits: stored.digits, agent: stored.agent_id, queue: stored.queue_id, ivr: stored.ivr },
          { question: 'ask', kind: 'csat', value: 4, digits: '2', agent: 'agent-7', queue: 'sales-queue', ivr: 'survey' },
        );
        const rated = await h.storage.ratings.findByCallId('ivr-answer');
        assert.equal(rated?.score, 4);
        assert.equal(rated?.created_at, stored.answered_at, 'one instant for the answer and its rating');
      } finally {
        await h.close();
      }
    });
  });
}
