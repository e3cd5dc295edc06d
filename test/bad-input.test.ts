// Bad input never gets a 500, nothing an unauthenticated client sends grows memory or metric labels,
// and whatever the IVR can store the API can query.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { KEYS, startApi, type ApiHarness } from './helpers/api.js';
import { startHarness } from './helpers/harness.js';

let api: ApiHarness;
const rating = { score: 4, agent_id: 'agent-1', queue_id: 'sales-queue' };
const ratingCount = () => (api.database.sqlite.prepare('SELECT count(*) AS n FROM cc_csat').get() as { n: number }).n;
/** Log lines above debug: a client's mistake must not reach them. */
const loudLines = () => api.logs.lines.filter((line) => (line['level'] as number) > 20);

/** A request with the path exactly as written (fetch would normalise "." and ".."). */
function rawRequest(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const url = new URL(api.base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { 'x-api-key': KEYS.all, ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('bad input is a 4xx that names the problem', () => {
  before(async () => {
    api = await startApi();
  });
  after(async () => {
    await api.close();
  });

  test('broken percent-encoding in a path: 400 JSON, logged at most at debug', async () => {
    const before = loudLines().length;
    for (const path of ['/cc/csat/%zz', '/cc/csat/%', '/cc/csat/%FF', '/cc/csat/%ED%A0%80', '/cc/csat/agent/%E0%A4%A']) {
      for (const method of ['GET', 'POST']) {
        const res = await rawRequest(method, path, method === 'POST' ? JSON.stringify(rating) : undefined, { 'content-type': 'application/json' });
        assert.equal(res.status, 400, `${method} ${path}`);
        assert.match(res.body.detail, /percent-encoding/);
      }
    }
    assert.equal(loudLines().length, before);
    assert.equal(ratingCount(), 0);
  });

  test('a body that does not decompress (Content-Encoding on plain bytes): 400 JSON, nothing written', async () => {
    const before = loudLines().length;
    for (const encoding of ['br', 'gzip', 'deflate']) {
      const res = await api.request('POST', '/cc/csat/compressed', { body: rating, headers: { 'content-encoding': encoding } });
      assert.equal(res.status, 400, encoding);
      assert.equal(typeof res.body.detail, 'string');
    }
    assert.equal(loudLines().length, before);
    assert.equal(ratingCount(), 0);
  });

  test('/metrics labels come from a closed set: thousands of malformed requests to random paths add no series', async () => {
    const seriesCount = async () => (await api.metrics.registry.getSingleMetricAsString('cc_csat_http_requests_total')).split('\n').filter((line) => line.startsWith('cc_csat_http_requests_total{')).length;
    const paths = Array.from({ length: 400 }, (_, i) => `/junk-${i}-${Math.random().toString(36).slice(2)}`);
    for (const [i, path] of paths.entries()) {
      const kind = i % 4;
      if (kind === 0) await rawRequest('POST', `${path}/%zz`, '{', { 'content-type': 'application/json' });
      else if (kind === 1) await api.request('POST', path, { rawBody: '{"broken', headers: { 'content-type': 'application/json' }, key: null });
      else if (kind === 2) await api.request('POST', path, { body: rating, headers: { 'content-encoding': 'gzip' }, key: null });
      else await api.request('GET', path, { key: null });
    }
    const afterJunk = await seriesCount();
    const text = await api.metrics.registry.metrics();
    assert.ok(!text.includes('junk-'), 'no raw path in any label');
    // Another round of different random junk: the series set does not grow.
    for (let i = 0; i < 100; i++) await api.request('POST', `/more-junk-${i}/%zz`, { rawBody: '{', headers: { 'content-type': 'application/json' }, key: null });
    assert.equal(await seriesCount(), afterJunk);
  });

  test('comment: invalid Unicode and invisible or control characters are refused naming the character and where', async () => {
    const cases: Array<[string, RegExp]> = [
      ['"ok \\ud800 then"', /U\+D800 at position 4/],
      ['"nul\\u0000byte"', /U\+0000 at position 4/],
      ['"\\u001b[31mred"', /U\+001B at position 1/],
      ['"abc\\u202Edcba"', /U\+202E at position 4/],
      ['"zero\\u200Bwidth"', /U\+200B at position 5/],
    ];
    for (const [comment, expected] of cases) {
      const res = await api.request('POST', '/cc/csat/bad-comment', {
        rawBody: `{"score":4,"agent_id":"agent-1","queue_id":"sales-queue","comment":${comment}}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 400, comment);
      assert.equal(res.body.issues[0].path, 'comment');
      assert.match(res.body.issues[0].message, expected);
    }
    assert.equal(ratingCount(), 0);
    const fine = await api.request('POST', '/cc/csat/good-comment', { body: { ...rating, comment: 'Great 👩‍💻 help\nthanks\tagain' } });
    assert.equal(fine.status, 201);
    assert.equal(fine.body.comment, 'Great 👩‍💻 help\nthanks\tagain');
  });

  test('identifiers: control and invisible characters refused in call, agent and queue ids; inner spaces allowed', async () => {
    for (const [field, value] of [
      ['agent_id', 'agent\u0000x'],
      ['agent_id', 'agent\u202Ex'],
      ['queue_id', 'sales\u200Bqueue'],
      ['agent_id', '\ud800'],
      ['agent_id', ' padded'],
      ['agent_id', 'Jose\u0301 Ruiz'],
      ['agent_id', 'José\u00A0Ruiz'],
      ['agent_id', 'agent\u3164'],
    ] as const) {
      const res = await api.request('POST', '/cc/csat/bad-id', { body: { ...rating, [field]: value } });
      assert.equal(res.status, 400, JSON.stringify(value));
      assert.equal(res.body.issues[0].path, field);
    }
    const tab = await api.request('POST', `/cc/csat/${encodeURIComponent('call\tid')}`, { body: rating });
    assert.equal(tab.status, 400);
    assert.equal(tab.body.issues[0].path, 'call_id');

    const spaced = await api.request('POST', '/cc/csat/spaced-1', { body: { ...rating, agent_id: 'Alice Smith' } });
    assert.equal(spaced.status, 201);
    await api.results.run();
    const stats = await api.request('GET', `/cc/csat/agent/${encodeURIComponent('Alice Smith')}`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.count, 1);
    const listed = await api.request('GET', `/cc/csat/responses?agent_id=${encodeURIComponent('Alice Smith')}`);
    assert.deepEqual(listed.body.items.map((item: { call_id: string }) => item.call_id), ['spaced-1']);
  });

  test('call ids that could not be read back are reserved: responses, agent, queue, ".", ".."', async () => {
    for (const path of ['/cc/csat/responses', '/cc/csat/agent', '/cc/csat/queue', '/cc/csat/.', '/cc/csat/..', '/cc/csat/%2E', '/cc/csat/%2E%2E']) {
      const res = await rawRequest('POST', path, JSON.stringify(rating), { 'content-type': 'application/json' });
      assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`);
      assert.equal(typeof res.body.detail, 'string');
    }
    const reserved = await rawRequest('POST', '/cc/csat/responses', JSON.stringify(rating), { 'content-type': 'application/json' });
    assert.equal(reserved.status, 400);
    assert.match(reserved.body.detail, /reserved/);
    assert.equal((api.database.sqlite.prepare("SELECT count(*) AS n FROM cc_csat WHERE call_id IN ('responses', 'agent', 'queue', '.', '..')").get() as { n: number }).n, 0);
  });

  test('dates out of range and numbers not in decimal are 400, never reinterpreted', async () => {
    for (const query of ['to=9999-12-31', 'from=1969-12-31', 'to=3000-01-01', 'days=0x10', 'days=1e1', 'days=%2B5', 'days=16.0', 'days=%2016']) {
      const res = await api.request('GET', `/cc/csat/queue/sales-queue?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(typeof res.body.detail, 'string');
    }
    for (const query of ['limit=0x10', 'offset=1e3', 'limit=-1', 'offset=0b1']) {
      assert.equal((await api.request('GET', `/cc/csat/responses?${query}`)).status, 400, query);
    }
    const widest = await api.request('GET', '/cc/csat/queue/sales-queue?period=month&from=2990-01-01&to=2999-12-31');
    assert.equal(widest.status, 200);
    assert.equal(widest.body.to, '2999-12-31');
  });
});

describe('the HTTP layer itself', () => {
  before(async () => {
    api = await startApi();
  });
  after(async () => {
    await api.close();
  });

  test('routes are case-sensitive: call id RESPONSES is a rating of its own and reads back', async () => {
    const stored = await rawRequest('POST', '/cc/csat/RESPONSES', JSON.stringify(rating), { 'content-type': 'application/json' });
    assert.equal(stored.status, 201);
    const read = await rawRequest('GET', '/cc/csat/RESPONSES');
    assert.equal(read.status, 200);
    assert.equal(read.body.call_id, 'RESPONSES');
    assert.equal((await rawRequest('GET', '/CC/CSAT/responses')).status, 404);
  });

  test('an unauthenticated client gets its 401 whatever its body: nothing of it is parsed', async () => {
    for (const [body, headers] of [
      ['{', { 'content-type': 'application/json' }],
      ['x'.repeat(20_000), { 'content-type': 'application/json' }],
      ['plain', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ] as const) {
      const res = await api.request('POST', '/cc/csat/no-key', { key: null, rawBody: body, headers: { ...headers } });
      assert.equal(res.status, 401, body.slice(0, 10));
    }
  });

  test('a body that is not UTF-8 is refused, not stored with replacement characters', async () => {
    const bytes = Buffer.concat([Buffer.from('{"score":4,"agent_id":"ag'), Buffer.from([0xff, 0xfe]), Buffer.from('","queue_id":"sales-queue"}')]);
    const res = await rawRequest('POST', '/cc/csat/not-utf8', bytes as unknown as string, { 'content-type': 'application/json' });
    assert.equal(res.status, 400);
    assert.match(res.body.detail, /UTF-8/);
    assert.equal((api.database.sqlite.prepare("SELECT count(*) AS n FROM cc_csat WHERE call_id = 'not-utf8'").get() as { n: number }).n, 0);
  });

  test('a parameter given twice is a 400 naming it; valid JSON that is not an object says so', async () => {
    const twice = await api.request('GET', '/cc/csat/responses?limit=1&limit=2');
    assert.equal(twice.status, 400);
    assert.deepEqual(twice.body.issues, [{ path: 'limit', message: 'limit is given more than once' }]);
    for (const body of ['"x"', '5', 'null']) {
      const res = await api.request('POST', '/cc/csat/scalar', { rawBody: body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.detail, 'body must be a JSON object');
    }
    const missing = await api.request('POST', '/cc/csat/no-score', { body: { agent_id: 'a', queue_id: 'sales-queue' } });
    assert.deepEqual(missing.body.issues, [{ path: 'score', message: 'score is required' }]);
  });

  test("requests Node's HTTP parser refuses are answered in JSON too", async () => {
    const { connect } = await import('node:net');
    const url = new URL(api.base);
    const send = (raw: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => socket.end(raw));
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
    const huge = await send(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    const bad = await send('GET /cc/csat/caf\u00e9 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 /);
    for (const answer of [huge, bad]) assert.equal(typeof JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).detail, 'string');
  });
});

describe('/responses pages by cursor', () => {
  before(async () => {
    api = await startApi({ now: new Date('2026-11-20T12:00:00.000Z') });
    const insert = api.database.sqlite.prepare('INSERT INTO cc_csat (call_id, agent_id, queue_id, score, created_at) VALUES (?, ?, ?, ?, ?)');
    // 130 ratings, some sharing a timestamp: the cursor must order by (created_at, id), not created_at alone.
    for (let i = 0; i < 130; i++) {
      insert.run(`page-${i}`, i % 2 ? 'agent-odd' : 'agent-even', 'sales-queue', (i % 5) + 1, new Date(Date.UTC(2026, 10, 1, 0, 0, Math.floor(i / 3))).toISOString());
    }
  });
  after(async () => {
    await api.close();
  });

  test('following next_cursor visits every rating once, newest first, with the total on every page', async () => {
    const expected = (api.database.sqlite.prepare('SELECT call_id FROM cc_csat ORDER BY created_at DESC, id DESC').all() as Array<{ call_id: string }>).map((row) => row.call_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const res: { status: number; body: any } = await api.request('GET', `/cc/csat/responses?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.total, 130);
      seen.push(...res.body.items.map((item: { call_id: string }) => item.call_id));
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, expected);
    const filtered: string[] = [];
    cursor = null;
    for (let pages = 0; pages < 10; pages++) {
      const res: { status: number; body: any } = await api.request('GET', `/cc/csat/responses?agent_id=agent-odd&limit=20${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.body.total, 65);
      filtered.push(...res.body.items.map((item: { call_id: string }) => item.call_id));
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    assert.deepEqual(filtered, expected.filter((id) => Number(id.slice(5)) % 2 === 1));
  });

  test('offset stays for shallow pages; past 10,000 it is a 400 pointing at the cursor; a forged cursor is a 400', async () => {
    const shallow = await api.request('GET', '/cc/csat/responses?limit=10&offset=120');
    assert.equal(shallow.status, 200);
    assert.equal(shallow.body.items.length, 10);
    assert.equal(shallow.body.offset, 120);
    const deep = await api.request('GET', '/cc/csat/responses?offset=999800');
    assert.equal(deep.status, 400);
    assert.equal(deep.body.issues[0].path, 'offset');
    for (const cursor of ['not-a-cursor!', Buffer.from('2026-11-01|x').toString('base64url'), Buffer.from("x' OR 1=1 --|5").toString('base64url')]) {
      const res = await api.request('GET', `/cc/csat/responses?cursor=${encodeURIComponent(cursor)}`);
      assert.equal(res.status, 400, cursor);
      assert.match(res.body.detail, /cursor/);
    }
    const page = await api.request('GET', '/cc/csat/responses?limit=5');
    const both = await api.request('GET', `/cc/csat/responses?cursor=${page.body.next_cursor}&offset=5`);
    assert.equal(both.status, 400);
  });
});

describe('ratings for queues that are not configured', () => {
  test('refused with a 400 listing the known queues, unless [api] allow_unknown_queues = true', async () => {
    const strict = await startApi();
    try {
      const res = await strict.request('POST', '/cc/csat/typo-1', { body: { ...rating, queue_id: 'sales-queu' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.issues[0].path, 'queue_id');
      assert.match(res.body.detail, /sales-queue/);
      assert.equal((strict.database.sqlite.prepare('SELECT count(*) AS n FROM cc_csat').get() as { n: number }).n, 0);
    } finally {
      await strict.close();
    }
    const open = await startApi({ apiExtra: 'allow_unknown_queues = true' });
    try {
      assert.equal((await open.request('POST', '/cc/csat/typo-1', { body: { ...rating, queue_id: 'legacy-queue' } })).status, 201);
    } finally {
      await open.close();
    }
  });
});

describe('the IVR admits only identities the API can store and query', () => {
  test('a call id over the limit or an agent with control characters is skipped at admission, before the caller is asked anything', async () => {
    const h = await startHarness();
    try {
      const longCall = await h.call({ args: ['c'.repeat(200), 'agent-1', 'sales-queue'] });
      const badAgent = await h.call({ args: ['ok-call', 'agent\u001bx', 'sales-queue'] });
      const spaced = await h.call({ args: ['spaced-call', 'Alice Smith', 'sales-queue'], script: [{ whenPlaying: 'rate-intro', after: 20, press: '1' }] });
      for (const caller of [longCall, badAgent]) {
        assert.equal(caller.endedBy, 'continued', 'sent back to the dialplan');
        assert.deepEqual(caller.played, [], 'never asked to press a key');
      }
      const outcomes = h.database.sqlite.prepare("SELECT outcome, reason FROM survey_outcome WHERE outcome = 'skipped' ORDER BY id").all() as Array<{ outcome: string; reason: string }>;
      assert.deepEqual(outcomes.map((row) => row.reason.split(':')[0]), ['invalid_call_id', 'invalid_agent_id']);
      assert.equal(spaced.endedBy, 'app_hangup');
      assert.deepEqual(h.database.sqlite.prepare('SELECT call_id, agent_id FROM cc_csat').all(), [{ call_id: 'spaced-call', agent_id: 'Alice Smith' }]);
    } finally {
      await h.close();
    }
  });
});
