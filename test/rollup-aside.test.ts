// SQLite's full rollup build runs aside (a worker thread into a scratch file, then swapped in by the
// writer): ratings commit while it builds, what they store meanwhile is in the result, the result
// equals a build inside the writer's transaction, and a build that fails changes nothing.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import type { Database, NewAnswer, NewSurveyOutcome } from '../src/db/schema.js';
import { SqliteRollupStore } from '../src/db/sqlite/rollups.js';
import { openSqliteStorage, type SqliteStorage } from '../src/db/sqlite/storage.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { ZoneCalendar } from '../src/results/zone.js';
import { makeTempDir } from './helpers/config-tree.js';

const PARIS = 'Europe/Paris';
const BOUND_MS = 20_000;

/** Resolves with `promise`, or fails naming `what` after BOUND_MS. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${BOUND_MS} ms`)), BOUND_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

let sequence = 0;

/** `count` calls (a rating, two answers and an outcome each) over the 40 days before 2026-04-10. */
async function storeCalls(db: Kysely<Database>, count: number, prefix: string): Promise<void> {
  const agents = ['ana', 'bo', 'cy'];
  const queues = ['sales', 'support'];
  for (let i = 0; i < count; i++) {
    const n = sequence++;
    const at = new Date(Date.parse('2026-03-01T00:00:00Z') + ((n * 7_919_000) % (40 * 86_400_000))).toISOString();
    const agent = agents[n % 3]!;
    const queue = queues[n % 2]!;
    const callId = `${prefix}-${i}`;
    await db.insertInto('cc_csat').values({ call_id: callId, agent_id: agent, queue_id: queue, score: 1 + (n % 5), comment: null, created_at: at }).execute();
    const answers: NewAnswer[] = [
      { call_id: callId, question_id: 'q1', kind: 'csat', value: 1 + (n % 5), digits: String(1 + (n % 5)), agent_id: agent, queue_id: queue, ivr: 'main', answered_at: at },
      { call_id: callId, question_id: 'q2', kind: 'nps', value: n % 11, digits: String(n % 11), agent_id: agent, queue_id: queue, ivr: 'main', answered_at: at },
    ];
    await db.insertInto('survey_answer').values(answers).execute();
    const outcome: NewSurveyOutcome = {
      call_id: callId,
      channel_id: `ch-${callId}`,
      agent_id: n % 7 === 0 ? null : agent,
      queue_id: n % 5 === 0 ? null : queue,
      ivr: 'main',
      outcome: n % 4 === 0 ? 'failed' : 'completed',
      reason: n % 4 === 0 ? `socket closed on channel ch-${n}` : null,
      attempts: 1,
      last_step: null,
      score: null,
      started_at: at,
      ended_at: at,
      server: null,
      consent: null,
    };
    await db.insertInto('survey_outcome').values(outcome).execute();
  }
}

