// The upgrade that keys answer_rollup by source (sqlite 016, postgres 017) on a database the previous
// release had rolled up: the first run refills every answer, the per-question reads then give the
// same figures as a count of the raw rows, with and without a source; an incremental run with
// feedback from other channels (no agent, no queue) adds to them; a full rebuild equals it. Both
// databases (SQLite builds its refill aside and swaps it in).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { migrate, POSTGRES_MIGRATIONS_DIR, readMigrations, SQLITE_MIGRATIONS_DIR } from '../src/db/migrate.js';
import { openPostgresStorage } from '../src/db/postgres/open.js';
import type { AnswerSource, Database, NewAnswer } from '../src/db/schema.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import type { StatsRange, Storage, SurveySubject } from '../src/storage/ports.js';
import { DATABASES, type DatabaseKind } from './helpers/api.js';
import { makeTempDir } from './helpers/config-tree.js';
import { createPostgresDatabase } from './helpers/postgres.js';
import { localDay } from './helpers/reference-stats.js';

const TZ = 'Europe/Paris';

/** A small deterministic generator: the same answers on every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function makeAnswers(calls: number, seed: number, prefix: string, feedback = false): NewAnswer[] {
  const random = prng(seed);
  const answers: NewAnswer[] = [];
  for (let i = 0; i < calls; i++) {
    const at = new Date(Date.parse('2026-03-01T00:00:00Z') + Math.floor(random() * 40 * 86_400_000)).toISOString();
    const agent = feedback && random() < 0.6 ? '' : ['ana', 'bo', 'cy'][Math.floor(random() * 3)]!;
    const queue = feedback && random() < 0.6 ? '' : ['sales', 'support'][Math.floor(random() * 2)]!;
    const source: AnswerSource = feedback ? (['chat', 'email', 'bot'] as const)[Math.floor(random() * 3)]! : random() < 0.3 ? 'link' : 'ivr';
    for (const [question, kind, max] of [['q1', 'csat', 5], ['q2', 'nps', 10]] as const) {
      answers.push({
        call_id: `${prefix}-${i}`,
        question_id: question,
        kind,
        value: Math.floor(random() * (max + 1)),
        digits: null,
        recording: null,
        recording_ms: null,
        recording_format: null,
        recording_server: null,
        language: null,
        agent_id: agent,
        queue_id: queue,
        ivr: 'main',
        answered_at: at,
        source,
      });
    }
  }
  return answers;
}

type Row = { period_start: string; question_id: string; kind: string; value: number; count: number };
const byKey = (a: Row, b: Row): number => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

/** What a per-question read must give, counted from the raw answers. */
function expected(answers: readonly NewAnswer[], subject: SurveySubject, range: StatsRange, source: AnswerSource | undefined): Row[] {
  const counts = new Map<string, number>();
  for (const answer of answers) {
    if (subject.queueId !== undefined && answer.queue_id !== subject.queueId) continue;
    if (subject.agentIds !== undefined && (answer.agent_id === '' || !subject.agentIds.includes(answer.agent_id))) continue;
    if (source !== undefined && (answer.source ?? 'ivr') !== source) continue;
    const day = localDay(answer.answered_at, TZ);
    const start = range.period === 'month' ? `${day.slice(0, 7)}-01` : day;
    if (start < range.from || start > range.to) continue;
    const key = JSON.stringify([start, answer.question_id, answer.kind, answer.value ?? 0]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([key, count]) => {
      const [period_start, question_id, kind, value] = JSON.parse(key) as [string, string, string, number];
      return { period_start, question_id, kind, value, count };
    })
    .sort(byKey);
}

const SUBJECTS: SurveySubject[] = [{}, { queueId: 'sales' }, { queueId: '' }, { agentIds: ['ana'] }, { agentIds: ['ana', 'bo', 'cy', ''] }];
const RANGES: StatsRange[] = [
  { period: 'day', from: '2026-03-01', to: '2026-04-15' },
  { period: 'month', from: '2026-03-01', to: '2026-04-01' },
];

async function assertReads(storage: Storage, answers: readonly NewAnswer[], when: string): Promise<void> {
  for (const range of RANGES) {
    for (const subject of SUBJECTS) {
      for (const source of [undefined, 'ivr', 'link', 'chat'] as const) {
        const rows = (await storage.surveyStats.answerRows(subject, range, undefined, source)).sort(byKey);
        assert.deepEqual(rows, expected(answers, subject, range, source), `${when}: ${JSON.stringify(subject)} ${range.period} ${source ?? 'every source'}`);
      }
    }
  }
}

async function openBare(kind: DatabaseKind): Promise<{ storage: Storage & { db: Kysely<Database> }; done: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const storage = openSqliteStorage(join(makeTempDir(), 'cc_csat.db'));
    return { storage, done: () => storage.close() };
  }
  const database = await createPostgresDatabase('answer_source');
  const storage = await openPostgresStorage({ url: database.url, poolMax: 2 });
  return {
    storage,
    done: async () => {
      await storage.close();
      await database.drop();
    },
  };
}

