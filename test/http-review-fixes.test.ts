// Review findings in the HTTP layer: an export whose first page cannot be read answers 503 (not a reset
// connection) and is recorded as failed; a cursor naming an impossible instant is a 400; a `days` range
// too long names `days`; caller numbers with wide separators or non-ASCII digits are masked in exports;
// the statistics answer cache is bounded in bytes, not only in entries.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import express from 'express';
import pg from 'pg';
import { maskNumbers } from '../src/http/export-format.js';
import { SnapshotCache, snapshotAnswerer, type CachedAnswer } from '../src/http/snapshot-cache.js';
import type { RatingStore } from '../src/storage/ports.js';
import { DATABASES, KEYS, startApi, type ApiHarness, type DatabaseKind } from './helpers/api.js';
import { seedSurveyCalls, surveyCalls } from './helpers/survey-seed.js';
import { within } from './helpers/wait.js';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const TEAMS = `
[[team]]
id = "north"
agents = ["agent-001", "agent-002"]
`;
const calls = surveyCalls({
  count: 12,
  agents: ['agent-001', 'agent-002'],
  queues: ['sales-queue'],
  startMs: Date.parse('2026-11-10T08:00:00.000Z'),
  stepMs: 5 * 3_600_000,
  prefix: 'rv',
});

