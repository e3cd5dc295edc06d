// POST /cc/feedback: what chat, email and bot platforms send, stored as answers with their channel,
// counted by the per-question statistics (filterable by channel), on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FeedbackStored } from '../src/http/schemas.js';
import { DATABASES, KEYS, startApi, type ApiHarness } from './helpers/api.js';

const NOW = new Date('2026-11-29T10:00:00.000Z');

const feedback = (extra: Record<string, unknown> = {}) => ({ channelUId: 'conv-1', name: 'post-chat-csat', score: 2, channel: 'chat', type: 'CSAT', language: 'en', message: 'Slow answers', ...extra });

for (const { kind, skip } of DATABASES) {
  describe(`POST /cc/feedback (${kind})`, { skip }, () => {
    let api: ApiHarness;
    before(async () => {
      api = await startApi({ database: kind, now: NOW });
    });
    after(async () => {
      await api.close();
    });

    test('a chat CSAT is stored as an answer of its channel, with its message; the same conversation again is a 409', async () => {
      const res = await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback() });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      FeedbackStored.parse(res.body);
      assert.deepEqual(res.body, { call_id: 'chat:conv-1', question_id: 'post-chat-csat', kind: 'csat', value: 2, source: 'chat', answered_at: NOW.toISOString() });
      const rows = await api.db.selectFrom('survey_answer').select(['call_id', 'question_id', 'kind', 'value', 'source', 'message', 'language', 'agent_id', 'queue_id']).where('call_id', '=', 'chat:conv-1').execute();
      assert.deepEqual(rows, [{ call_id: 'chat:conv-1', question_id: 'post-chat-csat', kind: 'csat', value: 2, source: 'chat', message: 'Slow answers', language: 'en', agent_id: '', queue_id: '' }]);
      // The per-call read shows it with its channel and words.
      const read = await api.request('GET', '/cc/csat/chat:conv-1', { key: KEYS.reader });
      assert.equal(read.status, 200);
      assert.deepEqual([read.body.answers[0].source, read.body.answers[0].message], ['chat', 'Slow answers']);
      const again = await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ score: 5 }) });
      assert.equal(again.status, 409);
      assert.match(again.body.detail, /already recorded/);
      assert.equal(await api.db.selectFrom('cc_csat').select('id').where('call_id', '=', 'chat:conv-1').executeTakeFirst(), undefined, 'answers only: cc_csat is the calls\' headline rating');
    });

    test('each type on its own range: CSAT 1-5, NPS 0-10, THUMB 0/1; a mistake is a 400 naming the field, nothing written', async () => {
      for (const [type, ok, bad] of [['CSAT', [1, 5], [0, 6]], ['NPS', [0, 10], [-1, 11]], ['THUMB', [0, 1], [2, -1]]] as const) {
        for (const score of ok) {
          const res = await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: `${type}-${score}`, type, score, channel: 'bot' }) });
          assert.equal(res.status, 201, `${type} ${score}: ${JSON.stringify(res.body)}`);
        }
        for (const score of bad) {
          const res = await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: `${type}-bad-${score}`, type, score }) });
          assert.equal(res.status, 400, `${type} ${score}`);
          assert.match(res.body.detail, new RegExp(`score: a ${type} score is`));
        }
      }
      const kinds = await api.db.selectFrom('survey_answer').select(['call_id', 'kind']).where('source', '=', 'bot').orderBy('call_id').execute();
      assert.deepEqual(kinds.map((row) => row.kind).sort(), ['csat', 'csat', 'nps', 'nps', 'yes_no', 'yes_no']);
      for (const [body, field] of [
        [feedback({ channel: 'fax' }), /channel/],
        [feedback({ type: 'STARS' }), /type/],
        [feedback({ score: 2.5 }), /score must be a whole number/],
        [feedback({ name: '9lives' }), /name: must be a question id/],
        [feedback({ channelUId: '' }), /channelUId/],
        [feedback({ message: 'a\u0000b' }), /message/],
        [feedback({ message: 'x'.repeat(1001) }), /message is at most 1000 characters/],
        [feedback({ language: 'english!' }), /language/],
        [feedback({ queue_id: 'no-such-queue' }), /queue_id: unknown queue "no-such-queue"/],
        [feedback({ extra: 1 }), /unknown field "extra"/],
        [{ ...feedback(), score: undefined }, /score is required/],
      ] as const) {
        const res = await api.request('POST', '/cc/feedback', { key: KEYS.writer, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.body.detail, field);
      }
      assert.equal((await api.db.selectFrom('survey_answer').select('id').where('call_id', 'like', '%bad%').execute()).length, 0);
    });

    test('csat:write only; JSON only', async () => {
      assert.equal((await api.request('POST', '/cc/feedback', { key: KEYS.reader, body: feedback({ channelUId: 'scope' }) })).status, 403);
      assert.equal((await api.request('POST', '/cc/feedback', { key: null, body: feedback({ channelUId: 'scope' }) })).status, 401);
      const form = await api.request('POST', '/cc/feedback', { key: KEYS.writer, rawBody: 'score=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(form.status, 415);
    });

    test('the per-question statistics count feedback and filter by channel; agent figures leave agentless feedback out', async () => {
      for (const [id, channel, score] of [['e1', 'email', 1], ['e2', 'email', 3], ['c1', 'chat', 5]] as const) {
        assert.equal((await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: id, channel, score, name: 'channel-csat' }) })).status, 201);
      }
      assert.equal((await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: 'a1', channel: 'chat', score: 4, name: 'channel-csat', agent_id: 'agent-001', queue_id: 'sales-queue' }) })).status, 201);
      await api.results.run('incremental');
      const question = async (query: string) => {
        const res = await api.request('GET', `/cc/csat/questions?question_id=channel-csat&days=7${query}`, { key: KEYS.reader });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const [stats] = res.body.questions;
        return stats ? { count: stats.count, average: stats.average } : { count: 0, average: null };
      };
      assert.deepEqual(await question(''), { count: 4, average: 3.25 });
      assert.deepEqual(await question('&source=email'), { count: 2, average: 2 });
      assert.deepEqual(await question('&source=chat'), { count: 2, average: 4.5 });
      assert.deepEqual(await question('&source=ivr'), { count: 0, average: null });
      assert.deepEqual(await question('&agent_id=agent-001'), { count: 1, average: 4 }, 'the agent is credited with their own feedback only');
      assert.deepEqual(await question('&queue_id=sales-queue'), { count: 1, average: 4 });
      const blankAgents = await api.db.selectFrom('answer_rollup').select('agent_id').where('scope', '=', 'agent').where('agent_id', '=', '').execute();
      assert.deepEqual(blankAgents, [], 'feedback without an agent makes no agent "" in the rollups');
    });

    test('ids: the same conversation id on two channels is two feedbacks; one too long with its channel is a 400 saying how long it may be; null optional fields', async () => {
      for (const channel of ['chat', 'email']) {
        assert.equal((await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: 'shared-id', channel }) })).status, 201, channel);
      }
      const long = await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: 'x'.repeat(125), channel: 'chat' }) });
      assert.equal(long.status, 400);
      assert.match(long.body.detail, /^invalid body: channelUId: with its channel \("chat:"\) it must be at most 128 characters: at most 123 for chat$/);
      assert.equal((await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: 'x'.repeat(123), channel: 'chat' }) })).status, 201);
      const nulls = await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: 'nulls', message: null, language: null }) });
      assert.equal(nulls.status, 201, JSON.stringify(nulls.body));
      const row = await api.db.selectFrom('survey_answer').select(['message', 'language']).where('call_id', '=', 'chat:nulls').executeTakeFirstOrThrow();
      assert.deepEqual(row, { message: null, language: null });
    });
  });
}

