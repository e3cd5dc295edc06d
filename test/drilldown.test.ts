// GET /cc/csat/responses as a drilldown: every filter against a plain selection of the seeded calls,
// paging by cursor, an agent key kept to its agent, 400s naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ResponsesPage } from '../src/http/schemas.js';
import { DATABASES, KEY_AGENT_ID, KEYS, startApi, type ApiHarness } from './helpers/api.js';
import { seedSurveyCalls, surveyCalls, type SeededCall } from './helpers/survey-seed.js';

const TEAMS = `
[[team]]
id = "north"
name = "North floor"
agents = ["agent-001", "agent-002"]

[[team]]
id = "nobody"
agents = []
`;
const NORTH = ['agent-001', 'agent-002'];

const calls = surveyCalls({
  count: 48,
  agents: ['agent-001', 'agent-002', 'agent-003', 'agent-004'],
  queues: ['sales-queue', 'support-queue'],
  startMs: Date.parse('2026-11-10T00:30:00.000Z'),
  stepMs: 3 * 3_600_000,
  prefix: 'dd',
});

const newestFirst = (selected: readonly SeededCall[]): string[] =>
  [...selected].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0)).map((call) => call.call_id);
const answerTo = (call: SeededCall, question: string) => call.answers.find((answer) => answer.question_id === question);
const commented = (call: SeededCall): boolean => (call.comment !== null && call.comment !== '') || call.answers.some((answer) => answer.kind === 'comment');

let api: ApiHarness;

