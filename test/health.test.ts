// GET /cc/csat/health: the dashboard's queries timed against budgets, the result service's lag, the
// data's size. Times themselves are never asserted (they depend on the machine): only the fields, the
// verdicts a budget forces, and the counts against the rows the test wrote.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HealthReport } from '../src/http/schemas.js';
import { DATABASES, KEYS, startApi, type ApiHarness } from './helpers/api.js';
import { seedSurveyCalls, surveyCalls } from './helpers/survey-seed.js';

const TEAMS = `
[[team]]
id = "north"
agents = ["agent-001", "agent-002"]
`;

const calls = surveyCalls({
  count: 30,
  agents: ['agent-001', 'agent-002', 'agent-003'],
  queues: ['sales-queue', 'support-queue'],
  startMs: Date.parse('2026-11-05T08:00:00.000Z'),
  stepMs: 6 * 3_600_000,
  prefix: 'hl',
});

let api: ApiHarness;

for (const { kind, skip } of DATABASES) {
  describe(`/cc/csat/health on ${kind}`, { skip }, () => {
    before(async () => {
      api = await startApi({ database: kind, now: new Date('2026-11-20T12:00:00.000Z'), teams: TEAMS });
      await seedSurveyCalls(api.db, calls);
    });
    after(async () => {
      await api.close();
    });

    test('before any result-service run: every dashboard query listed, no as_of, the rows counted', async () => {
      const res = await api.request('GET', '/cc/csat/health', { key: KEYS.reader });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      HealthReport.parse(res.body);
      const names = res.body.queries.map((query: { name: string }) => query.name);
      // Every configured queue (test config: sales-queue, quiet-queue), the contact center's questions and funnel, a team.
      assert.deepEqual(names, ['queue_stats quiet-queue', 'queue_stats sales-queue', 'questions (contact center)', 'funnel (contact center)', 'team north']);
      assert.ok(res.body.queries.every((query: { budget_ms: number }) => query.budget_ms === 500));
      assert.equal(res.body.total_budget_ms, 2000);
      assert.deepEqual(res.body.result_service, { as_of: null, lag_seconds: null });
      assert.deepEqual(
        { ratings: res.body.data.ratings, answers: res.body.data.answers, outcomes: res.body.data.outcomes },
        {
          ratings: calls.length,
          answers: calls.reduce((sum, call) => sum + call.answers.length, 0),
          outcomes: calls.reduce((sum, call) => sum + call.outcomes.length, 0),
        },
      );
      const sum = res.body.queries.reduce((total: number, query: { ms: number }) => total + query.ms, 0);
      assert.ok(Math.abs(sum - res.body.total_ms) < 0.1, 'total_ms is the sum of the queries');
      assert.equal(res.body.target_met, res.body.queries.every((query: { ok: boolean }) => query.ok) && res.body.total_ms <= 2000);
    });

    test('a budget of 0 ms is missed by every query: ok false each, target_met false', async () => {
      const res = await api.request('GET', '/cc/csat/health?budget_ms=0&total_budget_ms=0', { key: KEYS.reader });
      assert.equal(res.status, 200);
      assert.ok(res.body.queries.length > 0);
      for (const query of res.body.queries) assert.deepEqual({ budget_ms: query.budget_ms, ok: query.ok }, { budget_ms: 0, ok: false });
      assert.equal(res.body.target_met, false);
      const generous = await api.request('GET', '/cc/csat/health?budget_ms=60000&total_budget_ms=600000', { key: KEYS.reader });
      assert.ok(generous.body.queries.every((query: { ok: boolean }) => query.ok));
      assert.equal(generous.body.target_met, true);
      const totalOnly = await api.request('GET', '/cc/csat/health?budget_ms=60000&total_budget_ms=0', { key: KEYS.reader });
      assert.ok(totalOnly.body.queries.every((query: { ok: boolean }) => query.ok));
      assert.equal(totalOnly.body.target_met, false, 'the total budget counts on its own');
    });

    test('concurrent requests share one run; after a result-service run, as_of and the lag behind now', async () => {
      const together = await Promise.all(Array.from({ length: 4 }, () => api.request('GET', '/cc/csat/health', { key: KEYS.reader })));
      assert.equal(new Set(together.map((res) => res.body.measured_at)).size, 1);
      await api.results.run();
      const refreshedAt = api.clock.now.toISOString();
      api.clock.now = new Date(api.clock.now.getTime() + 90_000);
      const res = await api.request('GET', '/cc/csat/health', { key: KEYS.reader });
      assert.deepEqual(res.body.result_service, { as_of: refreshedAt, lag_seconds: 90 });
      assert.equal(res.body.measured_at, api.clock.now.toISOString(), 'a new run once the last one is older than a few seconds');
    });

    test('400 naming the field; 401 without a key; rate limited like every route', async () => {
      for (const [query, field] of [
        ['budget_ms=-1', 'budget_ms'],
        ['budget_ms=fast', 'budget_ms'],
        ['total_budget_ms=9999999', 'total_budget_ms'],
        ['verbose=1', 'query'],
      ] as const) {
        const res = await api.request('GET', `/cc/csat/health?${query}`, { key: KEYS.reader });
        assert.equal(res.status, 400, query);
        assert.ok(res.body.issues.some((issue: { path: string }) => issue.path === field), JSON.stringify(res.body));
      }
      assert.equal((await api.request('GET', '/cc/csat/health', { key: null })).status, 401);
      // It names every queue and team: an agent-bound key is refused, naming its agent.
      const asAgent = await api.request('GET', '/cc/csat/health', { key: KEYS.agent });
      assert.equal(asAgent.status, 403);
      assert.match(asAgent.body.detail, /may only read agent "agent-001"/);
      assert.equal(asAgent.body.queries, undefined);
      let last = 0;
      for (let i = 0; i < 7 && last !== 429; i++) last = (await api.request('GET', '/cc/csat/health', { key: KEYS.limited })).status;
      assert.equal(last, 429);
    });
  });
}
