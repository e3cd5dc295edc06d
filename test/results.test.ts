// Result service and statistics endpoints against an independent reference computation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { AgentStats, QueueStats } from '../src/http/schemas.js';
import { join } from 'node:path';
import { migrate, readMigrations, SQLITE_MIGRATIONS_DIR } from '../src/db/migrate.js';
import { SqliteRollupStore } from '../src/db/sqlite/rollups.js';
import { openDatabase } from '../src/db/sqlite/open.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { DATABASES, startApi, type ApiHarness } from './helpers/api.js';
import { makeTempDir } from './helpers/config-tree.js';
import { within } from './helpers/wait.js';
import { localDay, reference, type SeedRating } from './helpers/reference-stats.js';
import { randomRatings, seed } from './helpers/seed-ratings.js';

async function assertMatchesReference(api: ApiHarness, ratings: readonly SeedRating[], tz: string, q: { period: 'day' | 'week' | 'month'; from: string; to: string }, label: string) {
  for (const queueId of ['sales-queue', 'support-queue']) {
    const res = await api.request('GET', `/cc/csat/queue/${queueId}?period=${q.period}&from=${q.from}&to=${q.to}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    QueueStats.parse(res.body);
    const expected = reference(ratings, tz, { ...q, queueId, minRatings: api.config.engine.results.min_ratings_to_rank });
    const context = `${label} queue ${queueId} ${q.period} ${q.from}..${q.to}`;
    assert.deepEqual([res.body.from, res.body.to], [expected.from, expected.to], context);
    assert.equal(res.body.count, expected.count, context);
    assert.equal(res.body.average, expected.average, context);
    assert.deepEqual(res.body.distribution, expected.distribution, context);
    assert.deepEqual(res.body.trend, expected.trend, context);
    assert.deepEqual(res.body.agent_ranking, expected.ranking(queueId), context);
  }
  for (const agentId of ['ana', 'cy']) {
    const res = await api.request('GET', `/cc/csat/agent/${agentId}?period=${q.period}&from=${q.from}&to=${q.to}`);
    assert.equal(res.status, 200);
    AgentStats.parse(res.body);
    const expected = reference(ratings, tz, { ...q, agentId, minRatings: api.config.engine.results.min_ratings_to_rank });
    const context = `${label} agent ${agentId} ${q.period} ${q.from}..${q.to}`;
    assert.equal(res.body.count, expected.count, context);
    assert.deepEqual(res.body.distribution, expected.distribution, context);
    assert.deepEqual(res.body.trend, expected.trend, context);
    for (const entry of res.body.queues) {
      const ranking = expected.ranking(entry.queue_id);
      const mine = ranking.find((r) => r.agent_id === agentId)!;
      assert.deepEqual(entry, { queue_id: entry.queue_id, rank: mine.rank, of: ranking.filter((r) => r.rank !== null).length, average: mine.average, count: mine.count }, context);
    }
  }
}

for (const { kind, skip } of DATABASES) {
  describe(`result service on ${kind}: numbers match an independent computation`, { skip }, () => {
    test('Europe/Paris: 23:30 UTC is the next local day; DST, week and month boundaries; every period kind', async () => {
      const tz = 'Europe/Paris';
      const api = await startApi({ database: kind, timezone: tz, now: new Date('2026-12-31T12:00:00Z') });
      try {
        const fixed: SeedRating[] = [
          // 23:30 UTC on 31 March is 01:30 on 1 April in Paris (CEST): next day, next month.
          { call_id: 'late-march', agent_id: 'ana', queue_id: 'sales-queue', score: 5, created_at: '2026-03-31T23:30:00.000Z' },
          // 22:30 UTC on Sunday 28 June is 00:30 Monday 29 June local: a new ISO week.
          { call_id: 'week-edge', agent_id: 'bo', queue_id: 'sales-queue', score: 2, created_at: '2026-06-28T22:30:00.000Z' },
          // Around the autumn DST change (25 Oct 2026, 01:00 UTC).
          { call_id: 'dst-before', agent_id: 'cy', queue_id: 'support-queue', score: 4, created_at: '2026-10-24T22:59:59.999Z' },
          { call_id: 'dst-after', agent_id: 'cy', queue_id: 'support-queue', score: 3, created_at: '2026-10-25T23:00:00.000Z' },
        ];
        assert.equal(localDay('2026-03-31T23:30:00.000Z', tz), '2026-04-01');
        const ratings = [...fixed, ...randomRatings(3000, Date.parse('2026-01-01T00:00:00Z'), 365, 42, 'r')];
        await seed(api.db, ratings);
        const report = await api.results.run();
        assert.equal(report.kind, 'full');

        const aprilFirst = await api.request('GET', '/cc/csat/agent/ana?period=day&from=2026-04-01&to=2026-04-01');
        const expectedApril = ratings.filter((r) => r.agent_id === 'ana' && localDay(r.created_at, tz) === '2026-04-01');
        assert.equal(aprilFirst.body.count, expectedApril.length);
        assert.ok(expectedApril.some((r) => r.call_id === 'late-march'));

        const queries = [
          { period: 'day', from: '2026-03-28', to: '2026-04-03' },
          { period: 'day', from: '2026-10-20', to: '2026-10-31' },
          { period: 'week', from: '2026-06-24', to: '2026-07-08' },
          { period: 'week', from: '2026-12-20', to: '2026-12-31' },
          { period: 'month', from: '2026-01-15', to: '2026-12-31' },
          { period: 'month', from: '2026-03-31', to: '2026-04-01' },
        ] as const;
        for (const q of queries) await assertMatchesReference(api, ratings, tz, q, 'paris');
      } finally {
        await api.close();
      }
    });

    test('America/New_York and UTC give different, each correct, local days for the same ratings', async () => {
      const ratings = randomRatings(1500, Date.parse('2026-02-20T00:00:00Z'), 60, 7, 'ny');
      for (const tz of ['America/New_York', 'UTC']) {
        const api = await startApi({ database: kind, timezone: tz, now: new Date('2026-05-01T00:00:00Z') });
        try {
          await seed(api.db, ratings);
          await api.results.run();
          await assertMatchesReference(api, ratings, tz, { period: 'day', from: '2026-03-01', to: '2026-03-20' }, tz);
          await assertMatchesReference(api, ratings, tz, { period: 'week', from: '2026-03-01', to: '2026-04-20' }, tz);
        } finally {
          await api.close();
        }
      }
    });

    test('ranking: average desc, then count desc, then agent_id asc; under min_ratings_to_rank: rank null', async () => {
      const api = await startApi({ database: kind, minRatingsToRank: 2, now: new Date('2026-11-20T12:00:00Z') });
      try {
        const at = '2026-11-20T10:00:00.000Z';
        const r = (call: string, agent: string, score: number): SeedRating => ({ call_id: call, agent_id: agent, queue_id: 'sales-queue', score, created_at: at });
        await seed(api.db, [
          // zed and amy tie on average and count: agent_id decides (amy first)
          r('1', 'zed', 4), r('2', 'zed', 4),
          r('3', 'amy', 5), r('4', 'amy', 3),
          // kim has the same average with more ratings: ahead of both
          r('5', 'kim', 4), r('6', 'kim', 4), r('7', 'kim', 4),
          // top average
          r('8', 'lou', 5), r('9', 'lou', 5),
          // only one rating: listed, not ranked, even with a perfect score
          r('10', 'solo', 5),
          // lowest average
          r('11', 'max', 1), r('12', 'max', 2),
        ]);
        await api.results.run();
        const res = await api.request('GET', '/cc/csat/queue/sales-queue?from=2026-11-20&to=2026-11-20');
        assert.deepEqual(res.body.agent_ranking, [
          { rank: 1, agent_id: 'lou', average: 5, count: 2 },
          { rank: 2, agent_id: 'kim', average: 4, count: 3 },
          { rank: 3, agent_id: 'amy', average: 4, count: 2 },
          { rank: 4, agent_id: 'zed', average: 4, count: 2 },
          { rank: 5, agent_id: 'max', average: 1.5, count: 2 },
          { rank: null, agent_id: 'solo', average: 5, count: 1 },
        ]);
        const solo = await api.request('GET', '/cc/csat/agent/solo?from=2026-11-20&to=2026-11-20');
        assert.deepEqual(solo.body.queues, [{ queue_id: 'sales-queue', rank: null, of: 5, average: 5, count: 1 }]);
        const kim = await api.request('GET', '/cc/csat/agent/kim?from=2026-11-20&to=2026-11-20');
        assert.deepEqual(kim.body.queues, [{ queue_id: 'sales-queue', rank: 2, of: 5, average: 4, count: 3 }]);
      } finally {
        await api.close();
      }
    });

    test('incremental refresh: only touched buckets recomputed, identical to a full rebuild, visible only after the run', async () => {
      const tz = 'Europe/Paris';
      const api = await startApi({ database: kind, timezone: tz, now: new Date('2026-09-30T12:00:00Z') });
      try {
        const initial = randomRatings(2000, Date.parse('2026-06-01T00:00:00Z'), 120, 11, 'a');
        await seed(api.db, initial);
        const first = await api.results.run();
        assert.equal(first.kind, 'full');
        const asOfBefore = (await api.request('GET', '/cc/csat/queue/sales-queue?period=month&from=2026-06-01&to=2026-09-30')).body;

        // New ratings on four local days, one of them 23:45 UTC on 31 Aug (= 1 Sep in Paris).
        const fresh: SeedRating[] = [
          { call_id: 'n1', agent_id: 'ana', queue_id: 'sales-queue', score: 1, created_at: '2026-08-31T23:45:00.000Z' },
          { call_id: 'n2', agent_id: 'ana', queue_id: 'sales-queue', score: 1, created_at: '2026-09-29T08:00:00.000Z' },
          { call_id: 'n3', agent_id: 'new-agent', queue_id: 'support-queue', score: 5, created_at: '2026-09-29T09:00:00.000Z' },
          { call_id: 'n4', agent_id: 'bo', queue_id: 'sales-queue', score: 3, created_at: '2026-07-15T12:00:00.000Z' },
          // After every earlier rating: moves this agent's last rated day in the queue.
          { call_id: 'n5', agent_id: 'cy', queue_id: 'support-queue', score: 4, created_at: '2026-09-30T10:00:00.000Z' },
        ];
        await seed(api.db, fresh);
        const stale = (await api.request('GET', '/cc/csat/queue/sales-queue?period=month&from=2026-06-01&to=2026-09-30')).body;
        assert.equal(stale.count, asOfBefore.count, 'not visible before the next run');

        api.clock.now = new Date('2026-09-30T12:05:00Z');
        const second = await api.results.run();
        assert.deepEqual([second.kind, second.newRatings, second.touchedDays], ['incremental', 5, 4]);
        const all = [...initial, ...fresh];
        await assertMatchesReference(api, all, tz, { period: 'month', from: '2026-06-01', to: '2026-09-30' }, 'incremental');
        await assertMatchesReference(api, all, tz, { period: 'week', from: '2026-08-24', to: '2026-09-13' }, 'incremental');
        await assertMatchesReference(api, all, tz, { period: 'day', from: '2026-08-30', to: '2026-09-02' }, 'incremental');
        const fresher = await api.request('GET', '/cc/csat/queue/sales-queue?period=month&from=2026-06-01&to=2026-09-30');
        assert.equal(fresher.body.as_of, '2026-09-30T12:05:00.000Z');

        const snapshot = async () => ({
          rollups: (await sql<Record<string, unknown>>`SELECT * FROM csat_rollup ORDER BY scope, period, queue_id, agent_id, period_start`.execute(api.db)).rows,
          // PostgreSQL stores no running totals (sql/postgres/019): its rankings sum the rollup rows above.
          running: kind === 'sqlite' ? (await sql<Record<string, unknown>>`SELECT * FROM csat_running ORDER BY queue_id, agent_id, day`.execute(api.db)).rows : [],
          queueAgents: (await sql<Record<string, unknown>>`SELECT * FROM csat_queue_agent ORDER BY queue_id, agent_id`.execute(api.db)).rows,
        });
        const incremental = await snapshot();
        const third = await api.results.run('full');
        assert.equal(third.kind, 'full');
        assert.deepEqual(await snapshot(), incremental, 'incremental rollups equal a full rebuild');
        assert.equal((await api.results.run()).kind, 'unchanged');
      } finally {
        await api.close();
      }
    });

    test('while a result-service run is writing, statistics answer at once from the last committed run', async () => {
      const api = await startApi({ database: kind, timezone: 'UTC', now: new Date('2026-11-20T12:00:00Z') });
      try {
        await seed(api.db, randomRatings(300, Date.parse('2026-11-01T00:00:00Z'), 19, 5, 'w'));
        await api.results.run();
        const cachedUrl = '/cc/csat/queue/sales-queue?period=day&from=2026-11-01&to=2026-11-19';
        const freshUrl = '/cc/csat/agent/ana?period=week&from=2026-11-02&to=2026-11-15';
        const before = (await api.request('GET', cachedUrl)).body;
        await api.db.connection().execute(async (conn) => {
          // What a run looks like from outside while it writes: rollups changed, stamp moved, no commit yet.
          await (kind === 'sqlite' ? sql`BEGIN IMMEDIATE` : sql`BEGIN`).execute(conn);
          await sql`UPDATE csat_rollup SET count = count + 1000, sum = sum + 1000`.execute(conn);
          if (kind === 'sqlite') await sql`UPDATE csat_running SET count = count + 1000`.execute(conn);
          await sql`UPDATE result_state SET value = '2099-01-01T00:00:00.000Z' WHERE key = 'refreshed_at'`.execute(conn);
          const during = await within(api.request('GET', cachedUrl, { duringOpenTransaction: true }), 5000, 'a statistics answer during the run');
          assert.deepEqual(during.body, before, 'the answer of the last committed run');
          const uncached = await within(api.request('GET', freshUrl, { duringOpenTransaction: true }), 5000, 'an uncached statistics answer during the run');
          await sql`ROLLBACK`.execute(conn);
          assert.deepEqual(uncached.body, (await api.request('GET', freshUrl)).body, 'nothing of the uncommitted run');
        });
      } finally {
        await api.close();
      }
    });

    test('a default window ends on the local today: it moves at local midnight, and back if the clock is stepped back', async () => {
      const api = await startApi({ database: kind, timezone: 'Europe/Paris', now: new Date('2026-11-20T22:59:59.999Z') });
      try {
        const to = async () => (await api.request('GET', '/cc/csat/queue/sales-queue?days=7')).body.to;
        assert.equal(await to(), '2026-11-20', 'one millisecond before midnight in Paris');
        api.clock.now = new Date('2026-11-20T23:00:00.000Z');
        assert.equal(await to(), '2026-11-21', 'midnight in Paris, 23:00 UTC');
        api.clock.now = new Date('2026-11-20T22:30:00.000Z');
        assert.equal(await to(), '2026-11-20', 'an NTP step back');
      } finally {
        await api.close();
      }
    });

    test('an agent with tens of millions of ratings in a queue still ranks exactly', async () => {
      const api = await startApi({ database: kind, timezone: 'UTC', now: new Date('2026-11-20T12:00:00Z') });
      try {
        // Running totals this large no longer fit the packed single-integer form exactly (2^53).
        await sql`INSERT INTO csat_queue_agent (queue_id, agent_id, first_day, last_day) VALUES
          ('sales-queue', 'veteran', '2019-01-02', '2026-11-10'), ('sales-queue', 'newcomer', '2026-11-10', '2026-11-10')`.execute(api.db);
        if (kind === 'sqlite') {
          await sql`INSERT INTO csat_running (queue_id, agent_id, day, count, sum) VALUES
            ('sales-queue', 'veteran', '2026-11-09', 40000000, 160000000),
            ('sales-queue', 'veteran', '2026-11-10', 40000003, 160000015),
            ('sales-queue', 'newcomer', '2026-11-10', 2, 9)`.execute(api.db);
        } else {
          // PostgreSQL keeps the day rows the totals are summed from (sql/postgres/019).
          await sql`INSERT INTO csat_rollup (scope, period, queue_id, agent_id, period_start, count, sum, n1, n2, n3, n4, n5) VALUES
            ('agent_queue', 'day', 'sales-queue', 'veteran', '2026-11-09', 40000000, 160000000, 0, 0, 0, 40000000, 0),
            ('agent_queue', 'day', 'sales-queue', 'veteran', '2026-11-10', 3, 15, 0, 0, 0, 0, 3),
            ('agent_queue', 'day', 'sales-queue', 'newcomer', '2026-11-10', 2, 9, 0, 0, 0, 1, 1)`.execute(api.db);
        }
        const res = await api.request('GET', '/cc/csat/queue/sales-queue?from=2026-11-10&to=2026-11-10');
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body.agent_ranking, [
          { rank: 1, agent_id: 'veteran', average: 5, count: 3 },
          { rank: 2, agent_id: 'newcomer', average: 4.5, count: 2 },
        ]);
      } finally {
        await api.close();
      }
    });

    test('a timezone change forces a full rebuild; overlapping runs are joined, never doubled', async () => {
      const api = await startApi({ database: kind, timezone: 'UTC' });
      try {
        await seed(api.db, randomRatings(200, Date.parse('2026-11-01T00:00:00Z'), 10, 3, 't'));
        const [a, b] = await Promise.all([api.results.run(), api.results.run()]);
        assert.equal(a, b, 'the second call joined the first run');
        await sql`UPDATE result_state SET value = 'Asia/Kolkata' WHERE key = 'timezone'`.execute(api.db);
        assert.equal((await api.results.run()).kind, 'full');
      } finally {
        await api.close();
      }
    });

  });
}

describe('result service on SQLite: upgrades and the command line', () => {
  test('upgrading a database from before running totals: rankings are right at once, and equal a rebuild', async () => {
    const database = openDatabase(join(makeTempDir(), 'cc.db'));
    try {
      await migrate(database.db, readMigrations(SQLITE_MIGRATIONS_DIR).filter((migration) => migration.version <= 3));
      const ratings = randomRatings(600, Date.parse('2026-10-01T00:00:00Z'), 40, 21, 'u');
      await seed(database.db, ratings);
      // The rollups as the previous release left them (UTC): day base, plus agent-in-queue weeks.
      await sql`INSERT INTO csat_rollup SELECT 'agent_queue', 'day', queue_id, agent_id, substr(created_at, 1, 10), count(*), sum(score),
        sum(score = 1), sum(score = 2), sum(score = 3), sum(score = 4), sum(score = 5) FROM cc_csat GROUP BY 3, 4, 5`.execute(database.db);
      await sql`INSERT INTO csat_rollup SELECT 'agent_queue', 'week', queue_id, agent_id, date(period_start, '-6 days', 'weekday 1') AS w,
        sum(count), sum(sum), sum(n1), sum(n2), sum(n3), sum(n4), sum(n5) FROM csat_rollup WHERE scope = 'agent_queue' GROUP BY 3, 4, 5`.execute(database.db);

      const upgrade = readMigrations(SQLITE_MIGRATIONS_DIR).filter((migration) => migration.version <= 4);
      assert.deepEqual((await migrate(database.db, upgrade)).map((migration) => migration.name), ['running_totals']);
      const tables = async () => ({
        running: (await sql`SELECT * FROM csat_running ORDER BY queue_id, agent_id, day`.execute(database.db)).rows,
        queueAgents: (await sql`SELECT * FROM csat_queue_agent ORDER BY queue_id, agent_id`.execute(database.db)).rows,
      });
      const migrated = await tables();
      assert.ok(migrated.running.length > 0);
      const leftover = await sql<{ n: number }>`SELECT count(*) AS n FROM csat_rollup WHERE scope = 'agent_queue' AND period <> 'day'`.execute(database.db);
      assert.equal(leftover.rows[0]!.n, 0, 'agent-in-queue weeks and months are gone');

      await new ResultService({ rollups: new SqliteRollupStore(database.writes), timezone: 'UTC', log: createLogger('silent') }).run('full');
      assert.deepEqual(await tables(), migrated, 'what the migration filled equals a full rebuild');
    } finally {
      await database.close();
    }
  });

  test('cc-csat aggregate runs once from the command line, incremental or --full', async () => {
    const { runCli } = await import('./helpers/cli.js');
    const { writeConfigTree } = await import('./helpers/config-tree.js');
    const tree = writeConfigTree();
    const first = await runCli(['aggregate', '--config', tree.enginePath], { cwd: tree.dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^full: 0 rating\(s\) folded in/);
    const again = await runCli(['aggregate', '--config', tree.enginePath], { cwd: tree.dir });
    assert.match(again.stdout, /^unchanged:/);
    const full = await runCli(['aggregate', '--full', '--config', tree.enginePath], { cwd: tree.dir });
    assert.match(full.stdout, /^full:/);
  });
});
