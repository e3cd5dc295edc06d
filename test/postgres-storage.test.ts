// The PostgreSQL storage against a real server (the PostgreSQL tier: CC_CSAT_POSTGRES_URL, see
// test/helpers/postgres.ts): every test gets a fresh database of its own and drops it.
//
// Statistics are checked against the independent reference model (test/helpers/reference-stats.ts),
// the rollup tables against a full rebuild and against the SQLite implementation on the same ratings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { migrate, POSTGRES_MIGRATIONS_DIR, readMigrations } from '../src/db/migrate.js';
import { connectionTarget } from '../src/db/postgres/connection.js';
import { asPostgresStorageError } from '../src/db/postgres/errors.js';
import { PostgresLeadership } from '../src/db/postgres/leadership.js';
import { CC_CSAT_LOCK_CLASS, LOCK } from '../src/db/postgres/locks.js';
import { openPostgresStorage, type PostgresOpenOptions, type PostgresStorage } from '../src/db/postgres/open.js';
import { isoFromTimestamptz } from '../src/db/postgres/types.js';
import type { Database } from '../src/db/schema.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { DatabaseOpenError, StorageError } from '../src/db/storage-error.js';
import { alignRange } from '../src/results/stats-shape.js';
import { ZoneCalendar } from '../src/results/zone.js';
import type { AgentCsatRow, StatsStore, SurveyStatsStore } from '../src/storage/ports.js';
import { POSTGRES_SKIP, createPostgresDatabase, type PostgresDatabase } from './helpers/postgres.js';
import { localDay, reference, type SeedRating } from './helpers/reference-stats.js';
import { freePort, within } from './helpers/wait.js';
import { randomRatings, seed, SEED_AGENTS as AGENTS, SEED_QUEUES as QUEUES } from './helpers/seed-ratings.js';

const SKIP = { skip: POSTGRES_SKIP };
const PARIS = new ZoneCalendar('Europe/Paris');
const MIN_RATINGS = 2;

// ------------------------------------------------------------------------------- helpers

/** A fresh database and storages on it; everything is closed and dropped after `body`, pass or fail. */
async function withDatabase(label: string, body: (env: { database: PostgresDatabase; open: (options?: Partial<PostgresOpenOptions>) => Promise<PostgresStorage> }) => Promise<void>): Promise<void> {
  const database = await createPostgresDatabase(label);
  const opened: PostgresStorage[] = [];
  const open = async (options: Partial<PostgresOpenOptions> = {}): Promise<PostgresStorage> => {
    const storage = await within(openPostgresStorage({ url: database.url, poolMax: 4, applicationName: `cc-csat-test-${label}`, ...options }), 20_000, 'opening a storage');
    opened.push(storage);
    return storage;
  };
  try {
    await body({ database, open });
  } finally {
    for (const storage of opened) await within(storage.close(), 20_000, 'closing a storage');
    await database.drop();
  }
}

/** A plain client of its own on the test database (superuser credentials), for what the engine never does. */
async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // A session this test terminates reports it as an event.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Polls `probe` every 20 ms until it yields a value; fails naming `what` after `timeoutMs`. */
async function pollFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const rating = (callId: string, agentId: string, queueId: string, score: number, createdAt: string): SeedRating => ({
  call_id: callId,
  agent_id: agentId,
  queue_id: queueId,
  score,
  created_at: createdAt,
});

// Around the Paris DST changes of 2026 (29 March and 25 October, 01:00 UTC), and across week, month
// and year boundaries in local time.
const EDGE_RATINGS: SeedRating[] = [
  rating('edge-new-year', 'ana', 'sales-queue', 5, '2025-12-31T23:30:00.000Z'), // 1 Jan 2026 00:30 local
  rating('edge-spring-before', 'bo', 'sales-queue', 1, '2026-03-29T00:59:59.999Z'), // 01:59:59.999 CET
  rating('edge-spring-after', 'bo', 'sales-queue', 2, '2026-03-29T01:00:00.000Z'), // 03:00 CEST
  rating('edge-late-march', 'ana', 'sales-queue', 5, '2026-03-31T23:30:00.000Z'), // 1 April local
  rating('edge-week', 'bo', 'sales-queue', 2, '2026-06-28T22:30:00.000Z'), // Monday 29 June 00:30 local
  rating('edge-autumn-midnight', 'cy', 'support-queue', 4, '2026-10-24T22:00:00.000Z'), // 25 Oct 00:00 CEST
  rating('edge-autumn-before', 'cy', 'support-queue', 3, '2026-10-25T00:59:59.999Z'), // 02:59:59.999 CEST
  rating('edge-autumn-after', 'di', 'support-queue', 5, '2026-10-25T01:00:00.000Z'), // 02:00 CET
  rating('edge-autumn-end', 'di', 'support-queue', 1, '2026-10-25T22:59:59.999Z'), // 23:59:59.999 CET
  rating('edge-autumn-next', 'ed', 'support-queue', 4, '2026-10-25T23:00:00.000Z'), // 26 Oct 00:00 CET
  rating('edge-may', 'ed', 'sales-queue', 3, '2026-04-30T22:00:00.000Z'), // 1 May 00:00 CEST
];

const QUERIES = [
  { period: 'day', from: '2026-03-27', to: '2026-04-02' },
  { period: 'day', from: '2026-10-23', to: '2026-10-27' },
  { period: 'week', from: '2025-12-29', to: '2026-01-12' },
  { period: 'week', from: '2026-06-24', to: '2026-07-08' },
  { period: 'month', from: '2026-01-15', to: '2026-12-31' },
] as const;
type Query = (typeof QUERIES)[number];

/** Every statistics answer for `q` equals the reference model's, queue by queue and agent by agent. */
async function assertStatsMatchReference(stats: StatsStore, ratings: readonly SeedRating[], zone: string, q: Query, label: string): Promise<void> {
  const range = alignRange(q.period, q.from, q.to);
  for (const queueId of QUEUES) {
    const got = await stats.queueStats(queueId, range, MIN_RATINGS, 'as-of');
    const expected = reference(ratings, zone, { ...q, queueId, minRatings: MIN_RATINGS });
    const context = `${label}: queue ${queueId} ${q.period} ${q.from}..${q.to}`;
    assert.deepEqual([got.from, got.to], [expected.from, expected.to], context);
    assert.equal(got.count, expected.count, context);
    assert.equal(got.average, expected.average, context);
    assert.deepEqual(got.distribution, expected.distribution, context);
    assert.deepEqual(got.trend, expected.trend, context);
    assert.deepEqual(got.agent_ranking, expected.ranking(queueId), context);
    assert.equal(got.as_of, 'as-of', context);
  }
  for (const agentId of AGENTS) {
    const got = await stats.agentStats(agentId, range, MIN_RATINGS, null);
    const expected = reference(ratings, zone, { ...q, agentId, minRatings: MIN_RATINGS });
    const context = `${label}: agent ${agentId} ${q.period} ${q.from}..${q.to}`;
    assert.equal(got.count, expected.count, context);
    assert.equal(got.average, expected.average, context);
    assert.deepEqual(got.distribution, expected.distribution, context);
    assert.deepEqual(got.trend, expected.trend, context);
    const standings = QUEUES.flatMap((queueId) => {
      const ranking = expected.ranking(queueId);
      const mine = ranking.find((entry) => entry.agent_id === agentId);
      return mine ? [{ queue_id: queueId, rank: mine.rank, of: ranking.filter((entry) => entry.rank !== null).length, average: mine.average, count: mine.count }] : [];
    });
    assert.deepEqual(got.queues, standings, context);
  }
}