/** Every table a run writes, and result_state's run keys but the stamp. */
async function runTables(db: Kysely<Database>) {
  const all = async (table: string, order: string) => (await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} ORDER BY ${sql.raw(order)}`.execute(db)).rows;
  return {
    csat: await all('csat_rollup', 'scope, period, queue_id, agent_id, period_start'),
    running: await all('csat_running', 'queue_id, agent_id, day'),
    queueAgent: await all('csat_queue_agent', 'queue_id, agent_id'),
    answers: await all('answer_rollup', 'scope, period, queue_id, agent_id, period_start, question_id, kind, value'),
    outcomes: await all('outcome_rollup', 'scope, period, queue_id, agent_id, period_start, outcome, detail, consent'),
    state: (await sql<Record<string, unknown>>`SELECT key, value FROM result_state WHERE key <> 'refreshed_at' ORDER BY key`.execute(db)).rows,
  };
}

async function openFile(): Promise<{ storage: SqliteStorage; path: string }> {
  const path = join(makeTempDir(), 'cc.db');
  const storage = openSqliteStorage(path);
  await storage.migrate();
  return { storage, path };
}

describe('a full rollup build on SQLite runs aside and is swapped in', () => {
  test('a rating stored while the build runs commits before it ends, and is in the rollups after it', async () => {
    const { storage } = await openFile();
    try {
      await storeCalls(storage.db, 400, 'before');
      const results = new ResultService({ rollups: storage.rollups, timezone: PARIS, log: createLogger('silent') });
      const run = results.run('full');
      const stored = storage.ratings.insert({ call_id: 'during-1', agent_id: 'ana', queue_id: 'sales', score: 5, comment: null, created_at: '2026-04-09T10:00:00.000Z' }, 'test rating');
      // Before the aside build, a full run held the writer: the rating could only commit after it.
      const first = await within(Promise.race([stored.then(() => 'rating'), run.then(() => 'run')]), 'rating or run');
      assert.equal(first, 'rating', 'the rating committed while the full build was running');
      const report = await within(run, 'full run');
      assert.equal(report.kind, 'full');
      assert.equal(report.newRatings, 401, 'the rating stored during the build is counted');
      const day = (await sql<{ count: number }>`SELECT count FROM csat_rollup WHERE scope = 'queue' AND period = 'day' AND queue_id = 'sales' AND period_start = '2026-04-09'`.execute(storage.db)).rows[0];
      const expected = (await sql<{ n: number }>`SELECT count(*) AS n FROM cc_csat WHERE queue_id = 'sales' AND created_at >= '2026-04-08T22:00:00.000Z' AND created_at < '2026-04-09T22:00:00.000Z'`.execute(storage.db)).rows[0]!.n;
      assert.equal(day?.count, expected, "sales' 9 April counts the rating stored during the build");
    } finally {
      await storage.close();
    }
  });

  test('rows stored between the build and the swap are folded in: the result equals a full build inside the transaction', async () => {
    const { storage, path } = await openFile();
    try {
      await storeCalls(storage.db, 300, 'first');
      const rollups = new SqliteRollupStore(storage.database.writes, {
        livePath: path,
        beforeSwap: async () => {
          // The writer is free here: these commit at once, after the build's snapshot.
          await within(storeCalls(storage.db, 120, 'meanwhile'), 'writes between build and swap');
        },
      });
      const zone = new ZoneCalendar(PARIS);
      const report = await within(rollups.refresh('full', zone, '2026-04-10T00:00:00.000Z'), 'aside full run');
      assert.equal(report.kind, 'full');
      assert.deepEqual([report.newRatings, report.newAnswers, report.newOutcomes], [420, 840, 420], 'the build and the catch-up count every row once');
      const aside = await runTables(storage.db);

      // The same data built inside the writer's transaction (the path of an in-memory database).
      const inTransaction = new SqliteRollupStore(storage.database.writes, {});
      await within(inTransaction.refresh('full', zone, '2026-04-10T00:00:00.000Z'), 'in-transaction full run');
      assert.deepEqual(aside, await runTables(storage.db), 'aside build + catch-up = a full build, row for row');
      assert.ok(aside.answers.length > 0 && aside.outcomes.length > 0 && aside.csat.length > 0);
      assert.equal(existsSync(`${path}.rollup-build`), false, 'the scratch file is removed');
    } finally {
      await storage.close();
    }
  });

  test('a build that fails changes nothing, leaves no transaction open, and the next run completes', async () => {
    const { storage, path } = await openFile();
    try {
      await storeCalls(storage.db, 200, 'a');
      const results = new ResultService({ rollups: storage.rollups, timezone: PARIS, log: createLogger('silent') });
      await within(results.run('full'), 'first full run');
      await storeCalls(storage.db, 50, 'b');
      const before = await runTables(storage.db);
      // The worker cannot read the answers: its build fails half-way, after the csat part.
      await sql`ALTER TABLE survey_answer RENAME TO survey_answer_away`.execute(storage.db);
      await assert.rejects(within(results.run('full'), 'failing full run'), /rollup build failed: .*survey_answer/);
      assert.equal(storage.database.sqlite.inTransaction, false, 'no transaction left open');
      assert.deepEqual(await runTables(storage.db), before, 'the failed build changed nothing');
      assert.equal(existsSync(`${path}.rollup-build`), false, 'the scratch file is removed');
      await sql`ALTER TABLE survey_answer_away RENAME TO survey_answer`.execute(storage.db);
      const next = await within(results.run('full'), 'next full run');
      assert.deepEqual([next.newRatings, next.newAnswers, next.newOutcomes], [250, 500, 250]);
    } finally {
      await storage.close();
    }
  });

  test('a scratch file left by a build that was killed does not stop the next one', async () => {
    const { storage, path } = await openFile();
    try {
      await storeCalls(storage.db, 100, 'a');
      writeFileSync(`${path}.rollup-build`, 'half a database from a build killed with -9');
      writeFileSync(`${path}.rollup-build-journal`, 'its journal');
      const results = new ResultService({ rollups: storage.rollups, timezone: PARIS, log: createLogger('silent') });
      const report = await within(results.run(), 'first run');
      assert.equal(report.kind, 'full');
      assert.equal(report.newRatings, 100);
      assert.equal(existsSync(`${path}.rollup-build`), false);
      // And incremental runs after it take the ordinary path.
      await storeCalls(storage.db, 10, 'b');
      const next = await within(results.run(), 'incremental run');
      assert.equal(next.kind, 'incremental');
      assert.deepEqual([next.newRatings, next.newAnswers, next.newOutcomes], [10, 20, 10]);
    } finally {
      await storage.close();
    }
  });
});
