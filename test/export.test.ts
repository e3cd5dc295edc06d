// GET /cc/csat/export and its audit trail (GET /cc/csat/exports): the rows as seeded, in CSV (RFC 4180)
// and NDJSON, numbers masked in comments, formulas defused, comments left out on request, every export
// recorded (aborted when the client goes away), scopes, and nothing recorded for a refused request.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import type { Rating } from '../src/db/schema.js';
import { KeyRing, RateLimiter } from '../src/http/auth.js';
import { errorHandler } from '../src/http/errors.js';
import { exportRoutes } from '../src/http/export-routes.js';
import { createLogger } from '../src/log.js';
import { ZoneCalendar } from '../src/results/zone.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExportsPage } from '../src/http/schemas.js';
import { DATABASES, KEYS, startApi, type ApiHarness } from './helpers/api.js';
import { seedSurveyCalls, surveyCalls, type SeededCall } from './helpers/survey-seed.js';
import { within } from './helpers/wait.js';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const TEAMS = `
[[team]]
id = "north"
agents = ["agent-001", "agent-002"]
`;

// Each comment and what an export must show of it (written by hand from the rules, not by the code).
const COMMENTS: Array<[string | null, string | null]> = [
  [null, null],
  ['Great service', 'Great service'],
  ['call me back on 0612345678 please', 'call me back on [number] please'],
  ['my number is +1 (555) 123-4567, thanks', 'my number is [number], thanks'],
  ['order 123456 is late', 'order 123456 is late'],
  ['=HYPERLINK("http://evil.example","click")', '=HYPERLINK("http://evil.example","click")'],
  ['-2+3 stars', '-2+3 stars'],
  ['@SUM(A1)', '@SUM(A1)'],
  ['line one\nline "two", with comma', 'line one\nline "two", with comma'],
  ['', ''],
];
// The cells a CSV export holds for a text that a spreadsheet would run as a formula.
const FORMULA_CELLS: Record<string, string> = {
  '=HYPERLINK("http://evil.example","click")': `'=HYPERLINK("http://evil.example","click")`,
  '-2+3 stars': `'-2+3 stars`,
  '@SUM(A1)': `'@SUM(A1)`,
};

// 40 calls in the last 30 days (up to yesterday), 6 older ones.
const recent = surveyCalls({
  count: 40,
  agents: ['agent-001', 'agent-002', '+agent-003'],
  queues: ['sales-queue', 'support-queue'],
  startMs: Date.parse('2026-10-23T08:00:00.000Z'),
  stepMs: 17 * 3_600_000,
  prefix: 'ex',
  comment: (i) => COMMENTS[i % COMMENTS.length]![0],
});
const old = surveyCalls({ count: 6, agents: ['agent-001'], queues: ['sales-queue'], startMs: Date.parse('2026-08-01T08:00:00.000Z'), stepMs: 86_400_000, prefix: 'old' });
const maskedOf = new Map(COMMENTS);

/** RFC 4180 records of a CSV text (CRLF line ends, "" inside quotes), parsed independently of the server. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      assert.notEqual(c, '\n', 'a bare LF outside quotes: records end with CRLF');
      field += c;
      i++;
    }
  }
  assert.equal(field, '', 'the last record ends with CRLF');
  assert.equal(record.length, 0);
  return records;
}

const csvText = (value: string): string => FORMULA_CELLS[value] ?? (/^[=+\-@]/.test(value) ? `'${value}` : value);

function expectedCsv(selected: readonly SeededCall[], ids: Map<string, number>, withComments: boolean): string[][] {
  return selected.map((call) => [
    String(ids.get(call.call_id)),
    call.call_id,
    call.created_at,
    csvText(call.agent_id),
    call.queue_id,
    String(call.score),
    ...(withComments ? [call.comment === null ? '' : csvText(maskedOf.get(call.comment)!)] : []),
    call.answers.map((answer) => `${answer.question_id}=${answer.value ?? ''}`).join(';'),
  ]);
}

let api: ApiHarness;
let ids: Map<string, number>;

const exportRows = async () => Number((await api.db.selectFrom('csat_export').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const newestExport = async () => api.db.selectFrom('csat_export').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
/** The newest audit row once its export has ended: the row is updated just after the last byte went out. */
async function lastExport() {
  const deadline = Date.now() + 10_000;
  let row = await newestExport();
  while (row.status === 'running' && Date.now() < deadline) {
    await sleep(20);
    row = await newestExport();
  }
  return row;
}