/**
 * The rollup tables, in one order for SQLite and PostgreSQL alike. PostgreSQL stores no agent rows
 * (sql/postgres/020: they are summed from the (agent_queue, day) rows when read): SQLite's are left
 * out here and compared with what PostgreSQL reads instead (agentBucketsMatchSqlite).
 */
async function rollupTables(db: Kysely<Database>) {
  return {
    rollups: (await sql<Record<string, unknown>>`SELECT scope, period, queue_id, agent_id, period_start, count, sum, n1, n2, n3, n4, n5
      FROM csat_rollup WHERE scope <> 'agent' ORDER BY scope, period, queue_id, agent_id, period_start`.execute(db)).rows,
    queueAgents: (await sql<Record<string, unknown>>`SELECT queue_id, agent_id, first_day, last_day FROM csat_queue_agent ORDER BY queue_id, agent_id`.execute(db)).rows,
  };
}

type RollupReader = { readonly db: Kysely<Database>; readonly surveyStats: SurveyStatsStore };

/**
 * Every agent's buckets as PostgreSQL sums them when read equal the agent rows SQLite stores: over all
 * time in each period, and over ranges that start and end inside a week or a month (a bucket is in a
 * range when it starts in it, whatever days it holds past the range's end).
 */

async function agentBucketsMatchSqlite(postgres: RollupReader, sqlite: RollupReader): Promise<void> {
  const agentIds = (await sql<{ agent_id: string }>`SELECT DISTINCT agent_id FROM cc_csat ORDER BY agent_id`.execute(sqlite.db)).rows.map((row) => row.agent_id);
  assert.ok(agentIds.length > 3);
  for (const period of ['day', 'week', 'month'] as const) {
    const stored = (await sql<AgentCsatRow>`SELECT agent_id, period_start, count, sum, n1, n2, n3, n4, n5 FROM csat_rollup
      WHERE scope = 'agent' AND period = ${period} ORDER BY agent_id, period_start`.execute(sqlite.db)).rows;
    assert.ok(stored.length > agentIds.length, period);
    assert.deepEqual(await postgres.surveyStats.agentCsatRows(agentIds, { period, from: '2000-01-01', to: '2099-12-31' }), stored, `every agent ${period}`);
  }
  const ranges = [...QUERIES, { period: 'week', from: '2026-03-04', to: '2026-03-30' }, { period: 'month', from: '2026-02-01', to: '2026-10-01' }] as const;
  for (const range of ranges) {
    const expected = await sqlite.surveyStats.agentCsatRows(agentIds, range);
    assert.ok(expected.length > 0, JSON.stringify(range));
    assert.deepEqual(await postgres.surveyStats.agentCsatRows(agentIds, range), expected, JSON.stringify(range));
    assert.deepEqual(await postgres.surveyStats.agentCsatRows(agentIds.slice(1, 3), range), expected.filter((row) => agentIds.slice(1, 3).includes(row.agent_id)), `two agents ${JSON.stringify(range)}`);
  }
}

async function resultState(db: Kysely<Database>): Promise<Record<string, string>> {
  const rows = (await sql<{ key: string; value: string }>`SELECT key, value FROM result_state WHERE key <> 'readyz_probe'`.execute(db)).rows;
  return Object.fromEntries(rows.map((row) => [row.key, row.value]));
}

let clock = Date.parse('2027-01-01T00:00:00.000Z');
/** A refreshed_at later than the last one. */
const stamp = (): string => new Date((clock += 60_000)).toISOString();

const localDays = (ratings: readonly SeedRating[], zone: string): number => new Set(ratings.map((r) => localDay(r.created_at, zone))).size;

async function maxId(db: Kysely<Database>): Promise<number> {
  return (await sql<{ id: number }>`SELECT coalesce(max(id), 0) AS id FROM cc_csat`.execute(db)).rows[0]!.id;
}

// ------------------------------------------------------------------------------- schema

