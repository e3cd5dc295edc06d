// `cc-csat migrate-data`: a SQLite database copied into an empty PostgreSQL one, verified, its
// rollups rebuilt there; refused into a database that already has ratings.
import assert from 'node:assert/strict';
import { insertAlerts } from '../src/db/alert-outbox.js';
import { insertSurveyLink } from '../src/db/survey-links.js';
import { newLinkToken, tokenSha256 } from '../src/links/tokens.js';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { openPostgresStorage } from '../src/db/postgres/open.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { runCli } from './helpers/cli.js';
import { writeConfigTree } from './helpers/config-tree.js';
import { createPostgresDatabase, POSTGRES_SKIP } from './helpers/postgres.js';

const AGENTS = ['ana', 'bo', 'cy'];
const QUEUES = ['sales-queue', 'support-queue'];

describe('cc-csat migrate-data', { skip: POSTGRES_SKIP }, () => {
  test('SQLite into an empty PostgreSQL: every rating, answer, outcome and export audit row with its id, rollups equal, new rows continue; a second copy is refused', async () => {
    const tree = writeConfigTree({ engineExtra: '[results]\ntimezone = "Europe/Paris"' });
    const source = openSqliteStorage(tree.dbPath);
    await source.migrate();
    // 5,000 ratings over two months (more than two copy batches), with gaps in the ids.
    const start = Date.parse('2026-09-20T00:00:00.000Z');
    for (let i = 0; i < 5_000; i++) {
      const created = new Date(start + i * 1_000_003).toISOString();
      await source.ratings.insert(
        { call_id: `call-${i}`, agent_id: AGENTS[i % 3]!, queue_id: QUEUES[i % 2]!, score: 1 + (i % 5), comment: i % 7 === 0 ? `comment ${i}` : null, created_at: created },
        'seed',
      );
      // Answers: one for every fourth call, a second question for every twentieth.
      for (const question of i % 20 === 0 ? ['ask', 'resolved'] : i % 4 === 0 ? ['ask'] : []) {
        await source.answers.record({
          call_id: `call-${i}`, question_id: question, kind: question === 'ask' ? 'csat' : 'yes_no', value: question === 'ask' ? 1 + (i % 5) : i % 2,
          digits: '1', recording: null, recording_ms: null, recording_format: null, language: i % 8 === 0 ? 'fr' : 'en',
          agent_id: AGENTS[i % 3]!, queue_id: QUEUES[i % 2]!, ivr: 'survey', answered_at: created,
        });
      }
      if (i % 3 === 0) {
        await source.outcomes.insert({
          call_id: `call-${i}`, channel_id: `ch-${i}`, agent_id: AGENTS[i % 3]!, queue_id: QUEUES[i % 2]!, ivr: 'survey', outcome: 'completed',
          reason: null, attempts: 1, last_step: 'bye', score: 1 + (i % 5), started_at: created, ended_at: created,
        });
      }
    }
    await source.db.deleteFrom('cc_csat').where('call_id', 'in', ['call-10', 'call-11']).execute();
    // Callers surveyed lately (resurvey_after_hours): hashed numbers, kept across the move.
    const surveyedCallers = Array.from({ length: 3 }, (_, i) => ({ caller_hash: String(i).repeat(64), surveyed_at: new Date(start + i * 60_000).toISOString() }));
    await source.db.insertInto('survey_caller').values(surveyedCallers).execute();
    // The export audit trail (GET /cc/csat/exports): finished and unfinished exports, a gap in the ids.
    const exportIds: number[] = [];
    for (const [i, format] of (['csv', 'ndjson', 'csv', 'ndjson'] as const).entries()) {
      const startedAt = new Date(start + i * 3_600_000).toISOString();
      const id = await source.exportAudit.start({ keyName: `key-${i}`, format, filters: { from: '2026-09-20', to: '2026-11-20', queue_id: QUEUES[i % 2], include_comments: i % 2 === 0 }, startedAt });
      exportIds.push(id);
      if (i < 3) await source.exportAudit.finish(id, { status: i === 1 ? 'aborted' : 'completed', rows: 100 * i, finishedAt: new Date(Date.parse(startedAt) + 1_234).toISOString() });
    }
    await source.db.deleteFrom('csat_export').where('id', '=', exportIds[1]!).execute();
    // The alert outbox: one delivered, one dead, one still pending (sent by the engines on the target).
    await insertAlerts(source.db, ['delivered', 'dead', 'pending'].map((state, i) => ({
      idempotencyKey: `alert.fired:low-csat:call-${i}:ask`, event: 'alert.fired', destination: 'supervisors', callId: `call-${i}`,
      payload: JSON.stringify({ state }), createdAt: new Date(start + i * 60_000).toISOString(),
    })));
    // Rating links: one used, one still waiting for its caller (it must still work after the move).
    const waitingToken = newLinkToken();
    for (const [i, token] of [newLinkToken(), waitingToken].entries()) {
      await insertSurveyLink(source.db, {
        token_sha256: tokenSha256(token), call_id: `link-call-${i}`, agent_id: 'ana', queue_id: 'sales-queue', ivr: 'survey', question_id: 'ask',
        status: i === 0 ? 'completed' : 'sent', created_at: new Date(start).toISOString(), expires_at: '2099-01-01T00:00:00.000Z',
        sent_at: new Date(start).toISOString(), completed_at: i === 0 ? new Date(start + 60_000).toISOString() : null,
      });
    }
    const claimedAlerts = await source.alerts.claimDue('engine-a', new Date(start + 3_600_000).toISOString(), 3, 60_000);
    await source.alerts.markDelivered(claimedAlerts[0]!.id, 'engine-a', new Date(start + 3_600_000).toISOString());
    await source.alerts.markDead(claimedAlerts[1]!.id, 'engine-a', 'HTTP 410', new Date(start + 3_600_000).toISOString());
    await source.alerts.markRetry(claimedAlerts[2]!.id, 'engine-a', new Date(start + 7_200_000).toISOString(), 'HTTP 503', new Date(start + 3_600_000).toISOString());
    await new ResultService({ rollups: source.rollups, timezone: 'Europe/Paris', log: createLogger('silent') }).run('full');
    const database = await createPostgresDatabase('migrate_data');
    const target = await openPostgresStorage({ url: database.url, poolMax: 2 });
    try {
      const copied = await runCli(['migrate-data', '--config', tree.enginePath, '--to', database.url], { cwd: tree.dir, timeoutMs: 120_000 });
      assert.equal(copied.code, 0, copied.stderr);
      assert.match(copied.stdout, /4998 rating\(s\), 1500 answer\(s\), 1667 survey outcome\(s\), 3 export audit row\(s\), 3 alert\(s\), 2 rating link\(s\) and 3 surveyed caller\(s\) copied and verified/);
      assert.doesNotMatch(copied.stdout + copied.stderr, new RegExp(new URL(database.url).password), 'the password is not printed');

      const all = async (db: typeof source.db, table: 'cc_csat' | 'survey_outcome' | 'survey_answer' | 'csat_export') => db.selectFrom(table).selectAll().orderBy('id').execute();
      assert.deepEqual(await all(target.db, 'cc_csat'), await all(source.db, 'cc_csat'));
      assert.deepEqual(await all(target.db, 'survey_outcome'), await all(source.db, 'survey_outcome'));
      assert.deepEqual(await all(target.db, 'survey_answer'), await all(source.db, 'survey_answer'));
      assert.deepEqual(await all(target.db, 'csat_export'), await all(source.db, 'csat_export'));
      // What GET /cc/csat/exports lists, read from each side.
      const listed = await target.exportAudit.list(10);
      assert.deepEqual(listed, await source.exportAudit.list(10));
      assert.deepEqual(listed.map((row) => [row.id, row.status]), [[exportIds[3], 'running'], [exportIds[2], 'completed'], [exportIds[0], 'completed']]);
      assert.deepEqual(await target.alerts.list({ limit: 10 }), await source.alerts.list({ limit: 10 }), 'the alert outbox, row for row');
      assert.deepEqual((await target.alerts.list({ limit: 10 })).map((row) => row.status), ['pending', 'dead', 'delivered']);
      const links = async (db: typeof source.db) => db.selectFrom('survey_link').selectAll().orderBy('id').execute();
      assert.deepEqual(await links(target.db), await links(source.db), 'the rating links, row for row');
      const rated = await target.links.rate(tokenSha256(waitingToken), { score: 3, feedback: null }, new Date().toISOString());
      assert.equal(rated.kind, 'rated', 'a link sent before the move rates its call after it');
      const callers = await target.db.selectFrom('survey_caller').selectAll().orderBy('caller_hash').execute();
      assert.deepEqual(callers.map((row) => [row.caller_hash, new Date(row.surveyed_at).toISOString()]), surveyedCallers.map((row) => [row.caller_hash, row.surveyed_at]));
      const rollups = async (db: typeof source.db) => ({
        // PostgreSQL stores no agent rows (sql/postgres/020): they are compared as read, below.
        rollup: (await sql`SELECT scope, period, queue_id, agent_id, period_start, count, sum, n1, n2, n3, n4, n5 FROM csat_rollup WHERE scope <> 'agent' ORDER BY 1, 2, 3, 4, 5`.execute(db)).rows,
        answers: (await sql`SELECT scope, period, queue_id, agent_id, question_id, kind, period_start, value, count FROM answer_rollup ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`.execute(db)).rows,
        outcomes: (await sql`SELECT scope, period, queue_id, agent_id, period_start, outcome, detail, consent, count FROM outcome_rollup ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`.execute(db)).rows,
      });
      assert.deepEqual(await rollups(target.db), await rollups(source.db), 'rollups rebuilt in PostgreSQL equal the SQLite ones');
      const agentIds = (await sql<{ agent_id: string }>`SELECT DISTINCT agent_id FROM cc_csat ORDER BY 1`.execute(source.db)).rows.map((row) => row.agent_id);
      for (const period of ['day', 'week', 'month'] as const) {
        const range = { period, from: '2000-01-01', to: '2099-12-31' };
        const agentRows = await source.surveyStats.agentCsatRows(agentIds, range);
        assert.ok(agentRows.length > 0);
        assert.deepEqual(await target.surveyStats.agentCsatRows(agentIds, range), agentRows, `every agent's ${period} buckets`);
      }

      const next = await target.ratings.insert({ call_id: 'after-copy', agent_id: 'ana', queue_id: 'sales-queue', score: 5, comment: null, created_at: new Date().toISOString() }, 'test');
      assert.equal(next.inserted, true, 'the identity continues after the copied ids');
      assert.ok(next.inserted && next.rating.id > 5_000);
      const nextExport = await target.exportAudit.start({ keyName: 'after-copy', format: 'csv', filters: {}, startedAt: new Date().toISOString() });
      assert.ok(nextExport > exportIds[3]!, 'the export audit identity continues after the copied ids');

      const again = await runCli(['migrate-data', '--config', tree.enginePath, '--to', database.url], { cwd: tree.dir, timeoutMs: 60_000 });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already has 5000 row\(s\) in cc_csat: migrate-data copies into an empty database only/);
      assert.equal(Number((await sql<{ n: string }>`SELECT count(*) AS n FROM cc_csat`.execute(target.db)).rows[0]!.n), 5_000, 'nothing written');

      const wrong = await runCli(['migrate-data', '--config', tree.enginePath, '--to', 'mysql://x/y'], { cwd: tree.dir });
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /--to must be sqlite:PATH or postgres:/);
    } finally {
      await target.close();
      await source.close();
      await database.drop();
    }
  });
});