for (const { kind, skip } of DATABASES) {
  describe(`export on ${kind}`, { skip }, () => {
    before(async () => {
      api = await startApi({ database: kind, now: NOW, teams: TEAMS });
      await seedSurveyCalls(api.db, [...old, ...recent]);
      ids = new Map((await api.db.selectFrom('cc_csat').select(['call_id', 'id']).execute()).map((row) => [row.call_id, Number(row.id)]));
    });
    after(async () => {
      await api.close();
    });

    test('CSV: a header, then every rating of the last 30 days oldest first, as seeded, numbers masked, formulas defused', async () => {
      const res = await fetch(`${api.base}/cc/csat/export?format=csv`, { headers: { 'x-api-key': KEYS.reporting } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/csv; charset=utf-8/);
      assert.match(res.headers.get('content-disposition')!, /^attachment; filename="csat-2026-10-22-2026-11-20\.csv"$/);
      const [header, ...rows] = parseCsv(await res.text());
      assert.deepEqual(header, ['id', 'call_id', 'created_at', 'agent_id', 'queue_id', 'score', 'comment', 'answers']);
      assert.deepEqual(rows, expectedCsv(recent, ids, true));
      const audit = await lastExport();
      assert.deepEqual(
        { key: audit.key_name, format: audit.format, rows: Number(audit.rows), status: audit.status, filters: JSON.parse(audit.filters) },
        { key: 'reporting', format: 'csv', rows: recent.length, status: 'completed', filters: { from: '2026-10-22', to: '2026-11-20', include_comments: true } },
      );
      assert.ok(audit.finished_at !== null);
    });

    test('NDJSON: one object per line, answers as {question_id, kind, value}; a range and a team narrow it', async () => {
      const res = await fetch(`${api.base}/cc/csat/export?format=ndjson&from=2026-08-01&to=2026-11-01&team_id=north`, { headers: { 'x-api-key': KEYS.admin } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^application\/x-ndjson/);
      const text = await res.text();
      assert.ok(text.endsWith('\n'));
      const lines = text.slice(0, -1).split('\n').map((line) => JSON.parse(line));
      const selected = [...old, ...recent].filter((call) => ['agent-001', 'agent-002'].includes(call.agent_id) && call.created_at < '2026-11-02');
      assert.ok(selected.length > 6);
      assert.deepEqual(
        lines,
        selected.map((call) => ({
          id: ids.get(call.call_id),
          call_id: call.call_id,
          created_at: call.created_at,
          agent_id: call.agent_id,
          queue_id: call.queue_id,
          score: call.score,
          comment: call.comment === null ? null : (maskedOf.get(call.comment) ?? call.comment),
          answers: call.answers.map((answer) => ({ question_id: answer.question_id, kind: answer.kind, value: answer.value })),
        })),
      );
      const audit = await lastExport();
      assert.deepEqual(JSON.parse(audit.filters), { from: '2026-08-01', to: '2026-11-01', team_id: 'north', include_comments: true });
      assert.equal(Number(audit.rows), selected.length);
    });

    test('include_comments=false leaves the comment column out (CSV and NDJSON); queue_id narrows', async () => {
      const csv = await api.request('GET', '/cc/csat/export?include_comments=false&queue_id=support-queue', { key: KEYS.admin });
      const [header, ...rows] = parseCsv(csv.body);
      assert.deepEqual(header, ['id', 'call_id', 'created_at', 'agent_id', 'queue_id', 'score', 'answers']);
      assert.deepEqual(rows, expectedCsv(recent.filter((call) => call.queue_id === 'support-queue'), ids, false));
      const ndjson = await api.request('GET', '/cc/csat/export?format=ndjson&include_comments=false', { key: KEYS.admin });
      const lines = (ndjson.body as string).trim().split('\n').map((line) => JSON.parse(line));
      assert.equal(lines.length, recent.length);
      assert.ok(lines.every((line) => !('comment' in line)));
    });

    test('a range with no ratings: the header only, recorded with 0 rows', async () => {
      const res = await api.request('GET', '/cc/csat/export?from=2020-01-01&to=2020-01-31', { key: KEYS.admin });
      assert.equal(res.status, 200);
      assert.deepEqual(parseCsv(res.body), [['id', 'call_id', 'created_at', 'agent_id', 'queue_id', 'score', 'comment', 'answers']]);
      const audit = await lastExport();
      assert.equal(Number(audit.rows), 0);
      assert.equal(audit.status, 'completed');
    });

    test('scopes: a read-only key gets 403 naming csat:export; /exports needs csat:admin', async () => {
      const before = await exportRows();
      const res = await api.request('GET', '/cc/csat/export', { key: KEYS.reader });
      assert.equal(res.status, 403);
      assert.equal(res.body.detail, 'API key "reader" lacks scope csat:export');
      assert.equal((await api.request('GET', '/cc/csat/export', { key: KEYS.agent })).status, 403);
      assert.equal((await api.request('GET', '/cc/csat/export', { key: null })).status, 401);
      const list = await api.request('GET', '/cc/csat/exports', { key: KEYS.reporting });
      assert.equal(list.status, 403);
      assert.equal(list.body.detail, 'API key "reporting" lacks scope csat:admin');
      assert.equal(await exportRows(), before, 'a refused export is not recorded (nothing was exported)');
    });

    test('400 naming the field, and nothing recorded', async () => {
      const before = await exportRows();
      const cases: Array<[string, string]> = [
        ['format=xlsx', 'format'],
        ['from=2026-11-10&to=2026-11-01', 'from'],
        ['from=2026-11-25', 'from'],
        ['from=2010-01-01&to=2026-11-20', 'from'],
        ['queue_id=sales-queue&agent_id=agent-001', 'queue_id'],
        ['team_id=south', 'team_id'],
        ['include_comments=no', 'include_comments'],
        ['to=2026-13-01', 'to'],
        ['format=csv&format=ndjson', 'format'],
      ];
      for (const [query, field] of cases) {
        const res = await api.request('GET', `/cc/csat/export?${query}`, { key: KEYS.admin });
        assert.equal(res.status, 400, query);
        assert.ok(res.body.issues.some((issue: { path: string }) => issue.path === field), `${query}: ${JSON.stringify(res.body)}`);
      }
      assert.equal(await exportRows(), before);
    });

    test('/exports lists the audit trail newest first, with key, format, filters, rows and status; pages by cursor', async () => {
      await lastExport();
      const all = await api.db.selectFrom('csat_export').selectAll().orderBy('id', 'desc').execute();
      assert.ok(all.every((row) => row.status !== 'running'));
      const first = await api.request('GET', '/cc/csat/exports?limit=2', { key: KEYS.admin });
      assert.equal(first.status, 200);
      ExportsPage.parse(first.body);
      const items = [...first.body.items];
      let cursor = first.body.next_cursor;
      for (let pages = 0; cursor !== null; pages++) {
        assert.ok(pages < 50);
        const next = await api.request('GET', `/cc/csat/exports?limit=2&cursor=${cursor}`, { key: KEYS.admin });
        items.push(...next.body.items);
        cursor = next.body.next_cursor;
      }
      assert.deepEqual(
        items,
        all.map((row) => ({
          id: Number(row.id),
          key_name: row.key_name,
          format: row.format,
          filters: JSON.parse(row.filters),
          rows: Number(row.rows),
          status: row.status,
          started_at: row.started_at,
          finished_at: row.finished_at,
        })),
      );
      assert.ok(items.length >= 4);
      assert.deepEqual(items.map((item) => item.key_name).reverse().slice(0, 2), ['reporting', 'admin']);
      const bad = await api.request('GET', '/cc/csat/exports?cursor=nonsense!', { key: KEYS.admin });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.issues[0].path, 'cursor');
    });

    test('a client that goes away mid-export stops it: recorded as aborted with fewer rows', async () => {
      const many = surveyCalls({
        count: 20_000,
        agents: ['agent-009'],
        queues: ['sales-queue'],
        startMs: Date.parse('2026-11-19T00:00:00.000Z'),
        stepMs: 1000,
        prefix: 'bulk',
        comment: () => 'x'.repeat(400),
      });
      await seedSurveyCalls(api.db, many);
      const controller = new AbortController();
      const res = await fetch(`${api.base}/cc/csat/export?agent_id=agent-009`, { headers: { 'x-api-key': KEYS.admin }, signal: controller.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      const audit = await lastExport();
      assert.equal(audit.status, 'aborted');
      assert.ok(Number(audit.rows) < many.length, `${audit.rows} rows`);
      assert.ok(audit.finished_at !== null);
      // The server goes on serving.
      assert.equal((await within(api.request('GET', '/cc/csat/exports?limit=1', { key: KEYS.admin }), 10_000, 'a request after the abort')).status, 200);
    });
  });
}

describe('export failing mid-stream', () => {
  test('the database failing after the first page: the transfer is cut short, the audit row says failed', async () => {
    const finished: Array<{ id: number; status: string; rows: number }> = [];
    const rating = (id: number): Rating => ({ id, call_id: `c-${id}`, agent_id: 'a', queue_id: 'q', score: 4, comment: null, created_at: `2026-11-19T10:00:0${id}.000Z` });
    const app = express();
    app.use(
      exportRoutes({
        ratings: {
          exportPage: async (_filter, after) => {
            if (after) throw new Error('connection lost');
            return [rating(1), rating(2)];
          },
        },
        answers: { forCalls: async () => [] },
        audit: {
          start: async () => 7,
          finish: async (id, outcome) => {
            finished.push({ id, status: outcome.status, rows: outcome.rows });
          },
          list: async () => [],
        },
        pageSize: 2,
        zone: new ZoneCalendar('UTC'),
        teams: () => new Map(),
        keyRing: new KeyRing([{ name: 'x', key_sha256: createHash('sha256').update('k').digest('hex'), scopes: ['csat:export'] }], 100),
        limiter: new RateLimiter(),
        now: () => NOW,
        log: createLogger('silent'),
      }),
    );
    app.use(errorHandler(createLogger('silent')));
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/cc/csat/export`, { headers: { 'x-api-key': 'k' } });
      assert.equal(res.status, 200);
      // The connection is cut: reading the body fails (not a timeout, not a short body that looks whole).
      await assert.rejects(within(res.text(), 10_000, 'the cut-off body'), (err: Error) => !/timed out/.test(err.message));
      await within(
        (async () => {
          while (finished.length === 0) await sleep(10);
        })(),
        10_000,
        'the audit update',
      );
      assert.deepEqual(finished, [{ id: 7, status: 'failed', rows: 2 }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