async function insertAnswers(db: Kysely<Database>, answers: readonly NewAnswer[]): Promise<void> {
  for (let i = 0; i < answers.length; i += 200) await db.insertInto('survey_answer').values(answers.slice(i, i + 200)).execute();
}

const everyRow = (db: Kysely<Database>) => sql`SELECT * FROM answer_rollup ORDER BY scope, period, queue_id, agent_id, period_start, question_id, kind, value, source`.execute(db);

for (const { kind, skip } of DATABASES) {
  describe(`answer_rollup keyed by source (${kind})`, { skip }, () => {
    test('the upgrade refills it; reads by source match the raw answers; feedback without an agent adds to the contact center only; full equals incremental', async () => {
      const { storage, done } = await openBare(kind);
      try {
        const all = readMigrations(kind === 'sqlite' ? SQLITE_MIGRATIONS_DIR : POSTGRES_MIGRATIONS_DIR);
        const upgrade = all.find((migration) => migration.name === 'answer_rollup_source')!;
        await migrate(storage.db, all.filter((migration) => migration.version < upgrade.version));
        // The previous release's database: answers, one old rollup row, and a watermark past all of them.
        const before = makeAnswers(300, 1, 'a');
        await insertAnswers(storage.db, before);
        const maxId = Number((await sql<{ m: number }>`SELECT max(id) AS m FROM survey_answer`.execute(storage.db)).rows[0]!.m);
        await sql`INSERT INTO answer_rollup (scope, period, queue_id, agent_id, question_id, kind, period_start, value, count) VALUES ('queue', 'day', 'sales', '', 'q1', 'csat', '2026-03-01', 1, 999)`.execute(storage.db);
        await storage.db
          .insertInto('result_state')
          .values([
            { key: 'watermark', value: '0' },
            { key: 'timezone', value: TZ },
            { key: 'refreshed_at', value: '2026-04-16T00:00:00.000Z' },
            { key: 'answer_watermark', value: String(maxId) },
            { key: 'outcome_watermark', value: '0' },
          ])
          .execute();
        await storage.migrate();
        const service = new ResultService({ rollups: storage.rollups, timezone: TZ, log: createLogger('silent') });
        const first = await service.run();
        assert.equal(first.newAnswers, before.length, 'the first run after the upgrade folds every answer again');
        await assertReads(storage, before, 'after the upgrade');

        const more = [...makeAnswers(100, 2, 'b'), ...makeAnswers(150, 3, 'fb', true)];
        await insertAnswers(storage.db, more);
        await service.run();
        await assertReads(storage, [...before, ...more], 'after an incremental run with feedback');
        const blank = await storage.db.selectFrom('answer_rollup').select('agent_id').where('scope', '=', 'agent').where('agent_id', '=', '').execute();
        assert.deepEqual(blank, [], 'no agent "" rows');
        const incremental = (await everyRow(storage.db)).rows;
        await service.run('full');
        assert.deepEqual((await everyRow(storage.db)).rows, incremental, 'a full rebuild gives the same table');
      } finally {
        await done();
      }
    });
  });
}
