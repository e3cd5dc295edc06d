// The public rating-link endpoints over the engine's HTTP app, on SQLite and PostgreSQL: a link row
// is written as a survey's ending writes it (token hashed), then used the ways a caller can. The
// clock is the harness's, so expiry is tested without waiting.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { insertSurveyLink } from '../src/db/survey-links.js';
import { AddressLimiter } from '../src/http/address-limiter.js';
import { newLinkToken, tokenSha256 } from '../src/links/tokens.js';
import { DATABASES, KEYS, startApi, type ApiHarness } from './helpers/api.js';

const NOW = new Date('2026-11-29T10:00:00.000Z');

async function newLink(api: ApiHarness, callId: string, options: { expiresAt?: string } = {}): Promise<string> {
  const token = newLinkToken();
  await insertSurveyLink(api.db, {
    token_sha256: tokenSha256(token),
    call_id: callId,
    agent_id: 'agent-001',
    queue_id: 'sales-queue',
    ivr: 'survey',
    question_id: 'ask',
    status: 'pending',
    created_at: '2026-11-29T09:00:00.000Z',
    expires_at: options.expiresAt ?? '2026-12-06T09:00:00.000Z',
  });
  return token;
}

async function get(api: ApiHarness, path: string, accept = 'text/html'): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(api.base + path, { headers: { accept } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function storedRating(api: ApiHarness, callId: string): Promise<{ score: number; comment: string | null } | undefined> {
  return api.db.selectFrom('cc_csat').select(['score', 'comment']).where('call_id', '=', callId).executeTakeFirst();
}

for (const { kind, skip } of DATABASES) {
  describe(`rating links over HTTP (${kind})`, { skip }, () => {
    let api: ApiHarness;
    before(async () => {
      api = await startApi({ database: kind, now: NOW });
    });
    // Each test in a minute of its own: the per-address limits count per minute of the engine's clock.
    beforeEach(() => {
      api.clock.now = new Date(api.clock.now.getTime() + 60_000);
    });
    after(async () => {
      await api.close();
    });

    test('one click rates the call: a thank-you page, the rating and its answer stored (source link); the link then says it was used', async () => {
      const token = await newLink(api, 'call-click');
      const page = await get(api, `/cc/csat/rate?token=${token}&rating=4`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.text, /You rated us 4 out of 5/);
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer', 'the token in the URL never leaks in a Referer');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await storedRating(api, 'call-click'), { score: 4, comment: null });
      const answers = await api.db.selectFrom('survey_answer').select(['question_id', 'kind', 'value', 'source', 'ivr']).where('call_id', '=', 'call-click').execute();
      assert.deepEqual(answers, [{ question_id: 'ask', kind: 'csat', value: 4, source: 'link', ivr: 'survey' }]);
      // The API reads it like any rating.
      const read = await api.request('GET', '/cc/csat/call-click', { key: KEYS.reader });
      assert.equal(read.body.score, 4);

      const again = await get(api, `/cc/csat/rate?token=${token}&rating=1`);
      assert.equal(again.status, 410);
      assert.match(again.text, /already been used/);
      assert.deepEqual(await storedRating(api, 'call-click'), { score: 4, comment: null }, 'single use: the first rating stands');
      const form = await get(api, `/cc/csat/survey/${token}`, 'application/json');
      assert.deepEqual([form.status, JSON.parse(form.text).status], [410, 'completed']);
    });

    test('the form: shown while the link is usable, submitted as a browser does (urlencoded) or as JSON', async () => {
      const token = await newLink(api, 'call-form');
      const form = await get(api, `/cc/csat/survey/${token}`);
      assert.equal(form.status, 200);
      assert.match(form.text, /<form method="post" action="\/cc\/csat\/survey\/[A-Za-z0-9_-]{43}\/submit">/, 'no public_url here: the absolute path');
      assert.equal((form.text.match(/name="rating"/g) ?? []).length, 5);
      const state = await get(api, `/cc/csat/survey/${token}`, 'application/json');
      assert.deepEqual(JSON.parse(state.text), { status: 'pending', expires_at: '2026-12-06T09:00:00.000Z', scale: { min: 1, max: 5 } });

      const posted = await fetch(`${api.base}/cc/csat/survey/${token}/submit`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: 'rating=2&feedback=' + encodeURIComponent('  Waited too long <script>  '),
      });
      assert.equal(posted.status, 200);
      assert.match(await posted.text(), /You rated us 2 out of 5/);
      assert.deepEqual(await storedRating(api, 'call-form'), { score: 2, comment: 'Waited too long <script>' }, 'feedback stored as the comment, trimmed');

      const json = await newLink(api, 'call-json');
      const res = await api.request('POST', `/cc/csat/survey/${json}/submit`, { key: null, body: { rating: 5 } });
      assert.deepEqual([res.status, res.body], [201, { status: 'rated', rating: 5 }]);
      assert.deepEqual(await storedRating(api, 'call-json'), { score: 5, comment: null });
    });

    test('unknown, expired and already-rated links get a clear answer, never a stack trace; nothing is written', async () => {
      const unknown = await get(api, `/cc/csat/rate?token=${newLinkToken()}&rating=3`, 'application/json');
      assert.deepEqual([unknown.status, JSON.parse(unknown.text).status], [404, 'unknown']);
      for (const garbage of ['short', 'x'.repeat(500), '../../etc/passwd']) {
        const res = await get(api, `/cc/csat/rate?token=${encodeURIComponent(garbage)}&rating=3`);
        assert.equal(res.status, 404, garbage);
        assert.match(res.text, /not valid/);
      }
      assert.equal((await get(api, `/cc/csat/survey/${'A'.repeat(43)}`)).status, 404);
      const cut = await get(api, '/cc/csat/survey');
      assert.equal(cut.status, 404, 'a link cut before its token');
      assert.match(cut.text, /not valid/);

      const expired = await newLink(api, 'call-expired', { expiresAt: '2026-11-29T09:59:59.999Z' });
      const late = await get(api, `/cc/csat/rate?token=${expired}&rating=3`);
      assert.equal(late.status, 410);
      assert.match(late.text, /expired/);
      assert.equal((await get(api, `/cc/csat/survey/${expired}`)).status, 410);
      assert.equal(await storedRating(api, 'call-expired'), undefined);

      // Rated meanwhile another way (the API here; the IVR the same): that rating stands.
      const raced = await newLink(api, 'call-rated');
      assert.equal((await api.request('POST', '/cc/csat/call-rated', { body: { agent_id: 'agent-001', queue_id: 'sales-queue', score: 1 } })).status, 201);
      const shown = await get(api, `/cc/csat/survey/${raced}`);
      assert.equal(shown.status, 409, 'no form to fill in for a call already rated');
      assert.match(shown.text, /already been rated/);
      const res = await api.request('POST', `/cc/csat/survey/${raced}/submit`, { key: null, body: { rating: 5, feedback: 'late' } });
      assert.deepEqual([res.status, res.body.status], [409, 'already_rated']);
      assert.deepEqual(await storedRating(api, 'call-rated'), { score: 1, comment: null });
      const answers = await api.db.selectFrom('survey_answer').select('id').where('call_id', '=', 'call-rated').execute();
      assert.deepEqual(answers, [], 'no link answer beside the standing rating');
    });

    test('mistakes are 400s naming the field; nothing written', async () => {
      const token = await newLink(api, 'call-mistakes');
      const noRating = await api.request('GET', `/cc/csat/rate?token=${token}`, { key: null, headers: { accept: 'application/json' } });
      assert.equal(noRating.status, 400);
      assert.match(noRating.body.detail, /rating/);
      for (const rating of ['0', '6', '4.5', 'five', '1e1']) {
        const res = await api.request('GET', `/cc/csat/rate?token=${token}&rating=${rating}`, { key: null, headers: { accept: 'application/json' } });
        assert.equal(res.status, 400, rating);
        assert.match(res.body.detail, /rating: must be a whole number from 1 to 5/);
      }
      for (const [body, field] of [
        [{ rating: 9 }, /rating/],
        [{ rating: 3, feedback: 'x'.repeat(1001) }, /feedback: must be at most 1000 characters/],
        [{ rating: 3, extra: true }, /unknown field "extra"/],
        [{}, /rating/],
      ] as const) {
        const res = await api.request('POST', `/cc/csat/survey/${token}/submit`, { key: null, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.body.detail, field);
      }
      const malformed = await api.request('POST', `/cc/csat/survey/${token}/submit`, { key: null, rawBody: '{"rating":', headers: { 'content-type': 'application/json' } });
      assert.equal(malformed.status, 400);
      // A browser gets its mistakes as a page, not as JSON.
      const page = await get(api, `/cc/csat/rate?token=${token}&rating=9`);
      assert.equal(page.status, 400);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.text, /rating: must be a whole number from 1 to 5/);
      const big = await fetch(`${api.base}/cc/csat/survey/${token}/submit`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `rating=3&feedback=${'x'.repeat(20_000)}` });
      assert.equal(big.status, 413);
      assert.match(await big.text(), /<h1>Something is not right<\/h1>/);
      assert.equal(await storedRating(api, 'call-mistakes'), undefined);
      assert.equal((await get(api, `/cc/csat/survey/${token}`, 'application/json')).status, 200, 'the link is still usable');
    });

    test('a HEAD (a link previewer, a mail scanner) does not use the link', async () => {
      const token = await newLink(api, 'call-head');
      const head = await fetch(`${api.base}/cc/csat/rate?token=${token}&rating=1`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await storedRating(api, 'call-head'), undefined);
      assert.equal((await get(api, `/cc/csat/rate?token=${token}&rating=5`)).status, 200, 'the caller can still rate');
      assert.deepEqual(await storedRating(api, 'call-head'), { score: 5, comment: null });
    });

    test('feedback with characters a comment may not hold is a 400 naming feedback, on both databases', async () => {
      const token = await newLink(api, 'call-nul');
      for (const feedback of ['a\u0000b', 'red \u001b[31m text']) {
        const res = await api.request('POST', `/cc/csat/survey/${token}/submit`, { key: null, body: { rating: 3, feedback } });
        assert.equal(res.status, 400, JSON.stringify(feedback));
        assert.match(res.body.detail, /^invalid body: feedback: /);
      }
      const form = await fetch(`${api.base}/cc/csat/survey/${token}/submit`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'rating=3&feedback=a%00b' });
      assert.equal(form.status, 400);
      assert.equal(await storedRating(api, 'call-nul'), undefined);
    });

    test('the token never reaches the logs', async () => {
      const token = await newLink(api, 'call-logs');
      await get(api, `/cc/csat/rate?token=${token}&rating=3`);
      await get(api, `/cc/csat/rate?token=${token}&rating=3`);
      await get(api, `/cc/csat/survey/${token}`);
      const logged = JSON.stringify(api.logs.lines);
      assert.ok(api.logs.lines.some((line) => line['msg'] === 'rating stored' && line['call_id'] === 'call-logs' && line['source'] === 'link'), 'the rating is logged by call id');
      assert.equal(logged.includes(token), false, 'no token in any log line');
      assert.equal(logged.includes(tokenSha256(token)), false, 'nor its hash');
    });
  });
}

