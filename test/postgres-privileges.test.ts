// README "PostgreSQL": the engine's role owns the tables, or holds SELECT, INSERT, UPDATE and DELETE on
// them. An engine on such a role (the tables created by another) rates, runs the result service (a
// first run, a change of zone, incremental runs) and answers statistics; only the table owner's first
// run may take the faster bulk-load path.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { openPostgresStorage, type PostgresStorage } from '../src/db/postgres/open.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { alignRange } from '../src/results/stats-shape.js';
import { createPostgresDatabase, POSTGRES_ADMIN_URL, POSTGRES_SKIP } from './helpers/postgres.js';

const AT = Date.parse('2026-11-20T10:00:00.000Z');

test('a role with only SELECT, INSERT, UPDATE and DELETE on the tables rates, runs the result service and answers', { skip: POSTGRES_SKIP }, async () => {
  const database = await createPostgresDatabase('privileges');
  const role = `cc_csat_dml_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: database.url });
  // Dropping the database ends this session.
  admin.on('error', () => undefined);
  await admin.connect();
  const storages: PostgresStorage[] = [];
  try {
    // The tables are created (and owned) by the admin, as a DBA would before handing out a role.
    const owner = await openPostgresStorage({ url: database.url, poolMax: 2 });
    storages.push(owner);
    await owner.migrate();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await admin.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
    await admin.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);

    const url = new URL(database.url);
    url.username = role;
    url.password = '';
    const engine = await openPostgresStorage({ url: url.toString(), password, poolMax: 4 });
    storages.push(engine);
    assert.deepEqual(await engine.migrate(), [], 'nothing left to migrate');
    const rate = async (i: number, score: number) => {
      const created_at = new Date(AT + i * 60_000).toISOString();
      const result = await engine.answers.record(
        { call_id: `dml-${i}`, question_id: 'ask', kind: 'csat', value: score, digits: String(6 - score), recording: null, recording_ms: null, recording_format: null, language: null, agent_id: 'ana', queue_id: 'sales-queue', ivr: 'survey', answered_at: created_at },
        { call_id: `dml-${i}`, agent_id: 'ana', queue_id: 'sales-queue', score, comment: null, created_at },
      );
      assert.equal(result.rating?.inserted, true);
    };
    for (let i = 0; i < 10; i++) await rate(i, 1 + (i % 5));
    const log = createLogger('silent');
    const count = async (): Promise<number> => {
      const range = alignRange('day', '2026-11-19', '2026-11-21');
      return (await engine.stats.queueStats('sales-queue', range, 1, null)).count;
    };

    const first = await new ResultService({ rollups: engine.rollups, timezone: 'UTC', log }).run('incremental');
    assert.equal(first.kind, 'full', 'a first run');
    assert.equal(await count(), 10);
    for (let i = 10; i < 15; i++) await rate(i, 5);
    assert.equal((await new ResultService({ rollups: engine.rollups, timezone: 'UTC', log }).run('incremental')).kind, 'incremental');
    assert.equal(await count(), 15);
    // Every row moves with the zone: the run the owner would bulk-load, done through the indexes here.
    const paris = await new ResultService({ rollups: engine.rollups, timezone: 'Europe/Paris', log }).run('incremental');
    assert.equal(paris.kind, 'full');
    assert.equal(await count(), 15);
  } finally {
    for (const storage of storages) await storage.close();
    await database.drop();
    await admin.end().catch(() => undefined);
    // The database is gone, and the role's grants with it.
    const cleanup = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await cleanup.connect();
    await cleanup.query(`DROP ROLE IF EXISTS ${role}`);
    await cleanup.end();
  }
});