/** Another PostgreSQL session (an operator's psql, a migration) holding `lockSql` in an open transaction. */
async function holdPostgresLock(api: ApiHarness, lockSql: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: (api.config.database as { url: string }).url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query(lockSql);
  return {
    async release() {
      try {
        await client.query('ROLLBACK');
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * cc_csat unreadable while the export's audit row can still be written. PostgreSQL: a session holds
 * cc_csat in ACCESS EXCLUSIVE mode (the export's read waits lock_wait_ms, then "locked"). SQLite reads
 * and writes share one connection, and no lock blocks its reads without blocking the audit write before
 * them: there the ratings read fails as better-sqlite3 reports another process's exclusive lock.
 */
async function ratingsUnreadable(kind: DatabaseKind, api: ApiHarness): Promise<{ release(): Promise<void> }> {
  if (kind === 'postgres') return holdPostgresLock(api, 'LOCK TABLE cc_csat IN ACCESS EXCLUSIVE MODE');
  const ratings = api.storage.ratings as { exportPage: RatingStore['exportPage'] };
  const real = ratings.exportPage;
  ratings.exportPage = async () => {
    throw new Database.SqliteError('database is locked', 'SQLITE_BUSY');
  };
  return {
    async release() {
      ratings.exportPage = real;
    },
  };
}

const cursorOf = (text: string): string => Buffer.from(text).toString('base64url');

for (const { kind, skip } of DATABASES) {
  describe(`review fixes on ${kind}`, { skip }, () => {
    let api: ApiHarness;
    before(async () => {
      api = await startApi({ database: kind, now: NOW, teams: TEAMS, databaseExtra: 'lock_wait_ms = 300' });
      await seedSurveyCalls(api.db, calls);
    });
    after(async () => {
      await api.close();
    });

    test('export: the first page unreadable is a 503 JSON {detail} with Retry-After, recorded as failed with 0 rows; then it works again', async () => {
      for (const format of ['csv', 'ndjson']) {
        const unreadable = await ratingsUnreadable(kind, api);
        let refused;
        try {
          refused = await within(
            api.request('GET', `/cc/csat/export?format=${format}`, { key: KEYS.admin, duringOpenTransaction: true }),
            10_000,
            'the export to answer',
          );
        } finally {
          await unreadable.release();
        }
        assert.equal(refused.status, 503, `${format}: ${JSON.stringify(refused.body)}`);
        assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
        assert.match(refused.body.detail, /locked/);
        assert.equal(refused.headers.get('retry-after'), '1');
        assert.equal(refused.headers.get('content-disposition'), null, 'no attachment: nothing was exported');

        const audit = await api.request('GET', '/cc/csat/exports?limit=1', { key: KEYS.admin });
        assert.equal(audit.status, 200);
        const [record] = audit.body.items;
        assert.equal(record.format, format);
        assert.equal(record.status, 'failed');
        assert.equal(record.rows, 0);
        assert.notEqual(record.finished_at, null);
      }

      const served = await api.request('GET', '/cc/csat/export?format=ndjson', { key: KEYS.admin });
      assert.equal(served.status, 200);
      assert.equal(String(served.body).trim().split('\n').length, calls.length);
      const audit = await api.request('GET', '/cc/csat/exports?limit=3', { key: KEYS.admin });
      assert.deepEqual(
        audit.body.items.map((item: { status: string; rows: number }) => [item.status, item.rows]),
        [
          ['completed', calls.length],
          ['failed', 0],
          ['failed', 0],
        ],
      );
    });

    test('a cursor naming an impossible instant is a 400 naming cursor, not a database error; a real next_cursor still pages', async () => {
      for (const forged of ['2026-13-45T99:99:99.999Z|5', '2026-02-30T10:00:00.000Z|5', '2026-11-20T24:00:00.000Z|5', '0000-00-00T00:00:00.000Z|1']) {
        const res = await api.request('GET', `/cc/csat/responses?cursor=${cursorOf(forged)}`);
        assert.equal(res.status, 400, `${forged}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.detail, /cursor/);
        assert.equal(res.body.issues[0].path, 'cursor');
      }
      const first = await api.request('GET', '/cc/csat/responses?limit=5');
      assert.equal(first.status, 200);
      const second = await api.request('GET', `/cc/csat/responses?limit=5&cursor=${first.body.next_cursor}`);
      assert.equal(second.status, 200);
      assert.equal(second.body.items.length, 5);
    });

    test('a range longer than the period allows names days when it came from days, from when from/to gave it', async () => {
      const routes = ['/cc/csat/agent/agent-001', '/cc/csat/queue/sales-queue', '/cc/csat/team/north', '/cc/csat/questions', '/cc/csat/funnel'];
      for (const route of routes) {
        for (const [query, field] of [
          ['days=800', 'days'],
          ['days=800&to=2026-11-01', 'days'],
          ['period=day&days=3000', 'days'],
          ['from=2020-01-01&to=2026-11-01', 'from'],
          ['from=2020-01-01', 'from'],
        ] as const) {
          const res = await api.request('GET', `${route}?${query}`);
          assert.equal(res.status, 400, `${route}?${query}: ${JSON.stringify(res.body)}`);
          assert.deepEqual(
            res.body.issues.map((issue: { path: string }) => issue.path),
            [field],
            `${route}?${query}`,
          );
          assert.match(res.body.issues[0].message, /at most 731 days/);
          assert.match(res.body.detail, new RegExp(`^invalid query: ${field}: `));
        }
        // Within the limit for weeks, the same days are fine.
        assert.equal((await api.request('GET', `${route}?period=week&days=800`)).status, 200, route);
      }
    });
  });
}

describe('export masking of caller numbers', () => {
  test('numbers with up to three separators between digits, and digits of any script, are masked', () => {
    const cases: Array<[string, string]> = [
      ['call +33 - 6 12 34 56 78 now', 'call [number] now'],
      ['06 . 12 . 34 . 56 . 78', '[number]'],
      ['(0)6-12 34 56 78', '([number]'],
      ['+1 (555) 123-4567', '[number]'],
      ['0612345678', '[number]'],
      ['06/12/34/56/78', '[number]'],
      ['full width ０６１２３４５６７８ here', 'full width [number] here'],
      ['full width spaced ０６ １２ ３４ ５６ ７８', 'full width spaced [number]'],
      ['arabic-indic ٠٦١٢٣٤٥٦٧٨', 'arabic-indic [number]'],
      ['eastern arabic ۰۶۱۲۳۴۵۶۷۸', 'eastern arabic [number]'],
      ['devanagari ०६१२३४५६७८', 'devanagari [number]'],
      ['mixed 06 ١٢ ３４ 56 78', 'mixed [number]'],
      ['mathematical 𝟎𝟔𝟏𝟐𝟑𝟒𝟓𝟔', 'mathematical [number]'],
      ['two: 0612345678 and 0798765432.', 'two: [number] and [number].'],
      ['+', '+'],
      ['', ''],
    ];
    for (const [text, masked] of cases) assert.equal(maskNumbers(text), masked, text);
  });

  test('short numbers and numbers cut by longer separators stay as written', () => {
    for (const text of [
      'order 123456 is late',
      'room ١٢٣٤٥٦',
      '１２３４５６',
      'rated 5/5, 10 out of 10',
      '123 .... 4567',
      '12 -- 34 -- 56',
      '123 ---- 4567',
      '0612 (see below) 345678',
      'no digits at all',
    ]) {
      assert.equal(maskNumbers(text), text);
    }
  });

  test('adversarial comments of 100 KB and more complete, masked', () => {
    const longRun = '7'.repeat(100_000);
    assert.equal(maskNumbers(longRun), '[number]');
    // A regex over one run of ten million digits overflows V8's backtracking stack.
    assert.equal(maskNumbers('9'.repeat(10_000_000)), '[number]');
    const sixes = '123456 -- '.repeat(10_000);
    assert.equal(maskNumbers(sixes), sixes);
    const separated = '1 - '.repeat(25_000);
    assert.equal(maskNumbers(separated), '[number] - ');
    const almost = '1 2 3 4 5 6    '.repeat(7_000);
    assert.equal(maskNumbers(almost), almost);
    const separatorsOnly = '(((( ----'.repeat(12_000) + '1';
    assert.equal(maskNumbers(separatorsOnly), separatorsOnly);
    const fullWidth = '１２３４５６    '.repeat(10_000);
    assert.equal(maskNumbers(fullWidth), fullWidth);
  });
});

describe('statistics answer cache bounded in bytes', () => {
  const answerOfSize = (bytes: number, tag: string): CachedAnswer => ({ body: Buffer.alloc(bytes, 0x20), etag: `W/"${tag}"` });

  test('filling it with large answers keeps it under its byte cap, evicting the least recently used first', () => {
    const cache = new SnapshotCache({ maxBytes: 10_000 });
    for (let i = 0; i < 10; i++) {
      cache.set(`k${i}`, 'v1', answerOfSize(3_000, String(i)));
      assert.ok(cache.bytes <= 10_000, `${cache.bytes} bytes after ${i + 1}`);
    }
    const kept = () => Array.from({ length: 12 }, (_, i) => `k${i}`).filter((key) => cache.get(key, 'v1') !== undefined);
    assert.deepEqual(kept(), ['k7', 'k8', 'k9']);
    // kept() read k7, k8, k9 in that order; reading k7 again leaves k8 the least recently used.
    assert.ok(cache.get('k7', 'v1'));
    cache.set('k10', 'v1', answerOfSize(3_000, '10'));
    assert.equal(cache.get('k8', 'v1'), undefined);
    assert.ok(cache.get('k7', 'v1') && cache.get('k9', 'v1') && cache.get('k10', 'v1'));
    assert.ok(cache.bytes <= 10_000);
  });

  test('the default cap holds a thousand 64 KB answers to 32 MB', () => {
    const cache = new SnapshotCache();
    const body = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 1000; i++) cache.set(`answer-${i}`, 'v1', { body, etag: `W/"${i}"` });
    assert.ok(cache.bytes <= 32 * 1024 * 1024, `${cache.bytes} bytes`);
    assert.ok(cache.size < 1000);
    assert.ok(cache.get('answer-999', 'v1'));
    assert.equal(cache.get('answer-0', 'v1'), undefined);
  });

  test('an answer larger than the cap is served whole but not cached; the smaller ones stay', async () => {
    const cache = new SnapshotCache({ maxBytes: 50_000 });
    const computed = new Map<string, number>();
    const answer = snapshotAnswerer({ snapshot: async () => ({ asOf: '2026-11-20T00:00:00.000Z', version: 'v1' }) }, cache);
    const app = express();
    app.get('/:size', async (req, res) => {
      const size = Number(req.params.size);
      await answer(res, `size-${size}`, async () => {
        computed.set(req.params.size, (computed.get(req.params.size) ?? 0) + 1);
        return { filler: 'x'.repeat(size) };
      });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      for (let round = 0; round < 2; round++) {
        for (const size of [1_000, 200_000]) {
          const res = await fetch(`${base}/${size}`);
          assert.equal(res.status, 200);
          assert.equal(((await res.json()) as { filler: string }).filler.length, size);
        }
      }
      assert.equal(computed.get('1000'), 1, 'the small answer came from the cache the second time');
      assert.equal(computed.get('200000'), 2, 'the large one was computed again: never cached');
      assert.ok(cache.bytes <= 50_000);
      assert.equal(cache.size, 1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