describe('rating links: one link used twice at the same moment (postgres)', { skip: DATABASES.find((each) => each.kind === 'postgres')!.skip }, () => {
  test('one rating; the other requests are told the link was used', async () => {
    const api = await startApi({ database: 'postgres', now: NOW });
    try {
      const token = await newLink(api, 'call-race');
      // Concurrent on purpose: the harness's "no transaction left open" check would see a sibling's.
      const answers = await Promise.all([1, 2, 3, 4].map((rating) => api.request('POST', `/cc/csat/survey/${token}/submit`, { key: null, body: { rating }, duringOpenTransaction: true })));
      const statuses = answers.map((res) => res.status).sort();
      assert.deepEqual(statuses, [201, 410, 410, 410]);
      const rating = await storedRating(api, 'call-race');
      assert.equal(answers.find((res) => res.status === 201)!.body.rating, rating!.score);
      // Checked once they are all done: none left a transaction open.
      assert.equal((await api.request('GET', `/cc/csat/survey/${token}`, { key: null, headers: { accept: 'application/json' } })).status, 410);
    } finally {
      await api.close();
    }
  });
});

describe('rate limits of the public link endpoints', () => {
  test('per client address: 30 one-click ratings a minute, then 429 with Retry-After; submissions 10', async () => {
    const api = await startApi({ now: NOW });
    try {
      const token = await newLink(api, 'call-limit');
      const tries = [];
      for (let i = 0; i < 31; i++) tries.push((await get(api, `/cc/csat/survey/${token}`, 'application/json')).status);
      assert.deepEqual(tries.slice(0, 30), Array(30).fill(200));
      const limited = await get(api, `/cc/csat/rate?token=${token}&rating=2`, 'application/json');
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal(await storedRating(api, 'call-limit'), undefined, 'a limited request writes nothing');
      const submits = [];
      for (let i = 0; i < 11; i++) submits.push((await api.request('POST', `/cc/csat/survey/${newLinkToken()}/submit`, { key: null, body: { rating: 3 } })).status);
      assert.deepEqual(submits, [...Array(10).fill(404), 429]);
    } finally {
      await api.close();
    }
  });

  test('the counts are bounded however many addresses come, and start again each minute', () => {
    let now = 0;
    const limiter = new AddressLimiter(2, 100, () => now);
    assert.equal(limiter.take('192.168.1.1'), 0);
    assert.equal(limiter.take('192.168.1.1'), 0);
    assert.ok(limiter.take('192.168.1.1') > 0, 'its third request in the minute is limited');
    for (let i = 0; i < 10_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
    assert.ok(limiter.size <= 100, `${limiter.size} addresses held`);
    assert.equal(limiter.take('172.16.0.1'), 0, 'a newcomer after a flood of addresses still gets its turn');
    assert.equal(limiter.take('172.16.0.1'), 0);
    assert.ok(limiter.take('172.16.0.1') > 0, 'and its own limit');
    now = 60_000;
    assert.equal(limiter.take('192.168.1.1'), 0, 'a new minute');
    assert.equal(limiter.size, 1);
    // One IPv6 host picks its addresses from a whole /64: they are one client.
    assert.equal(limiter.take('2001:db8:0:1::5'), 0);
    assert.equal(limiter.take('2001:db8:0:1:ffff::9'), 0);
    assert.ok(limiter.take('2001:0db8:0000:0001:1234:5678:9abc:def0') > 0, 'the third address of the same /64 in the minute');
    assert.equal(limiter.take('2001:db8:0:2::5'), 0, 'another /64 is another client');
    assert.equal(limiter.take('::ffff:192.168.1.1'), 0, 'an IPv4-mapped address is its IPv4 (second request)');
    assert.ok(limiter.take('192.168.1.1') > 0);
  });
});

for (const { kind, skip } of DATABASES) {
  describe(`per-question statistics by source (${kind})`, { skip }, () => {
    test('/cc/csat/questions?source=link counts the ratings given by link, source=ivr those by keys, none both', async () => {
      const api = await startApi({ database: kind, now: NOW });
      try {
        // Two callers rated by keys (5 and 4), two by link (1 and 2), all on the headline question "ask".
        for (const [callId, value] of [['call-keys-1', 5], ['call-keys-2', 4]] as const) {
          await api.storage.answers.record(
            { call_id: callId, question_id: 'ask', kind: 'csat', value, digits: String(value), recording: null, recording_ms: null, recording_format: null, recording_server: null, language: null, agent_id: 'agent-001', queue_id: 'sales-queue', ivr: 'survey', answered_at: '2026-11-29T09:00:00.000Z' },
            { call_id: callId, agent_id: 'agent-001', queue_id: 'sales-queue', score: value, comment: null, created_at: '2026-11-29T09:00:00.000Z' },
          );
        }
        for (const [callId, score] of [['call-link-1', 1], ['call-link-2', 2]] as const) {
          const token = await newLink(api, callId);
          assert.equal((await api.request('POST', `/cc/csat/survey/${token}/submit`, { key: null, body: { rating: score } })).status, 201);
        }
        await api.results.run('incremental');
        const counts = async (query: string) => {
          const res = await api.request('GET', `/cc/csat/questions?queue_id=sales-queue&days=7${query}`, { key: KEYS.reader });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          const ask = res.body.questions.find((question: any) => question.question_id === 'ask');
          return { source: res.body.source, count: ask?.count ?? 0, average: ask?.average ?? null };
        };
        assert.deepEqual(await counts(''), { source: undefined, count: 4, average: 3 });
        assert.deepEqual(await counts('&source=link'), { source: 'link', count: 2, average: 1.5 });
        assert.deepEqual(await counts('&source=ivr'), { source: 'ivr', count: 2, average: 4.5 });
        const wrong = await api.request('GET', '/cc/csat/questions?source=fax', { key: KEYS.reader });
        assert.equal(wrong.status, 400);
        assert.match(wrong.body.detail, /source/);
      } finally {
        await api.close();
      }
    });
  });
}