test('migrations apply once, also when two engines migrate at the same moment; the tables exist with their checks', SKIP, async () => {
  await withDatabase('migrate', async ({ open }) => {
    const [a, b] = await Promise.all([open(), open()]);
    const applied = await within(Promise.all([a.migrate(), b.migrate()]), 30_000, 'two concurrent migrations');
    const all = readMigrations(POSTGRES_MIGRATIONS_DIR).map((migration) => `${migration.version}_${migration.name}`);
    assert.equal(all[0], '1_schema');
    assert.deepEqual(applied.map((list) => list.map((migration) => `${migration.version}_${migration.name}`)).sort(), [[], all], 'exactly one engine applied them');
    assert.deepEqual(await a.migrate(), [], 'a second run applies nothing');
    assert.deepEqual(await b.migrate(), []);
    const recorded = (await sql<{ version: number; name: string }>`SELECT version, name FROM schema_migrations ORDER BY version`.execute(a.db)).rows;
    assert.deepEqual(recorded.map((row) => `${row.version}_${row.name}`), all);

    const tables = new Set((await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`.execute(a.db)).rows.map((t) => t.name));
    for (const table of ['cc_csat', 'survey_outcome', 'csat_rollup', 'csat_queue_agent', 'result_state', 'schema_migrations']) {
      assert.ok(tables.has(table), `table ${table} exists`);
    }
    assert.ok(!tables.has('csat_running'), 'no running-total table on PostgreSQL (sql/postgres/019)');

    const insert = (values: Partial<SeedRating> & { call_id: string }) =>
      a.db.insertInto('cc_csat').values({ agent_id: 'a', queue_id: 'q', score: 3, created_at: '2026-11-20T14:03:07.123Z', ...values }).execute();
    for (const score of [0, 6]) {
      await assert.rejects(insert({ call_id: `score-${score}`, score }), (err: Error & { code?: string }) => err.code === '23514' && !(err instanceof StorageError));
    }
    await assert.rejects(insert({ call_id: '' }), { code: '23514' });
    await assert.rejects(insert({ call_id: 'x'.repeat(129) }), { code: '23514' });
    await insert({ call_id: 'x'.repeat(128) });
    await assert.rejects(insert({ call_id: 'micro', created_at: '2026-11-20T14:03:07.123456Z' }), { code: '23514' }, 'whole milliseconds only');
    await assert.rejects(insert({ call_id: 'infinite', created_at: 'infinity' }), { code: '23514' });
    await insert({ call_id: 'dup' });
    await assert.rejects(insert({ call_id: 'dup' }), { code: '23505' });
    await assert.rejects(
      a.db.insertInto('survey_outcome').values({ channel_id: 'c', outcome: 'exploded' as 'failed', attempts: 0, started_at: '2026-11-20T14:03:07.123Z', ended_at: '2026-11-20T14:03:07.123Z' }).execute(),
      { code: '23514' },
    );
  });
});

// ------------------------------------------------------------------------------- ratings and outcomes

test('ratings: one per call, found by call, listed newest first with filters, offset, keyset and total; instants round-trip exactly', SKIP, async () => {
  await withDatabase('ratings', async ({ open }) => {
    const storage = await open();
    await storage.migrate();
    const first = await storage.ratings.insert({ call_id: 'call-1', agent_id: 'ana', queue_id: 'sales', score: 4, comment: 'kind', created_at: '2026-11-20T14:03:07.120Z' }, 'test');
    assert.equal(first.inserted, true);
    assert.ok(first.inserted && typeof first.rating.id === 'number');
    assert.deepEqual(first.inserted && { ...first.rating, id: 0 }, { id: 0, call_id: 'call-1', agent_id: 'ana', queue_id: 'sales', score: 4, comment: 'kind', created_at: '2026-11-20T14:03:07.120Z' });
    const again = await storage.ratings.insert({ call_id: 'call-1', agent_id: 'bo', queue_id: 'sales', score: 1, created_at: '2026-11-20T15:00:00.000Z' }, 'test');
    assert.equal(again.inserted, false);
    assert.deepEqual(!again.inserted && again.existing, first.inserted && first.rating, 'the first rating stands');
    assert.deepEqual(await storage.ratings.findByCallId('call-1'), first.inserted && first.rating);
    assert.equal(await storage.ratings.findByCallId('nope'), undefined);

    // Instants whose text form PostgreSQL shortens (no fraction, trailing zeros) come back as written.
    const instants = ['2026-11-20T14:03:07.000Z', '2026-11-20T14:03:07.100Z', '2026-11-20T14:03:07.999Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
    for (const [i, createdAt] of instants.entries()) {
      const stored = await storage.ratings.insert({ call_id: `instant-${i}`, agent_id: 'cy', queue_id: 'edge', score: 3, created_at: createdAt }, 'test');
      assert.equal(stored.inserted && stored.rating.created_at, createdAt);
      assert.equal((await storage.ratings.findByCallId(`instant-${i}`))?.created_at, createdAt);
    }
    assert.equal(isoFromTimestamptz('2026-03-29 01:00:00+00'), '2026-03-29T01:00:00.000Z');
    assert.equal(isoFromTimestamptz('2026-03-29 01:00:00.05+00'), '2026-03-29T01:00:00.050Z');
    assert.equal(isoFromTimestamptz('2026-03-29 01:00:00.123456+00'), '2026-03-29T01:00:00.123Z');
    assert.throws(() => isoFromTimestamptz('2026-03-29 02:00:00+01'), /UTC session/);

    // 30 ratings: agents ana/bo alternate, queues by thirds, one second apart; two share an instant.
    const listed = Array.from({ length: 30 }, (_, i) => ({
      call_id: `list-${i}`,
      agent_id: i % 2 === 0 ? 'ana' : 'bo',
      queue_id: i < 10 ? 'sales' : i < 20 ? 'support' : 'vip',
      score: 1 + (i % 5),
      created_at: new Date(Date.parse('2026-12-01T00:00:00.000Z') + (i === 29 ? 28 : i) * 1000).toISOString(),
    }));
    for (const entry of listed) await storage.ratings.insert(entry, 'test');
    const december = { fromIso: '2026-12-01T00:00:00.000Z', toIso: '2027-01-01T00:00:00.000Z' };
    const all = await storage.ratings.list(december, { limit: 100, offset: 0 });
    assert.equal(all.total, 30);
    const expectedOrder = [...all.items].sort((x, y) => (x.created_at === y.created_at ? y.id - x.id : x.created_at < y.created_at ? 1 : -1));
    assert.deepEqual(all.items, expectedOrder, 'newest first, ties by id desc');
    assert.equal(all.items[0]!.call_id, 'list-29', 'the later id of the two sharing an instant comes first');

    const filtered = await storage.ratings.list({ agentId: 'ana', queueId: 'support' }, { limit: 3, offset: 1 });
    assert.equal(filtered.total, 5);
    assert.deepEqual(filtered.items.map((r) => r.call_id), ['list-16', 'list-14', 'list-12']);
    const window = await storage.ratings.list({ fromIso: '2026-12-01T00:00:05.000Z', toIso: '2026-12-01T00:00:08.000Z' }, { limit: 10, offset: 0 });
    assert.deepEqual(window.items.map((r) => r.call_id), ['list-7', 'list-6', 'list-5'], '[from, to)');

    // Keyset pages walk the same order as one big page, with no gap or repeat.
    const walked: string[] = [];
    let after: { createdAt: string; id: number } | undefined;
    for (let page = 0; page < 10; page++) {
      const { items, total } = await storage.ratings.list(december, { limit: 7, offset: 0, after });
      assert.equal(total, 30);
      walked.push(...items.map((r) => r.call_id));
      if (items.length < 7) break;
      after = { createdAt: items.at(-1)!.created_at, id: items.at(-1)!.id };
    }
    assert.deepEqual(walked, all.items.map((r) => r.call_id));

    await storage.outcomes.insert({
      call_id: 'call-1', channel_id: 'ch-1', agent_id: 'ana', queue_id: 'sales', ivr: 'csat-survey', outcome: 'completed', reason: 'r',
      attempts: 3, last_step: 'thanks', score: 4, started_at: '2026-11-20T14:03:00.000Z', ended_at: '2026-11-20T14:03:07.120Z',
    });
    await storage.outcomes.insert({ call_id: 'call-1', channel_id: 'ch-2', outcome: 'no_input', attempts: 0, started_at: '2026-11-20T14:04:00.000Z', ended_at: '2026-11-20T14:04:09.000Z' });
    const outcomes = await storage.outcomes.forCall('call-1');
    // The columns this test writes (other migrations may add more).
    const written = ['call_id', 'channel_id', 'agent_id', 'queue_id', 'ivr', 'outcome', 'reason', 'attempts', 'last_step', 'score', 'started_at', 'ended_at'] as const;
    assert.deepEqual(outcomes.map((outcome) => Object.fromEntries(written.map((column) => [column, outcome[column]]))), [
      { call_id: 'call-1', channel_id: 'ch-1', agent_id: 'ana', queue_id: 'sales', ivr: 'csat-survey', outcome: 'completed', reason: 'r', attempts: 3, last_step: 'thanks', score: 4, started_at: '2026-11-20T14:03:00.000Z', ended_at: '2026-11-20T14:03:07.120Z' },
      { call_id: 'call-1', channel_id: 'ch-2', agent_id: null, queue_id: null, ivr: null, outcome: 'no_input', reason: null, attempts: 0, last_step: null, score: null, started_at: '2026-11-20T14:04:00.000Z', ended_at: '2026-11-20T14:04:09.000Z' },
    ]);
    assert.ok(outcomes[0]!.id < outcomes[1]!.id);
    assert.deepEqual(await storage.outcomes.forCall('nope'), []);
  });
});

// ------------------------------------------------------------------------------- rollups

test('rollups equal the reference over DST, week and month edges; incremental runs equal a full rebuild and SQLite; a timezone change rebuilds in full', SKIP, async () => {
  await withDatabase('rollups', async ({ open }) => {
    const [storage, otherEngine] = await Promise.all([open(), open()]);
    await storage.migrate();
    // A second database with the same ratings, rebuilt in full after every batch.
    const twin = await createPostgresDatabase('rollups twin');
    const twinStorage = await openPostgresStorage({ url: twin.url, poolMax: 2 });
    try {
      await twinStorage.migrate();
      const random = randomRatings(2400, Date.parse('2026-01-01T00:00:00Z'), 365, 42, 'r');
      // Batches out of time order: later batches touch days all over the year, some already folded.
      const batches = [random.slice(0, 1500), random.slice(1500, 1510), EDGE_RATINGS, random.slice(1510, 2400)];
      const folded: SeedRating[] = [];
      for (const [index, batch] of batches.entries()) {
        await seed(storage.db, batch);
        await seed(twinStorage.db, batch);
        folded.push(...batch);
        const report = await storage.rollups.refresh('incremental', PARIS, stamp());
        if (index === 0) {
          assert.deepEqual([report.kind, report.newRatings, report.touchedDays], ['full', batch.length, -1], 'a first run is full');
        } else {
          assert.deepEqual([report.kind, report.newRatings, report.touchedDays], ['incremental', batch.length, localDays(batch, PARIS.zone)], `batch ${index}`);
        }
        assert.equal(report.watermark, await maxId(storage.db));
        const twinReport = await twinStorage.rollups.refresh('full', PARIS, stamp());
        assert.deepEqual([twinReport.kind, twinReport.newRatings], ['full', folded.length]);
        assert.deepEqual(await rollupTables(storage.db), await rollupTables(twinStorage.db), `after batch ${index}: incremental runs equal a full rebuild`);
        await assertStatsMatchReference(storage.stats, folded, PARIS.zone, QUERIES[index % QUERIES.length]!, `after batch ${index}`);
      }
      for (const q of QUERIES) await assertStatsMatchReference(storage.stats, folded, PARIS.zone, q, 'all batches');
      // A storage that did not run the service reads the same committed rollups.
      await assertStatsMatchReference(otherEngine.stats, folded, PARIS.zone, QUERIES[4], 'another engine');

      const unchanged = await storage.rollups.refresh('incremental', PARIS, stamp());
      assert.deepEqual([unchanged.kind, unchanged.newRatings, unchanged.touchedDays, unchanged.watermark], ['unchanged', 0, 0, await maxId(storage.db)]);
      const state = await resultState(storage.db);
      assert.deepEqual(state, { watermark: String(unchanged.watermark), timezone: 'Europe/Paris', refreshed_at: unchanged.refreshedAt });
      assert.deepEqual(await storage.stats.snapshot(), { asOf: unchanged.refreshedAt, version: `${unchanged.refreshedAt}|${unchanged.watermark}|Europe/Paris` });

      // The SQLite implementation, same ratings and zone: the same tables and the same answers.
      const sqlite = openSqliteStorage(':memory:');
      try {
        await sqlite.migrate();
        await seed(sqlite.db, folded);
        await sqlite.rollups.refresh('full', PARIS, stamp());
        assert.deepEqual(await rollupTables(storage.db), await rollupTables(sqlite.db), 'PostgreSQL rollups equal SQLite rollups');
        assert.equal(Number((await sql<{ n: number }>`SELECT count(*) AS n FROM csat_rollup WHERE scope = 'agent'`.execute(storage.db)).rows[0]!.n), 0);
        await agentBucketsMatchSqlite(storage, sqlite);
        for (const q of QUERIES) {
          const range = alignRange(q.period, q.from, q.to);
          for (const queueId of QUEUES) {
            assert.deepEqual(await storage.stats.queueStats(queueId, range, MIN_RATINGS, null), await sqlite.stats.queueStats(queueId, range, MIN_RATINGS, null));
          }
          for (const agentId of AGENTS) {
            assert.deepEqual(await storage.stats.agentStats(agentId, range, MIN_RATINGS, null), await sqlite.stats.agentStats(agentId, range, MIN_RATINGS, null));
          }
        }
      } finally {
        await sqlite.close();
      }

      // Another zone: every local day moves, so the run is full, and right for New York.
      const newYork = new ZoneCalendar('America/New_York');
      const moved = await storage.rollups.refresh('incremental', newYork, stamp());
      assert.deepEqual([moved.kind, moved.newRatings, moved.touchedDays], ['full', folded.length, -1]);
      assert.equal((await resultState(storage.db))['timezone'], 'America/New_York');
      for (const q of [QUERIES[0], QUERIES[4]]) await assertStatsMatchReference(storage.stats, folded, newYork.zone, q, 'New York');
      assert.equal((await storage.rollups.refresh('incremental', newYork, stamp())).kind, 'unchanged');
      assert.equal((await storage.rollups.refresh('full', newYork, stamp())).kind, 'full', 'mode full always rebuilds');
    } finally {
      await twinStorage.close();
      await twin.drop();
    }
  });
});

test('a rating whose id commits after a larger one is never skipped: the run waits for it, or gives up without moving past it', SKIP, async () => {
  await withDatabase('out of order', async ({ open, database }) => {
    // Generous settle waits: the run below must still be waiting when the test commits.
    const storage = await open({ rollups: { settleWaitMs: 3000, settleAttempts: 5 } });
    const impatient = await open({ rollups: { settleWaitMs: 100, settleAttempts: 2 } });
    await storage.migrate();
    const base = randomRatings(300, Date.parse('2026-11-01T00:00:00Z'), 20, 5, 'base');
    await seed(storage.db, base);
    await storage.rollups.refresh('incremental', PARIS, stamp());
    const all = [...base];

    for (const [round, runner] of [storage, impatient].entries()) {
      await withClient(database.url, async (writer) => {
        // An insert that has taken its id but not committed.
        await writer.query('BEGIN');
        const early = rating(`early-${round}`, 'ana', 'sales-queue', 1, '2026-11-21T09:00:00.000Z');
        const earlyId = Number(
          (await writer.query<{ id: string }>('INSERT INTO cc_csat (call_id, agent_id, queue_id, score, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id', [early.call_id, early.agent_id, early.queue_id, early.score, early.created_at])).rows[0]!.id,
        );
        // A later insert, committed at once, with a larger id.
        const late = rating(`late-${round}`, 'bo', 'sales-queue', 5, '2026-11-21T09:00:01.000Z');
        const lateStored = await storage.ratings.insert(late, 'test');
        assert.ok(lateStored.inserted && lateStored.rating.id > earlyId);
        const lateId = lateStored.inserted ? lateStored.rating.id : 0;

        const run = runner.rollups.refresh('incremental', PARIS, stamp()).then(
          (report) => ({ report }),
          (error: unknown) => ({ error }),
        );
        if (runner === storage) {
          // The run waits for the open insert (its SHARE lock on cc_csat is queued behind it)...
          await pollFor(
            async () => (await withClient(database.url, (c) => c.query("SELECT 1 FROM pg_locks WHERE relation = 'cc_csat'::regclass AND mode = 'ShareLock' AND NOT granted"))).rowCount ? true : undefined,
            10_000,
            'the run to wait for the open insert',
          );
          await writer.query('COMMIT');
          const outcome = await within(run, 20_000, 'the run after the commit');
          assert.ok('report' in outcome, `the run completed: ${'error' in outcome ? String(outcome.error) : ''}`);
          // ...and then folds both.
          assert.deepEqual([outcome.report.kind, outcome.report.newRatings, outcome.report.watermark], ['incremental', 2, lateId]);
        } else {
          // ...or gives up, 'locked', having folded nothing: the watermark is not past the open insert.
          const outcome = await within(run, 20_000, 'the impatient run');
          assert.ok('error' in outcome && outcome.error instanceof StorageError && outcome.error.failure === 'locked', `gave up: ${JSON.stringify(outcome)}`);
          assert.ok(Number((await resultState(storage.db))['watermark']) < earlyId, 'the watermark did not pass the uncommitted id');
          await writer.query('COMMIT');
          const next = await runner.rollups.refresh('incremental', PARIS, stamp());
          assert.deepEqual([next.kind, next.newRatings, next.watermark], ['incremental', 2, lateId]);
        }
        all.push(early, late);
      });
      // Both ratings are in the rollups, exactly once.
      await assertStatsMatchReference(storage.stats, all, PARIS.zone, { period: 'day', from: '2026-11-19', to: '2026-11-22' } as unknown as Query, `round ${round}`);
      const incremental = await rollupTables(storage.db);
      assert.equal((await storage.rollups.refresh('full', PARIS, stamp())).kind, 'full');
      assert.deepEqual(await rollupTables(storage.db), incremental, 'equal to a full rebuild');
    }
  });
});

test('two engines refreshing at the same moment are serialized; with inserts racing them the rollups still equal a full rebuild', SKIP, async () => {
  await withDatabase('concurrent runs', async ({ open }) => {
    const [a, b] = await Promise.all([open(), open()]);
    await a.migrate();
    const ratings = randomRatings(3000, Date.parse('2026-09-01T00:00:00Z'), 90, 9, 'c');
    await seed(a.db, ratings.slice(0, 2000));
    const first = await within(Promise.all([a.rollups.refresh('incremental', PARIS, stamp()), b.rollups.refresh('incremental', PARIS, stamp())]), 60_000, 'two first runs');
    assert.deepEqual(first.map((report) => report.kind).sort(), ['full', 'unchanged'], 'the second run found the first one done');
    assert.deepEqual(first.map((report) => report.watermark), [2000, 2000]);

    // Rounds of inserts racing runs on both engines.
    for (let round = 0; round < 5; round++) {
      const batch = ratings.slice(2000 + round * 200, 2200 + round * 200);
      const reports = await within(
        Promise.all([
          ...batch.map((entry) => a.ratings.insert(entry, 'test')),
          a.rollups.refresh('incremental', PARIS, stamp()),
          b.rollups.refresh('incremental', PARIS, stamp()),
        ]),
        60_000,
        `round ${round}`,
      );
      assert.ok(reports.every((report) => !('kind' in report) || report.kind !== 'full'), 'no run saw a reason to rebuild');
    }
    await a.rollups.refresh('incremental', PARIS, stamp());
    const incremental = await rollupTables(a.db);
    const both = await within(Promise.all([a.rollups.refresh('full', PARIS, stamp()), b.rollups.refresh('full', PARIS, stamp())]), 60_000, 'two full rebuilds at once');
    assert.deepEqual(both.map((report) => [report.kind, report.newRatings]), [['full', 3000], ['full', 3000]]);
    assert.deepEqual(await rollupTables(a.db), incremental, 'incremental runs racing inserts equal a full rebuild');
    await assertStatsMatchReference(b.stats, ratings, PARIS.zone, { period: 'week', from: '2026-09-01', to: '2026-11-30' } as unknown as Query, 'concurrent');
  });
});

test('a run ended in the middle leaves the previous rollups whole, never blocks readers or rating inserts, and the next run completes', SKIP, async () => {
  await withDatabase('interrupted', async ({ open, database }) => {
    const storage = await open();
    await storage.migrate();
    const ratings = randomRatings(4000, Date.parse('2026-05-01T00:00:00Z'), 120, 13, 'i');
    await seed(storage.db, ratings.slice(0, 3000));
    await storage.rollups.refresh('incremental', PARIS, stamp());
    const folded = ratings.slice(0, 3000);
    const range = alignRange('month', '2026-05-01', '2026-08-31');

    for (const mode of ['incremental', 'full'] as const) {
      const batch = ratings.slice(mode === 'incremental' ? 3000 : 3500, mode === 'incremental' ? 3500 : 4000);
      await seed(storage.db, batch);
      const before = await rollupTables(storage.db);
      const stateBefore = await resultState(storage.db);
      const answerBefore = await storage.stats.queueStats('sales-queue', range, MIN_RATINGS, null);

      await withClient(database.url, async (blocker) => {
        // Hold the row the run writes last: the run does all its work, then waits here, uncommitted.
        await blocker.query('BEGIN');
        await blocker.query("SELECT value FROM result_state WHERE key = 'watermark' FOR UPDATE");
        const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        const run = storage.rollups.refresh(mode, PARIS, stamp()).then(
          (report) => ({ report }),
          (error: unknown) => ({ error }),
        );
        const runPid = await pollFor(
          async () => (await blocker.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [blockerPid])).rows[0]?.pid,
          30_000,
          `the ${mode} run to reach its last write`,
        );
        // Mid-run: readers get the last committed run at once, and ratings still go in.
        assert.deepEqual(await within(storage.stats.queueStats('sales-queue', range, MIN_RATINGS, null), 2000, 'a statistics answer during the run'), answerBefore);
        const during = rating(`during-${mode}`, 'ana', 'sales-queue', 4, '2026-08-30T10:00:00.000Z');
        assert.equal((await within(storage.ratings.insert(during, 'test'), 2000, 'a rating insert during the run')).inserted, true);

        await blocker.query('SELECT pg_terminate_backend($1)', [runPid]);
        const outcome = await within(run, 10_000, 'the terminated run');
        assert.ok('error' in outcome && outcome.error instanceof StorageError && outcome.error.failure === 'unavailable', `a StorageError: ${JSON.stringify(outcome)}`);
        await blocker.query('ROLLBACK');
        folded.push(...batch, during);
      });
      assert.deepEqual(await rollupTables(storage.db), before, `the interrupted ${mode} run changed nothing`);
      assert.deepEqual(await resultState(storage.db), stateBefore);

      const next = await storage.rollups.refresh(mode, PARIS, stamp());
      assert.equal(next.kind, mode);
      assert.equal(next.watermark, await maxId(storage.db));
      await assertStatsMatchReference(storage.stats, folded, PARIS.zone, { period: 'month', from: '2026-05-01', to: '2026-08-31' } as unknown as Query, `after the interrupted ${mode} run`);
      const completed = await rollupTables(storage.db);
      await storage.rollups.refresh('full', PARIS, stamp());
      assert.deepEqual(await rollupTables(storage.db), completed, 'equal to a full rebuild');
    }
  });
});

// ------------------------------------------------------------------------------- statistics

test('statistics: ranking order and min ratings, exact rankings with hundreds of millions of ratings, queueEverRated, snapshot', SKIP, async () => {
  await withDatabase('stats', async ({ open }) => {
    const storage = await open();
    await storage.migrate();
    assert.deepEqual(await storage.stats.snapshot(), { asOf: null, version: null }, 'no run yet');
    assert.equal(await storage.stats.queueEverRated('sales-queue'), false);
    // No rating yet: a first run is full and empty, the next one finds nothing new.
    const utc = new ZoneCalendar('UTC');
    const empty0 = await storage.rollups.refresh('incremental', utc, '2026-11-20T09:00:00.000Z');
    assert.deepEqual([empty0.kind, empty0.newRatings, empty0.touchedDays, empty0.watermark], ['full', 0, -1, 0]);
    assert.deepEqual([(await storage.rollups.refresh('incremental', utc, '2026-11-20T09:05:00.000Z')).kind], ['unchanged']);
    assert.deepEqual(await storage.stats.snapshot(), { asOf: '2026-11-20T09:05:00.000Z', version: '2026-11-20T09:05:00.000Z|0|UTC' });

    const at = '2026-11-20T10:00:00.000Z';
    const r = (call: string, agent: string, score: number) => rating(call, agent, 'sales-queue', score, at);
    await seed(storage.db, [
      // zed and amy tie on average and count: agent_id decides (amy first)
      r('1', 'zed', 4), r('2', 'zed', 4),
      r('3', 'amy', 5), r('4', 'amy', 3),
      // kim has the same average with more ratings: ahead of both
      r('5', 'kim', 4), r('6', 'kim', 4), r('7', 'kim', 4),
      r('8', 'lou', 5), r('9', 'lou', 5),
      // one rating only: listed, not ranked, even with a perfect score
      r('10', 'solo', 5),
      r('11', 'max', 1), r('12', 'max', 2),
    ]);
    assert.equal(await storage.stats.queueEverRated('sales-queue'), true, 'before any run: cc_csat itself');
    const report = await storage.rollups.refresh('incremental', utc, '2026-11-20T12:00:00.000Z');
    assert.deepEqual([report.kind, report.newRatings, report.touchedDays], ['incremental', 12, 1]);
    assert.deepEqual(await storage.stats.snapshot(), { asOf: '2026-11-20T12:00:00.000Z', version: `2026-11-20T12:00:00.000Z|${report.watermark}|UTC` });
    const day = { period: 'day', from: '2026-11-20', to: '2026-11-20' } as const;
    const queue = await storage.stats.queueStats('sales-queue', day, 2, '2026-11-20T12:00:00.000Z');
    assert.deepEqual(queue.agent_ranking, [
      { rank: 1, agent_id: 'lou', average: 5, count: 2 },
      { rank: 2, agent_id: 'kim', average: 4, count: 3 },
      { rank: 3, agent_id: 'amy', average: 4, count: 2 },
      { rank: 4, agent_id: 'zed', average: 4, count: 2 },
      { rank: 5, agent_id: 'max', average: 1.5, count: 2 },
      { rank: null, agent_id: 'solo', average: 5, count: 1 },
    ]);
    assert.deepEqual([queue.count, queue.average, queue.distribution, queue.as_of], [12, 3.83, { '1': 1, '2': 1, '3': 1, '4': 5, '5': 4 }, '2026-11-20T12:00:00.000Z']);
    assert.deepEqual((await storage.stats.agentStats('solo', day, 2, null)).queues, [{ queue_id: 'sales-queue', rank: null, of: 5, average: 5, count: 1 }]);
    assert.deepEqual((await storage.stats.agentStats('kim', day, 2, null)).queues, [{ queue_id: 'sales-queue', rank: 2, of: 5, average: 4, count: 3 }]);
    const empty = await storage.stats.queueStats('sales-queue', { period: 'day', from: '2026-11-21', to: '2026-11-22' }, 2, null);
    assert.deepEqual([empty.count, empty.average, empty.agent_ranking, empty.trend.length], [0, null, [], 2]);
    assert.equal(await storage.stats.queueEverRated('no-such-queue'), false);

    // Totals too large for SQLite's packed form (2^53 / 2^28), and sums past a 32-bit integer: summed
    // exactly in the queue's copy (its ranking and the agent's standing).
    await sql`INSERT INTO csat_queue_agent (queue_id, agent_id, first_day, last_day) VALUES
      ('big-queue', 'veteran', '2019-01-02', '2026-11-10'), ('big-queue', 'newcomer', '2026-11-10', '2026-11-10')`.execute(storage.db);
    await sql`INSERT INTO csat_rollup (scope, period, queue_id, agent_id, period_start, count, sum, n1, n2, n3, n4, n5) VALUES
      ('agent_queue', 'day', 'big-queue', 'veteran', '2019-01-02', 200000000, 800000000, 0, 0, 0, 200000000, 0),
      ('agent_queue', 'day', 'big-queue', 'veteran', '2020-01-01', 200000000, 800000000, 0, 0, 0, 200000000, 0),
      ('agent_queue', 'day', 'big-queue', 'veteran', '2026-11-09', 200000000, 800000000, 0, 0, 0, 200000000, 0),
      ('agent_queue', 'day', 'big-queue', 'veteran', '2026-11-10', 3, 15, 0, 0, 0, 0, 3),
      ('agent_queue', 'day', 'big-queue', 'newcomer', '2026-11-10', 2, 9, 0, 0, 0, 1, 1)`.execute(storage.db);
    const big = await storage.stats.queueStats('big-queue', { period: 'day', from: '2026-11-10', to: '2026-11-10' }, 1, null);
    assert.deepEqual(big.agent_ranking, [
      { rank: 1, agent_id: 'veteran', average: 5, count: 3 },
      { rank: 2, agent_id: 'newcomer', average: 4.5, count: 2 },
    ]);
    const longRun = await storage.stats.queueStats('big-queue', { period: 'day', from: '2019-01-01', to: '2026-11-10' }, 1, null);
    assert.deepEqual(longRun.agent_ranking.find((entry) => entry.agent_id === 'veteran'), { rank: 2, agent_id: 'veteran', average: 4, count: 600000003 });
    const standing = await storage.stats.agentStats('veteran', { period: 'day', from: '2019-01-01', to: '2026-11-10' }, 1, null);
    assert.deepEqual(standing.queues, [{ queue_id: 'big-queue', rank: 2, of: 2, average: 4, count: 600000003 }]);
    const lastDay = await storage.stats.agentStats('veteran', { period: 'day', from: '2026-11-10', to: '2026-11-10' }, 1, null);
    assert.deepEqual(lastDay.queues, [{ queue_id: 'big-queue', rank: 1, of: 2, average: 5, count: 3 }]);
  });
});

test('agent standings: the same from the queue copies (up to 8 queues) and summed on the server (more), from real runs', SKIP, async () => {
  await withDatabase('agent_queues', async ({ open }) => {
    const storage = await open();
    await storage.migrate();
    // 'narrow' is rated in 8 queues (standings from the copies), 'wide' in 9 (summed on the server);
    // in each queue 'peer' too. Real ratings, folded by a real run.
    const ratings: Array<{ agent: string; queue: string; score: number }> = [];
    for (let q = 0; q < 9; q++) {
      if (q < 8) ratings.push({ agent: 'narrow', queue: `q${q}`, score: 5 }, { agent: 'narrow', queue: `q${q}`, score: 4 });
      ratings.push({ agent: 'wide', queue: `q${q}`, score: 2 }, { agent: 'wide', queue: `q${q}`, score: 2 });
      for (let n = 0; n <= q; n++) ratings.push({ agent: 'peer', queue: `q${q}`, score: 3 });
    }
    await storage.db
      .insertInto('cc_csat')
      .values(ratings.map((r, i) => ({ call_id: `aq-${i}`, agent_id: r.agent, queue_id: r.queue, score: r.score, comment: null, created_at: '2026-11-19T10:00:00.000Z' })))
      .execute();
    await storage.rollups.refresh('incremental', new ZoneCalendar('UTC'), '2026-11-20T09:00:00.000Z');
    const range = { period: 'day', from: '2026-11-01', to: '2026-11-20' } as const;
    const narrow = await storage.stats.agentStats('narrow', range, 1, null);
    assert.deepEqual(narrow.queues, Array.from({ length: 8 }, (_, q) => ({ queue_id: `q${q}`, rank: 1, of: 3, average: 4.5, count: 2 })));
    const wide = await storage.stats.agentStats('wide', range, 1, null);
    assert.deepEqual(wide.queues, Array.from({ length: 9 }, (_, q) => ({ queue_id: `q${q}`, rank: q < 8 ? 3 : 2, of: q < 8 ? 3 : 2, average: 2, count: 2 })));
    // The peer, rated in all nine, is answered by the server's sums; its rank in q0-q7 is what the copies rank there.
    const peer = await storage.stats.agentStats('peer', range, 1, null);
    assert.deepEqual(peer.queues.map((standing) => [standing.queue_id, standing.rank, standing.of, standing.count]), Array.from({ length: 9 }, (_, q) => [`q${q}`, q < 8 ? 2 : 1, q < 8 ? 3 : 2, q + 1]));
    const fromCopies = await storage.stats.queueStats('q3', range, 1, null);
    assert.deepEqual(fromCopies.agent_ranking.find((entry) => entry.agent_id === 'peer'), { rank: 2, agent_id: 'peer', average: 3, count: 4 });
  });
});

test('agent standings never pass for another run: a copy loaded before a run the caller saw makes the second snapshot differ', SKIP, async () => {
  await withDatabase('agent_version', async ({ open }) => {
    const [reader, writer] = await Promise.all([open(), open()]);
    await reader.migrate();
    const utc = new ZoneCalendar('UTC');
    await writer.db.insertInto('cc_csat').values({ call_id: 'v-1', agent_id: 'ana', queue_id: 'A', score: 3, comment: null, created_at: '2026-11-20T10:00:00.000Z' }).execute();
    await writer.rollups.refresh('full', utc, '2026-11-20T11:00:00.000Z');
    // A queue whose copy takes a while to load (300 agents x 1,500 days), so that a second request
    // joins a load that began before the next run.
    await sql`INSERT INTO csat_rollup SELECT 'agent_queue', 'day', 'A', 'x' || a, date '2020-01-01' + d, 1, 3, 0, 0, 1, 0, 0
      FROM generate_series(1, 300) AS a, generate_series(1, 1500) AS d`.execute(writer.db);
    const range = { period: 'day', from: '2026-11-20', to: '2026-11-20' } as const;
    const first = await reader.stats.snapshot();
    const slow = reader.stats.agentStats('ana', range, 1, first.asOf);
    await sleep(30);
    await writer.db.insertInto('cc_csat').values({ call_id: 'v-2', agent_id: 'ana', queue_id: 'A', score: 5, comment: null, created_at: '2026-11-20T10:30:00.000Z' }).execute();
    await reader.rollups.refresh('incremental', utc, '2026-11-20T12:00:00.000Z');
    const before = await reader.stats.snapshot();
    assert.notEqual(before.version, first.version);
    const answer = await within(reader.stats.agentStats('ana', range, 1, before.asOf), 60_000, 'agent stats during a copy load');
    const after = await reader.stats.snapshot();
    // What the API checks (src/http/snapshot-cache.ts): an unchanged snapshot means a clean answer, of one run.
    const standing = answer.queues.find((entry) => entry.queue_id === 'A');
    if (after.version === before.version) assert.equal(standing?.count, answer.count, 'a clean answer: the standing counts what the trend counts');
    assert.equal((await within(slow, 60_000, 'the first request')).agent_id, 'ana');
  });
});

// ------------------------------------------------------------------------------- leadership

test('leadership: exactly one engine leads; when its session is killed another takes over; an unreachable server means "not leading"', SKIP, async () => {
  await withDatabase('leadership', async ({ open, database }) => {
    const [a, b] = await Promise.all([open(), open()]);
    const results = await Promise.all([a.leadership.acquire(), b.leadership.acquire()]);
    assert.deepEqual([...results].sort(), [false, true], 'exactly one leads');
    const [leader, follower] = results[0] ? [a, b] : [b, a];
    assert.equal(await leader.leadership.acquire(), true, 'the leader stays leader');
    assert.equal(await follower.leadership.acquire(), false);

    const holders = async () =>
      (await withClient(database.url, (c) =>
        c.query<{ pid: number }>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted", [CC_CSAT_LOCK_CLASS, LOCK.leadership]),
      )).rows.map((row) => row.pid);
    const [leaderPid] = await holders();
    assert.ok(leaderPid !== undefined);
    // What the server does when the leader's process dies: its session ends, and the lock with it.
    await withClient(database.url, (c) => c.query('SELECT pg_terminate_backend($1)', [leaderPid]));
    let attempts = 0;
    while (!(await follower.leadership.acquire())) {
      assert.ok(++attempts < 100, 'the follower takes over within 100 attempts');
      await sleep(50);
    }
    assert.equal(await leader.leadership.acquire(), false, 'the old leader, reconnected, finds the lock taken');
    assert.notDeepEqual(await holders(), [leaderPid]);

    await follower.leadership.release();
    attempts = 0;
    while (!(await leader.leadership.acquire())) {
      assert.ok(++attempts < 100, 'released leadership is taken within 100 attempts');
      await sleep(50);
    }

    const nowhere = connectionTarget(`postgres://nobody@127.0.0.1:${await freePort()}/nothing`, { connectTimeoutMs: 2000 });
    const errors: Error[] = [];
    const stranded = new PostgresLeadership(nowhere.clientConfig, { onSessionError: (err) => errors.push(err) });
    assert.equal(await within(stranded.acquire(), 10_000, 'acquire against a closed port'), false);
    assert.ok(errors.length > 0, 'the failure is reported');
    await stranded.release();
  });
});

// ------------------------------------------------------------------------------- opening

test('open: a wrong password, a missing database or a refused connection fail with advice and without the password; probe says ok', SKIP, async () => {
  await withDatabase('open', async ({ database, open }) => {
    const storage = await open();
    assert.equal(storage.kind, 'postgres');
    const url = new URL(database.url);
    const password = decodeURIComponent(url.password);
    assert.ok(password.length > 0, 'the test server has a password');
    assert.ok(!storage.description.includes(password), 'description has no password');
    assert.equal(storage.description, Object.assign(new URL(database.url), { password: '' }).href);
    await storage.migrate();
    assert.equal(await storage.probe(), 'ok');
    assert.deepEqual(await resultState(storage.db), {}, 'the probe leaves nothing behind');

    const secret = 'not-the-password-7f3a';
    const wrongInUrl = Object.assign(new URL(database.url), { password: secret }).href;
    for (const options of [{ url: wrongInUrl }, { url: database.url, password: secret }]) {
      const err = await openPostgresStorage(options).then(
        () => assert.fail('opened with a wrong password'),
        (error: unknown) => error,
      );
      assert.ok(err instanceof DatabaseOpenError, String(err));
      assert.match(err.message, /password_env/);
      assert.ok(!err.message.includes(secret) && !err.message.includes(password), `no password in: ${err.message}`);
    }
    // The password option wins over the URL's.
    const rescued = await openPostgresStorage({ url: wrongInUrl, password });
    await rescued.close();

    const missing = Object.assign(new URL(database.url), { pathname: '/cc_csat_no_such_db' }).href;
    await assert.rejects(openPostgresStorage({ url: missing }), (err: Error) => {
      assert.ok(err instanceof DatabaseOpenError);
      assert.match(err.message, /createdb cc_csat_no_such_db/);
      assert.ok(!err.message.includes(password));
      return true;
    });
    const refused = Object.assign(new URL(database.url), { port: String(await freePort()) }).href;
    await assert.rejects(openPostgresStorage({ url: refused }), (err: Error) => err instanceof DatabaseOpenError && /refused/.test(err.message) && !err.message.includes(password));
    await assert.rejects(openPostgresStorage({ url: 'mysql://root@localhost/db' }), DatabaseOpenError);

    // After close, calls fail as storage trouble, not as a driver's TypeError.
    const closed = await openPostgresStorage({ url: database.url });
    await closed.close();
    await assert.rejects(closed.ratings.findByCallId('x'), (err: Error) => err instanceof StorageError && err.failure === 'unavailable');
    await assert.rejects(closed.stats.snapshot(), (err: Error) => err instanceof StorageError && err.failure === 'unavailable');
  });
});

test('connection settings and failures: the password stays out of descriptions and messages; pg failures map to StorageError', SKIP, () => {
  const target = connectionTarget('postgres://cc:s3cr%2Ft@db.example:6543/csat?sslmode=require&options=-c%20search_path%3Dcsat', { password: 'p@ss word' });
  assert.equal(target.description, 'postgres://cc@db.example:6543/csat?sslmode=require&options=-c%20search_path%3Dcsat');
  assert.deepEqual([target.database, target.user, target.address], ['csat', 'cc', 'db.example:6543']);
  const connectWith = new URL(target.clientConfig.connectionString!);
  assert.equal(connectWith.searchParams.get('password'), 'p@ss word', 'the password option wins over the URL');
  assert.equal(connectWith.password, '');
  assert.equal(connectWith.searchParams.get('options'), '-c search_path=csat -c TimeZone=UTC -c DateStyle=ISO', "the URL's own options are kept");
  assert.equal(target.redact('auth failed for p@ss word (p%40ss%20word)'), 'auth failed for *** (***)');
  const inQuery = connectionTarget('postgresql://cc@localhost/csat?password=hunter2');
  assert.equal(inQuery.description, 'postgresql://cc@localhost/csat');
  assert.equal(inQuery.redact('hunter2'), '***');
  assert.throws(() => connectionTarget('not a url :: hunter2'), (err: Error) => err instanceof DatabaseOpenError && !err.message.includes('hunter2'));

  const failure = (err: unknown) => asPostgresStorageError(err)?.failure;
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  assert.equal(failure(coded('57P01', 'terminating connection due to administrator command')), 'unavailable');
  assert.equal(failure(coded('08006')), 'unavailable');
  assert.equal(failure(coded('53300')), 'unavailable');
  assert.equal(failure(coded('ECONNREFUSED')), 'unavailable');
  assert.equal(failure(new Error('timeout exceeded when trying to connect')), 'unavailable');
  assert.equal(failure(new Error('Connection terminated unexpectedly')), 'unavailable');
  assert.equal(failure(coded('53100')), 'disk_full');
  assert.equal(failure(coded('25006', 'cannot execute INSERT in a read-only transaction')), 'read_only');
  assert.equal(failure(coded('0A000', 'cannot execute LOCK TABLE during recovery (hot standby)')), 'read_only');
  for (const code of ['40001', '40P01', '55P03']) assert.equal(failure(coded(code)), 'locked', code);
  for (const code of ['XX001', 'XX002']) assert.equal(failure(coded(code)), 'corrupt', code);
  assert.equal(failure(coded('58030')), 'io');
  // A constraint or a mistake in SQL is not storage trouble.
  for (const code of ['23505', '23514', '42601', '42P01']) assert.equal(failure(coded(code)), undefined, code);
});

// ------------------------------------------------------------------------------- agent buckets (sql/postgres/020)

test('agent buckets are summed when read: a pair first rated after the range ends, inside its last bucket, counts; 020 drops only agent rows', SKIP, async () => {
  await withDatabase('agent buckets', async ({ open }) => {
    const storage = await open();
    // A database of the release before 020, whose result runs stored agent rows.
    await migrate(storage.db, readMigrations(POSTGRES_MIGRATIONS_DIR).filter((migration) => migration.version < 20));
    await sql`INSERT INTO csat_rollup (scope, period, queue_id, agent_id, period_start, count, sum, n1, n2, n3, n4, n5) VALUES
      ('agent', 'day', '', 'old', '2026-01-05', 1, 5, 0, 0, 0, 0, 1),
      ('queue', 'day', 'q-old', '', '2026-01-05', 1, 5, 0, 0, 0, 0, 1),
      ('agent_queue', 'day', 'q-old', 'old', '2026-01-05', 1, 5, 0, 0, 0, 0, 1)`.execute(storage.db);
    assert.deepEqual((await storage.migrate()).map((migration) => migration.version), [20]);
    const left = await sql<{ scope: string }>`SELECT scope FROM csat_rollup ORDER BY scope`.execute(storage.db);
    assert.deepEqual(left.rows.map((row) => row.scope), ['agent_queue', 'queue'], 'the agent row is gone, the others stay');
    await assert.rejects(
      sql`INSERT INTO csat_rollup VALUES ('agent', 'day', '', 'old', '2026-01-06', 1, 5, 0, 0, 0, 0, 1)`.execute(storage.db),
      { code: '23514' },
      'an engine of the release before cannot store agent rows again',
    );
    await sql`DELETE FROM csat_rollup`.execute(storage.db);

    // ana: q1 from Monday 2 March, q2 from Wednesday 4 March; bo: first rated on 15 April, in q2.
    const ratings = [
      rating('a1', 'ana', 'q1', 5, '2026-03-02T09:00:00.000Z'),
      rating('a2', 'ana', 'q2', 1, '2026-03-04T09:00:00.000Z'),
      rating('a3', 'ana', 'q1', 3, '2026-04-01T09:00:00.000Z'),
      rating('a4', 'ana', 'q2', 4, '2026-04-20T09:00:00.000Z'),
      rating('b1', 'bo', 'q2', 2, '2026-04-15T09:00:00.000Z'),
      rating('b2', 'bo', 'q2', 5, '2026-04-15T10:00:00.000Z'),
    ];
    await seed(storage.db, ratings);
    const utc = new ZoneCalendar('UTC');
    await storage.rollups.refresh('full', utc, stamp());
    const agents = ['ana', 'bo', 'nobody'];
    const bucket = (agent_id: string, period_start: string, scores: number[]) => ({
      agent_id,
      period_start,
      count: scores.length,
      sum: scores.reduce((total, score) => total + score, 0),
      ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`n${n}`, scores.filter((score) => score === n).length])),
    });
    // The week of 2 March holds ana's q2 day of 4 March, although that pair starts after `to`.
    assert.deepEqual(await storage.surveyStats.agentCsatRows(agents, { period: 'week', from: '2026-03-02', to: '2026-03-02' }), [bucket('ana', '2026-03-02', [5, 1])]);
    // April, asked for up to its first day: bo's pair starts on the 15th, ana's q2 days are the 20th.
    assert.deepEqual(await storage.surveyStats.agentCsatRows(agents, { period: 'month', from: '2026-04-01', to: '2026-04-01' }), [
      bucket('ana', '2026-04-01', [3, 4]),
      bucket('bo', '2026-04-01', [2, 5]),
    ]);
    // A range starting after a bucket's start leaves that bucket out, whatever days of it are in range.
    assert.deepEqual(await storage.surveyStats.agentCsatRows(agents, { period: 'month', from: '2026-03-02', to: '2026-04-30' }), [
      bucket('ana', '2026-04-01', [3, 4]),
      bucket('bo', '2026-04-01', [2, 5]),
    ]);
    assert.deepEqual(await storage.surveyStats.agentCsatRows(agents, { period: 'day', from: '2026-03-03', to: '2026-04-15' }), [
      bucket('ana', '2026-03-04', [1]),
      bucket('ana', '2026-04-01', [3]),
      bucket('bo', '2026-04-15', [2, 5]),
    ]);
    assert.deepEqual(await storage.surveyStats.agentCsatRows(['nobody'], { period: 'month', from: '2026-01-01', to: '2026-12-31' }), []);
    const week = await storage.stats.agentStats('ana', { period: 'week', from: '2026-03-02', to: '2026-03-02' }, 1, null);
    assert.deepEqual([week.count, week.average, week.trend.map((point) => [point.period_start, point.count])], [2, 3, [['2026-03-02', 2]]]);

    // SQLite, which stores the agent rows, answers the same.
    const sqlite = openSqliteStorage(':memory:');
    try {
      await sqlite.migrate();
      await seed(sqlite.db, ratings);
      await sqlite.rollups.refresh('full', utc, stamp());
      const ranges = [
        { period: 'week', from: '2026-03-02', to: '2026-03-02' },
        { period: 'week', from: '2026-03-03', to: '2026-04-13' },
        { period: 'month', from: '2026-04-01', to: '2026-04-01' },
        { period: 'month', from: '2026-03-02', to: '2026-04-30' },
        { period: 'day', from: '2026-03-03', to: '2026-04-15' },
      ] as const;
      for (const range of ranges) {
        assert.deepEqual(await storage.surveyStats.agentCsatRows(agents, range), await sqlite.surveyStats.agentCsatRows(agents, range), JSON.stringify(range));
        for (const agent of agents) {
          assert.deepEqual(await storage.stats.agentStats(agent, range, 1, null), await sqlite.stats.agentStats(agent, range, 1, null), `${agent} ${JSON.stringify(range)}`);
        }
      }
    } finally {
      await sqlite.close();
    }
  });
});