for (const { kind, skip } of DATABASES) {
  describe(`feedback and the alert rules (${kind})`, { skip }, () => {
    test('a low CSAT by chat queues its alert with the answer; a good one none', async () => {
      const api = await startApi({
        database: kind,
        now: NOW,
        env: { HOOK_SECRET: 'whsec' },
        apiExtra: `
[alerts]
[[alerts.destination]]
name = "supervisors"
url = "http://127.0.0.1:9/hook"
secret_env = "HOOK_SECRET"

[[alerts.rule]]
name = "low-csat"
type = "answer"
kind = "csat"
at_most = 2
destination = "supervisors"
`,
      });
      try {
        assert.equal((await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: 'low', score: 2 }) })).status, 201);
        assert.equal((await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: 'high', score: 5 }) })).status, 201);
        // Sent again by the platform: refused, and alerted once only.
        assert.equal((await api.request('POST', '/cc/feedback', { key: KEYS.writer, body: feedback({ channelUId: 'low', score: 1 }) })).status, 409);
        const queued = await api.db.selectFrom('alert_outbox').select(['idempotency_key', 'payload']).execute();
        assert.deepEqual(queued.map((row) => row.idempotency_key), ['alert.fired:low-csat:chat:low:post-chat-csat']);
        const body = JSON.parse(queued[0]!.payload);
        assert.deepEqual(body.call, { call_id: 'chat:low', agent_id: '', queue_id: '', team_id: null, ivr: 'chat' });
        assert.deepEqual(body.answer, { question_id: 'post-chat-csat', kind: 'csat', value: 2 });
      } finally {
        await api.close();
      }
    });
  });
}
