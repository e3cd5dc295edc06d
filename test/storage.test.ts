import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { migrate, readMigrations, SQLITE_MIGRATIONS_DIR } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/sqlite/open.js';
import { insertOutcome, outcomesForCall } from '../src/db/outcomes.js';
import { Precompiled } from '../src/db/precompiled.js';
import { findRatingByCallId, insertRating } from '../src/db/ratings.js';
import { makeTempDir, writeConfigTree } from './helpers/config-tree.js';
import { runCli } from './helpers/cli.js';

const rating = (callId: string, score: number) => ({
  call_id: callId,
  agent_id: 'agent-001',
  queue_id: 'sales-queue',
  score,
  comment: null,
  created_at: new Date().toISOString(),
});

describe('storage', () => {
  test('migrations apply once, in order, on a real SQLite file in WAL mode', async () => {
    const path = join(makeTempDir(), 'cc.db');
    const first = openDatabase(path);
    const applied = await migrate(first.db, readMigrations(SQLITE_MIGRATIONS_DIR));
    assert.deepEqual(applied.map((m) => m.version), readMigrations(SQLITE_MIGRATIONS_DIR).map((m) => m.version));
    assert.ok(applied.length >= 2);
    assert.deepEqual(await migrate(first.db, readMigrations(SQLITE_MIGRATIONS_DIR)), [], 'second run applies nothing');
    await first.close();

    const reopened = openDatabase(path);
    assert.deepEqual(await migrate(reopened.db, readMigrations(SQLITE_MIGRATIONS_DIR)), [], 'reopening applies nothing');
    await reopened.close();

    const raw = new SqliteDatabase(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    const recorded = raw.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(recorded, applied.map((m) => ({ version: m.version, name: m.name })));
    const columns = raw.prepare("SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info('cc_csat')").all();
    assert.deepEqual(columns, [
      { name: 'id', type: 'INTEGER', nn: 0, pk: 1 },
      { name: 'call_id', type: 'TEXT', nn: 1, pk: 0 },
      { name: 'agent_id', type: 'TEXT', nn: 1, pk: 0 },
      { name: 'queue_id', type: 'TEXT', nn: 1, pk: 0 },
      { name: 'score', type: 'INTEGER', nn: 1, pk: 0 },
      { name: 'comment', type: 'TEXT', nn: 0, pk: 0 },
      { name: 'created_at', type: 'TEXT', nn: 1, pk: 0 },
    ]);
    const indexes = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cc_csat' AND sql IS NOT NULL ORDER BY name").all();
    assert.deepEqual(indexes, [{ name: 'cc_csat_agent_created' }, { name: 'cc_csat_created' }, { name: 'cc_csat_queue_created' }]);
    raw.close();
  });

  test('cc-csat migrate applies pending migrations, then reports up to date', async () => {
    const tree = writeConfigTree();
    const first = await runCli(['migrate', '--config', tree.enginePath], { cwd: tree.dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 001_cc_csat, 002_survey_outcome, 003_rollups/);
    const second = await runCli(['migrate', '--config', tree.enginePath], { cwd: tree.dir });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date/);
  });

  test('score must be 1-5 (CHECK), call_id is UNIQUE, created_at must be UTC ISO-8601 with ms', async () => {
    const { db, sqlite, close } = openDatabase(join(makeTempDir(), 'cc.db'));
    await migrate(db, readMigrations(SQLITE_MIGRATIONS_DIR));
    for (const bad of [0, 6, -1]) {
      assert.throws(
        () => sqlite.prepare("INSERT INTO cc_csat (call_id, agent_id, queue_id, score, created_at) VALUES (?, 'a', 'q', ?, '2026-11-20T14:03:07.123Z')").run(`c${bad}`, bad),
        /CHECK constraint failed/,
      );
    }
    assert.throws(
      () => sqlite.prepare("INSERT INTO cc_csat (call_id, agent_id, queue_id, score, created_at) VALUES ('x', 'a', 'q', 3, '2026-11-20 14:03:07')").run(),
      /CHECK constraint failed/,
    );
    sqlite.prepare("INSERT INTO cc_csat (call_id, agent_id, queue_id, score, created_at) VALUES ('dup', 'a', 'q', 3, '2026-11-20T14:03:07.123Z')").run();
    assert.throws(
      () => sqlite.prepare("INSERT INTO cc_csat (call_id, agent_id, queue_id, score, created_at) VALUES ('dup', 'a', 'q', 4, '2026-11-20T14:03:08.123Z')").run(),
      /UNIQUE constraint failed: cc_csat\.call_id/,
    );
    await close();
  });

  test('the background checkpointer moves WAL pages into the database file off the event loop', async () => {
    const path = join(makeTempDir(), 'cc.db');
    const { db, close } = openDatabase(path, { walAutocheckpointPages: 100_000 });
    await migrate(db, readMigrations(SQLITE_MIGRATIONS_DIR));
    for (let i = 0; i < 2000; i++) await insertRating(db, rating(`wal-${i}`, 1 + (i % 5)));
    const { startCheckpointer } = await import('../src/db/sqlite/checkpointer.js');
    const { createLogger } = await import('../src/log.js');
    const checkpointer = startCheckpointer(path, 50, createLogger('silent'));
    const deadline = Date.now() + 5000;
    while (checkpointer.lastCheckpointed <= 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(checkpointer.lastCheckpointed > 0, 'the worker checkpointed committed pages');
    await checkpointer.stop();
    const reader = new SqliteDatabase(path, { readonly: true });
    assert.equal((reader.prepare('SELECT count(*) AS n FROM cc_csat').get() as { n: number }).n, 2000);
    reader.close();
    await close();
  });

  test('insertRating keeps the first rating of a call and returns it on a second attempt', async () => {
    const { db, close } = openDatabase(join(makeTempDir(), 'cc.db'));
    await migrate(db, readMigrations(SQLITE_MIGRATIONS_DIR));
    const first = await insertRating(db, rating('call-9', 4));
    assert.equal(first.inserted, true);
    const second = await insertRating(db, rating('call-9', 1));
    assert.equal(second.inserted, false);
    assert.equal(second.inserted === false && second.existing.score, 4);
    assert.equal((await findRatingByCallId(db, 'call-9'))?.score, 4);
    await close();
  });

  test('the compiled-once survey writes put every value in its own column, on the writer gate and off it', async () => {
    const { db, writes, close } = openDatabase(join(makeTempDir(), 'cc.db'));
    await migrate(db, readMigrations(SQLITE_MIGRATIONS_DIR));
    // Distinct values everywhere: a swapped parameter slot would show as a value in the wrong column.
    const stored = await writes.write('test', (conn) =>
      insertRating(conn, { call_id: 'c-1', agent_id: 'a-1', queue_id: 'q-1', score: 2, comment: 'loud line', created_at: '2026-11-27T10:00:00.000Z' }),
    );
    assert.equal(stored.inserted, true);
    await insertRating(db, { call_id: 'c-2', agent_id: 'a-2', queue_id: 'q-2', score: 5, created_at: '2026-11-27T11:00:00.000Z' });
    const { id: _first, ...first } = (await findRatingByCallId(db, 'c-1'))!;
    assert.deepEqual(first, { call_id: 'c-1', agent_id: 'a-1', queue_id: 'q-1', score: 2, comment: 'loud line', created_at: '2026-11-27T10:00:00.000Z' });
    assert.equal((await findRatingByCallId(db, 'c-2'))?.comment, null, 'a comment left out is NULL');
    await insertOutcome(db, {
      call_id: 'c-1', channel_id: 'ch-1', agent_id: 'a-1', queue_id: 'q-1', ivr: 'csat-survey', outcome: 'completed', reason: 'r',
      attempts: 3, last_step: 'thanks', score: 2, started_at: '2026-11-27T10:00:00.000Z', ended_at: '2026-11-27T10:00:09.000Z', server: 'pbx-b', consent: 'accepted',
    });
    const { id: _outcome, ...outcome } = (await outcomesForCall(db, 'c-1'))[0]!;
    assert.deepEqual(outcome, {
      call_id: 'c-1', channel_id: 'ch-1', agent_id: 'a-1', queue_id: 'q-1', ivr: 'csat-survey', outcome: 'completed', reason: 'r',
      attempts: 3, last_step: 'thanks', score: 2, started_at: '2026-11-27T10:00:00.000Z', ended_at: '2026-11-27T10:00:09.000Z', server: 'pbx-b', consent: 'accepted',
    });
    await close();
  });

  test('a precompiled query whose builder sneaks in a value of its own, or forgets one, is refused, naming its SQL', async () => {
    const { db, close } = openDatabase(':memory:');
    await migrate(db, readMigrations(SQLITE_MIGRATIONS_DIR));
    const sneaky = new Precompiled<{ call_id: string }, unknown>(
      (conn, { call_id }) => conn.selectFrom('cc_csat').selectAll().where('call_id', '=', call_id).where('score', '=', 3),
      ['call_id'],
    );
    await assert.rejects(() => sneaky.execute(db, { call_id: 'x' }), /parameter not taken from its values: select/);
    // A value the builder forgot would silently not be stored.
    const forgetful = new Precompiled<{ call_id: string; score: number }, unknown>(
      (conn, { call_id }) => conn.selectFrom('cc_csat').selectAll().where('call_id', '=', call_id),
      ['call_id', 'score'],
    );
    await assert.rejects(() => forgetful.execute(db, { call_id: 'x', score: 3 }), /does not bind score: select/);
    await close();
  });
});
