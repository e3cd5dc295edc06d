// The /cc/csat API contract: statuses, bodies, auth, rate limit, nothing written on error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConflictBody, Rating, ResponsesPage, ValidationErrorBody } from '../src/http/schemas.js';
import { DATABASES, KEYS, startApi, type ApiHarness } from './helpers/api.js';

let api: ApiHarness;
const body = { score: 5, comment: 'Great service', agent_id: 'agent-001', queue_id: 'sales-queue' };
const ratingCount = async () => Number((await api.db.selectFrom('cc_csat').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

for (const { kind, skip } of DATABASES) {
  describe(`/cc/csat API on ${kind}`, { skip }, () => {
    before(async () => {
      api = await startApi({ database: kind, now: new Date('2026-11-20T14:03:07.123Z') });
    });
    after(async () => {
      await api.close();
    });

    test('POST stores the rating: 201 with the record and a Location; GET returns it', async () => {
      const res = await api.request('POST', '/cc/csat/call-201', { body });
      assert.equal(res.status, 201);
      Rating.parse(res.body);
      assert.deepEqual({ ...res.body, id: 0 }, { id: 0, call_id: 'call-201', agent_id: 'agent-001', queue_id: 'sales-queue', score: 5, comment: 'Great service', created_at: '2026-11-20T14:03:07.123Z' });
      assert.equal(res.headers.get('location'), '/cc/csat/call-201');
      const got = await api.request('GET', '/cc/csat/call-201');
      assert.deepEqual(got.body, { ...res.body, answers: [] }, 'a rating from the API has no IVR answers');
    });

    test('comment is optional; 1,000 characters pass, 1,001 do not', async () => {
      const { comment: _c, ...noComment } = body;
      assert.equal((await api.request('POST', '/cc/csat/call-nocomment', { body: noComment })).body.comment, null);
      assert.equal((await api.request('POST', '/cc/csat/call-long', { body: { ...body, comment: 'x'.repeat(1000) } })).status, 201);
      const before = await ratingCount();
      const tooLong = await api.request('POST', '/cc/csat/call-too-long', { body: { ...body, comment: 'x'.repeat(1001) } });
      assert.equal(tooLong.status, 400);
      assert.deepEqual(tooLong.body.issues, [{ path: 'comment', message: 'comment is at most 1000 characters' }]);
      assert.equal(await ratingCount(), before);
    });

    test('409 when the call is already rated, with the existing rating; the first one stands', async () => {
      await api.request('POST', '/cc/csat/call-dup', { body: { ...body, score: 4 } });
      const again = await api.request('POST', '/cc/csat/call-dup', { body: { ...body, score: 1 } });
      assert.equal(again.status, 409);
      ConflictBody.parse(again.body);
      assert.equal(again.body.detail, 'call call-dup is already rated');
      assert.equal(again.body.existing.score, 4);
      assert.equal((await api.request('GET', '/cc/csat/call-dup')).body.score, 4);
    });

    test('400 for each kind of bad body, with {detail, issues}; nothing written', async () => {
      const before = await ratingCount();
      const cases: Array<[unknown, string, RegExp]> = [
        [{ ...body, score: 6 }, 'score', /score is 1 to 5/],
        [{ ...body, score: 0 }, 'score', /score is 1 to 5/],
        [{ ...body, score: 3.5 }, 'score', /whole number/],
        [{ ...body, score: '5' }, 'score', /score must be a number/],
        [{ comment: 'no score' , agent_id: 'a', queue_id: 'q' }, 'score', /^score is required$/],
        [{ ...body, agent_id: '' }, 'agent_id', /must not be empty/],
        [{ score: 3, queue_id: 'q' }, 'agent_id', /^agent_id is required$/],
        [{ ...body, scroe: 3 }, 'body', /unknown field "scroe"/],
        [[1, 2], 'body', /./],
      ];
      for (const [payload, path, message] of cases) {
        const res = await api.request('POST', '/cc/csat/call-bad', { body: payload });
        assert.equal(res.status, 400, JSON.stringify(payload));
        ValidationErrorBody.parse(res.body);
        const issue = res.body.issues.find((i: { path: string }) => i.path === path);
        assert.ok(issue, `${JSON.stringify(payload)}: issue at ${path} in ${JSON.stringify(res.body.issues)}`);
        assert.match(issue.message, message);
        assert.match(res.body.detail, /^invalid body: /);
      }
      assert.equal(await ratingCount(), before);
    });

    test('malformed JSON 400, wrong content type 415, body over 16 KB 413, all JSON {detail}; nothing written', async () => {
      const before = await ratingCount();
      const malformed = await api.request('POST', '/cc/csat/call-x', { rawBody: '{"score": 5,', headers: { 'content-type': 'application/json' } });
      assert.equal(malformed.status, 400);
      assert.match(malformed.body.detail, /malformed JSON/);
      const form = await api.request('POST', '/cc/csat/call-x', { rawBody: 'score=5', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(form.status, 415);
      assert.equal(form.body.detail, 'Content-Type must be application/json');
      const huge = await api.request('POST', '/cc/csat/call-x', { body: { ...body, comment: 'y'.repeat(17 * 1024) } });
      assert.equal(huge.status, 413);
      assert.equal(huge.body.detail, 'request body is larger than 16 KB');
      assert.equal(await ratingCount(), before);
    });

    test('401 without or with a wrong key, 403 with the wrong scope; nothing written; the key is never logged', async () => {
      const before = await ratingCount();
      const missing = await api.request('POST', '/cc/csat/call-auth', { key: null, body });
      assert.deepEqual([missing.status, missing.body], [401, { detail: 'missing X-API-Key header' }]);
      const wrong = await api.request('GET', '/cc/csat/call-201', { key: 'not-a-key' });
      assert.deepEqual([wrong.status, wrong.body], [401, { detail: 'invalid API key' }]);
      const readerPosts = await api.request('POST', '/cc/csat/call-auth', { key: KEYS.reader, body });
      assert.deepEqual([readerPosts.status, readerPosts.body], [403, { detail: 'API key "reader" lacks scope csat:write' }]);
      const writerReads = await api.request('GET', '/cc/csat/queue/sales-queue', { key: KEYS.writer });
      assert.equal(writerReads.status, 403);
      assert.equal((await api.request('POST', '/cc/csat/call-auth', { key: KEYS.writer, body })).status, 201);
      assert.equal(await ratingCount(), before + 1);
      const logged = JSON.stringify(api.logs.lines);
      for (const key of Object.values(KEYS)) assert.ok(!logged.includes(key), 'no API key in logs');
    });

    test('404 JSON for an unrated call, an unknown route and a never-seen queue; 400 for bad query parameters', async () => {
      assert.deepEqual(await api.request('GET', '/cc/csat/nobody').then((r) => [r.status, r.body]), [404, { detail: 'no rating and no answer for call nobody' }]);
      assert.deepEqual(await api.request('GET', '/no/such/route').then((r) => [r.status, r.body]), [404, { detail: 'no route for GET /no/such/route' }]);
      assert.deepEqual(await api.request('GET', '/cc/csat/queue/sales-queu').then((r) => [r.status, r.body]), [404, { detail: 'unknown queue "sales-queu"' }]);
      const badQueries = [
        '/cc/csat/queue/sales-queue?period=year',
        '/cc/csat/queue/sales-queue?from=2026-02-30',
        '/cc/csat/queue/sales-queue?from=2026-11-10&to=2026-11-01',
        '/cc/csat/queue/sales-queue?from=2026-11-01&days=5',
        '/cc/csat/agent/agent-001?days=0',
        '/cc/csat/agent/agent-001?period=day&from=2020-01-01&to=2026-01-01',
        '/cc/csat/agent/agent-001?colour=blue',
        '/cc/csat/responses?limit=201',
        '/cc/csat/responses?offset=-1',
      ];
      for (const path of badQueries) {
        const res = await api.request('GET', path);
        assert.equal(res.status, 400, path);
        ValidationErrorBody.parse(res.body);
      }
    });

    test('stats default to the last 30 local days by day; a posted rating shows after the next result-service run', async () => {
      const before = await api.request('GET', '/cc/csat/agent/agent-stats');
      assert.deepEqual([before.body.from, before.body.to, before.body.period, before.body.trend.length], ['2026-10-22', '2026-11-20', 'day', 30]);
      assert.deepEqual([before.body.count, before.body.average], [0, null]);
      await api.request('POST', '/cc/csat/call-stats-1', { body: { ...body, agent_id: 'agent-stats', score: 4 } });
      await api.request('POST', '/cc/csat/call-stats-2', { body: { ...body, agent_id: 'agent-stats', score: 3 } });
      assert.equal((await api.request('GET', '/cc/csat/agent/agent-stats')).body.count, 0, 'rollups not refreshed yet');
      await api.results.run();
      const afterRun = await api.request('GET', '/cc/csat/agent/agent-stats?days=7');
      assert.deepEqual([afterRun.body.from, afterRun.body.count, afterRun.body.average], ['2026-11-14', 2, 3.5]);
      assert.deepEqual(afterRun.body.distribution, { '1': 0, '2': 0, '3': 1, '4': 1, '5': 0 });
      assert.deepEqual(afterRun.body.trend.at(-1), { period_start: '2026-11-20', count: 2, average: 3.5 });
      assert.equal(afterRun.body.as_of, '2026-11-20T14:03:07.123Z');
    });

    test('cached statistics follow the rollups exactly, even when two runs share a timestamp', async () => {
      api.clock.now = new Date('2026-11-20T16:00:00.000Z');
      await api.results.run();
      const first = await api.request('GET', '/cc/csat/queue/sales-queue?days=1');
      const again = await api.request('GET', '/cc/csat/queue/sales-queue?days=1');
      assert.deepEqual(again.body, first.body, 'a repeated read answers the same');
      await api.request('POST', '/cc/csat/cache-1', { body: { ...body, score: 1, agent_id: 'cache-agent' } });
      assert.equal((await api.request('GET', '/cc/csat/queue/sales-queue?days=1')).body.count, first.body.count, 'unchanged until the next run');
      await api.results.run(); // same clock: refreshed_at does not move, the watermark does
      const after = await api.request('GET', '/cc/csat/queue/sales-queue?days=1');
      assert.equal(after.body.count, first.body.count + 1);
      assert.ok(after.body.agent_ranking.some((entry: { agent_id: string }) => entry.agent_id === 'cache-agent'));
    });

    test('statistics carry an ETag: a dashboard polling with If-None-Match gets 304 until the next run changes the answer', async () => {
      api.clock.now = new Date('2026-11-20T17:00:00.000Z');
      await api.results.run();
      const url = '/cc/csat/queue/sales-queue?days=3';
      const first = await api.request('GET', url);
      const etag = first.headers.get('etag');
      assert.match(etag ?? '', /^W\/"[0-9a-f]+-[A-Za-z0-9+/]{27}"$/);
      // As a browser revalidates (fetch() would otherwise add "Cache-Control: no-cache", which rules out a 304).
      const revalidate = { 'if-none-match': etag!, 'cache-control': 'max-age=0' };
      const unchanged = await api.request('GET', url, { headers: revalidate });
      assert.equal(unchanged.status, 304);
      // The ETag names the answer (window and rollup state), not only the state: two quiet windows give
      // bodies of the same length and shape, and still each its own ETag.
      const quiet = (month: string) => api.request('GET', `/cc/csat/queue/sales-queue?from=2025-${month}-01&to=2025-${month}-03`);
      const [january, february] = [await quiet('01'), await quiet('02')];
      assert.equal(january.headers.get('content-length'), february.headers.get('content-length'));
      assert.notEqual(january.headers.get('etag'), february.headers.get('etag'));
      const crossed = await api.request('GET', '/cc/csat/queue/sales-queue?from=2025-02-01&to=2025-02-03', {
        headers: { 'if-none-match': january.headers.get('etag')!, 'cache-control': 'max-age=0' },
      });
      assert.equal(crossed.status, 200);
      await api.request('POST', '/cc/csat/etag-1', { body: { ...body, score: 2, agent_id: 'etag-agent' } });
      await api.results.run();
      const changed = await api.request('GET', url, { headers: revalidate });
      assert.equal(changed.status, 200);
      assert.notEqual(changed.headers.get('etag'), etag);
      assert.equal(changed.body.count, first.body.count + 1);
    });

    test('responses: newest first, filtered, paginated with total', async () => {
      for (let i = 0; i < 5; i++) {
        api.clock.now = new Date(Date.parse('2026-11-19T10:00:00.000Z') + i * 60_000);
        await api.request('POST', `/cc/csat/page-${i}`, { body: { ...body, agent_id: 'pager', score: 1 + i } });
      }
      const page = await api.request('GET', '/cc/csat/responses?agent_id=pager&limit=2&offset=1');
      ResponsesPage.parse(page.body);
      assert.deepEqual([page.body.total, page.body.limit, page.body.offset], [5, 2, 1]);
      assert.deepEqual(page.body.items.map((item: { call_id: string }) => item.call_id), ['page-3', 'page-2']);
      const dated = await api.request('GET', '/cc/csat/responses?agent_id=pager&from=2026-11-20&to=2026-11-20');
      assert.equal(dated.body.total, 0);
      const byDay = await api.request('GET', '/cc/csat/responses?agent_id=pager&from=2026-11-19&to=2026-11-19');
      assert.equal(byDay.body.total, 5);
    });

    test('rate limit per key: 429 with Retry-After and X-RateLimit-* headers', async () => {
      const statuses: number[] = [];
      let last: Awaited<ReturnType<ApiHarness['request']>> | undefined;
      for (let i = 0; i < 7; i++) {
        last = await api.request('GET', '/cc/csat/responses', { key: KEYS.limited });
        statuses.push(last.status);
        if (i === 0) assert.deepEqual([last.headers.get('x-ratelimit-limit'), last.headers.get('x-ratelimit-remaining')], ['5', '4']);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      assert.equal(last!.headers.get('x-ratelimit-remaining'), '0');
      assert.ok(Number(last!.headers.get('retry-after')) >= 1);
      assert.match(last!.body.detail, /rate limit of 5 requests per minute exceeded for key "limited"/);
      assert.equal((await api.request('GET', '/cc/csat/responses', { key: KEYS.reader })).status, 200, 'other keys are not affected');
    });

    test('GET /openapi.json is generated from the zod schemas', async () => {
      const res = await api.request('GET', '/openapi.json', { key: null });
      assert.equal(res.status, 200);
      assert.equal(res.body.openapi, '3.1.0');
      assert.deepEqual(Object.keys(res.body.paths).sort(), [
        '/cc/csat/agent/{agent_id}',
        '/cc/csat/alerts',
        '/cc/csat/export',
        '/cc/csat/exports',
        '/cc/csat/funnel',
        '/cc/csat/health',
        '/cc/csat/questions',
        '/cc/csat/queue/{queue_id}',
        '/cc/csat/queues',
        '/cc/csat/rate',
        '/cc/csat/responses',
        '/cc/csat/survey/{token}',
        '/cc/csat/survey/{token}/submit',
        '/cc/csat/team/{team_id}',
        '/cc/csat/teams',
        '/cc/csat/{call_id}',
        '/cc/csat/{call_id}/recording',
        '/cc/feedback',
      ]);
      const input = res.body.paths['/cc/csat/{call_id}'].post.requestBody.content['application/json'].schema;
      assert.deepEqual([input.properties.score.minimum, input.properties.score.maximum, input.additionalProperties], [1, 5, false]);
      assert.equal(input.properties.comment.anyOf?.[0]?.maxLength ?? input.properties.comment.maxLength, 1000);
      assert.ok(!JSON.stringify(res.body).includes('$ref'), 'every schema is self-contained');
      const query = res.body.paths['/cc/csat/responses'].get.parameters.find((p: { name: string }) => p.name === 'limit');
      assert.deepEqual([query.schema.minimum, query.schema.maximum], [1, 200]);
    });
  });
}