async function allPages(query: string, limit: number, key?: string): Promise<{ ids: string[]; totals: number[]; pages: number }> {
  const ids: string[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await api.request('GET', `/cc/csat/responses?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, key ? { key } : {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    ids.push(...res.body.items.map((item: { call_id: string }) => item.call_id));
    totals.push(res.body.total);
    cursor = res.body.next_cursor;
    pages++;
    assert.ok(pages <= 100, 'paging ends');
  } while (cursor !== null);
  return { ids, totals, pages };
}

for (const { kind, skip } of DATABASES) {
  describe(`drilldown /cc/csat/responses on ${kind}`, { skip }, () => {
    before(async () => {
      api = await startApi({ database: kind, now: new Date('2026-11-20T12:00:00.000Z'), teams: TEAMS });
      await seedSurveyCalls(api.db, calls);
    });
    after(async () => {
      await api.close();
    });

    const cases: Array<[string, (call: SeededCall) => boolean]> = [
      ['', () => true],
      ['agent_id=agent-003', (call) => call.agent_id === 'agent-003'],
      ['queue_id=support-queue', (call) => call.queue_id === 'support-queue'],
      ['team_id=north', (call) => NORTH.includes(call.agent_id)],
      ['team_id=north&queue_id=sales-queue', (call) => NORTH.includes(call.agent_id) && call.queue_id === 'sales-queue'],
      ['team_id=nobody', () => false],
      ['from=2026-11-12&to=2026-11-13', (call) => call.created_at >= '2026-11-12' && call.created_at < '2026-11-14'],
      ['question_id=nps', (call) => answerTo(call, 'nps') !== undefined],
      ['question_id=nps&min_value=9', (call) => (answerTo(call, 'nps')?.value ?? -1) >= 9],
      ['question_id=nps&max_value=6', (call) => answerTo(call, 'nps') !== undefined && answerTo(call, 'nps')!.value! <= 6],
      ['question_id=nps&min_value=7&max_value=8', (call) => [7, 8].includes(answerTo(call, 'nps')?.value ?? -1)],
      ['question_id=ask&min_value=4', (call) => call.score >= 4],
      ['question_id=voice', (call) => answerTo(call, 'voice') !== undefined],
      ['question_id=unknown', () => false],
      ['outcome=abandoned', (call) => call.outcomes.includes('abandoned')],
      ['outcome=failed', (call) => call.outcomes.includes('failed')],
      ['outcome=completed&agent_id=agent-002', (call) => call.outcomes.includes('completed') && call.agent_id === 'agent-002'],
      ['outcome=declined', () => false],
      ['has_comment=true', commented],
      ['has_comment=false', (call) => !commented(call)],
      ['has_comment=true&queue_id=sales-queue&question_id=nps', (call) => commented(call) && call.queue_id === 'sales-queue' && answerTo(call, 'nps') !== undefined],
    ];
    for (const [query, selects] of cases) {
      test(`?${query || '(no filter)'}: exactly the calls it selects, newest first, with the total`, async () => {
        const expected = newestFirst(calls.filter(selects));
        const res = await api.request('GET', `/cc/csat/responses?${query}&limit=200`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        ResponsesPage.parse(res.body);
        assert.deepEqual(
          res.body.items.map((item: { call_id: string }) => item.call_id),
          expected,
        );
        assert.equal(res.body.total, expected.length);
      });
    }

    test('a filter pages by cursor: every selected call once, in order, the same total on each page', async () => {
      const expected = newestFirst(calls.filter((call) => !commented(call)));
      const { ids, totals, pages } = await allPages('has_comment=false', 4);
      assert.deepEqual(ids, expected);
      assert.ok(pages >= 3);
      assert.ok(totals.every((total) => total === expected.length));
      const team = await allPages('team_id=north&question_id=nps', 3);
      assert.deepEqual(team.ids, newestFirst(calls.filter((call) => NORTH.includes(call.agent_id) && answerTo(call, 'nps') !== undefined)));
    });

    test('each call carries its answers; a kept recording has its recording_url, a deleted one none', async () => {
      const res = await api.request('GET', '/cc/csat/responses?question_id=voice&limit=200');
      const byId = new Map<string, { answers: Array<{ question_id: string; value: number | null; recording_url: string | null }> }>(
        res.body.items.map((item: { call_id: string }) => [item.call_id, item]),
      );
      for (const call of calls.filter((c) => answerTo(c, 'voice'))) {
        const item = byId.get(call.call_id)!;
        assert.deepEqual(
          item.answers.map((answer) => [answer.question_id, answer.value]),
          call.answers.map((answer) => [answer.question_id, answer.value]),
        );
        const recordings = call.answers.filter((answer) => answer.recording !== null).length;
        for (const answer of call.answers) {
          const shown = item.answers.find((a) => a.question_id === answer.question_id)!;
          const url = `/cc/csat/${call.call_id}/recording${recordings > 1 ? `?question=${answer.question_id}` : ''}`;
          assert.equal(shown.recording_url, answer.recording !== null && !answer.deleted ? url : null, `${call.call_id} ${answer.question_id}`);
        }
      }
    });

    test('an agent key reads its own agent only: forced filter, 403 for another agent, a queue or a team', async () => {
      const own = calls.filter((call) => call.agent_id === KEY_AGENT_ID);
      const { ids } = await allPages('', 200, KEYS.agent);
      assert.deepEqual(ids, newestFirst(own));
      const filtered = await api.request('GET', '/cc/csat/responses?has_comment=true&limit=200', { key: KEYS.agent });
      assert.deepEqual(
        filtered.body.items.map((item: { call_id: string }) => item.call_id),
        newestFirst(own.filter(commented)),
      );
      assert.equal((await api.request('GET', `/cc/csat/responses?agent_id=${KEY_AGENT_ID}`, { key: KEYS.agent })).status, 200);
      for (const query of ['agent_id=agent-002', 'queue_id=sales-queue', 'team_id=north']) {
        const res = await api.request('GET', `/cc/csat/responses?${query}`, { key: KEYS.agent });
        assert.equal(res.status, 403, query);
        assert.equal(res.body.detail, `API key "agent" may only read agent "${KEY_AGENT_ID}"`);
      }
    });

    test('400 naming the field for each mistake', async () => {
      const cases: Array<[string, string]> = [
        ['min_value=3', 'min_value'],
        ['max_value=3', 'max_value'],
        ['question_id=nps&min_value=8&max_value=2', 'min_value'],
        ['question_id=nps&min_value=-1', 'min_value'],
        ['question_id=nps&max_value=1.5', 'max_value'],
        ['question_id=1bad', 'question_id'],
        ['outcome=finished', 'outcome'],
        ['has_comment=yes', 'has_comment'],
        ['team_id=south', 'team_id'],
        ['team_id=north&agent_id=agent-001', 'team_id'],
        ['outcome=completed&outcome=abandoned', 'outcome'],
        ['colour=red', 'query'],
      ];
      for (const [query, field] of cases) {
        const res = await api.request('GET', `/cc/csat/responses?${query}`);
        assert.equal(res.status, 400, query);
        assert.ok(res.body.issues.some((issue: { path: string }) => issue.path === field), `${query}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.detail, new RegExp(field === 'query' ? 'colour' : field), query);
      }
    });
  });
}
