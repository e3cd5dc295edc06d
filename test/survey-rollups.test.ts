// Per-question (answer_rollup) and funnel (outcome_rollup) rollups, on both databases: what
// storage.surveyStats reads after result-service runs, against counts the test computes itself from
// the rows it inserted (local days through Intl, weeks and months by its own calendar arithmetic).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { migrate, POSTGRES_MIGRATIONS_DIR, readMigrations, SQLITE_MIGRATIONS_DIR } from '../src/db/migrate.js';
import { SqliteRollupStore } from '../src/db/sqlite/rollups.js';
import type { Database, NewAnswer, NewSurveyOutcome, SurveyOutcomeKind } from '../src/db/schema.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import type { AnswerRollupRow, OutcomeRollupRow, Storage, SurveySubject } from '../src/storage/ports.js';
import { DATABASES, startApi, type ApiHarness, type DatabaseKind } from './helpers/api.js';
import { makeTempDir } from './helpers/config-tree.js';
import { createPostgresDatabase } from './helpers/postgres.js';
import { localDay } from './helpers/reference-stats.js';

type Period = 'day' | 'week' | 'month';
type Range = { period: Period; from: string; to: string };

const PARIS = 'Europe/Paris';
const AGENTS = ['ana', 'bo', 'cy', 'di'] as const;
const QUEUES = ['sales', 'support', 'billing'] as const;
const QUESTIONS = [
  { id: 'q1-csat', kind: 'csat', values: [1, 2, 3, 4, 5] },
  { id: 'q2-nps', kind: 'nps', values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
  { id: 'q3-ces', kind: 'ces', values: [1, 2, 3, 4, 5, 6, 7] },
  { id: 'q4-yes', kind: 'yes_no', values: [0, 1] },
  { id: 'q5-scale', kind: 'scale', values: [1, 2, 3] },
  { id: 'q6-comment', kind: 'comment', values: [] },
] as const;
const OUTCOMES: readonly SurveyOutcomeKind[] = ['completed', 'no_input', 'invalid', 'abandoned', 'skipped', 'failed', 'declined'];

// Instants whose local day in Paris is easy to get wrong: the spring DST change (29 March 2026, 01:00
// UTC), UTC midnight versus local midnight, a Sunday night that is a new ISO week locally, and the
// last instant of March versus the first of April.
const EDGES = [
  '2026-03-28T22:59:59.999Z', // 23:59 Saturday 28 March (CET)
  '2026-03-28T23:00:00.000Z', // 00:00 Sunday 29 March
  '2026-03-29T00:59:59.999Z', // 01:59 CET, just before the change
  '2026-03-29T01:00:00.000Z', // 03:00 CEST
  '2026-03-29T21:59:59.999Z', // 23:59 Sunday 29 March (CEST)
  '2026-03-29T22:00:00.000Z', // 00:00 Monday 30 March: a new ISO week
  '2026-03-31T21:59:59.999Z', // 23:59 31 March
  '2026-03-31T22:00:00.000Z', // 00:00 1 April: a new month
  '2026-02-28T23:30:00.000Z', // 00:30 1 March (CET): a new month
];

/** A small deterministic generator, so a failure reproduces. */
function prng(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function instant(random: () => number, startMs: number, spanDays: number, index: number): string {
  if (index < EDGES.length * 2) return EDGES[index % EDGES.length]!;
  return new Date(startMs + Math.floor(random() * spanDays * 86_400_000)).toISOString();
}

/** Surveys of `calls` calls, each answering a random subset of the questions at one instant. */
function makeAnswers(calls: number, startMs: number, spanDays: number, seedValue: number, prefix: string): NewAnswer[] {
  const random = prng(seedValue);
  const answers: NewAnswer[] = [];
  for (let call = 0; call < calls; call++) {
    const at = instant(random, startMs, spanDays, call);
    const agent = pick(random, AGENTS);
    const queue = pick(random, QUEUES);
    for (const question of QUESTIONS) {
      if (random() < 0.25) continue;
      const comment = question.kind === 'comment';
      answers.push({
        call_id: `${prefix}-${call}`,
        question_id: question.id,
        kind: question.kind,
        value: comment ? null : pick(random, question.values),
        digits: null,
        recording: comment ? `rec-${prefix}-${call}` : null,
        language: 'en',
        agent_id: agent,
        queue_id: queue,
        ivr: 'main',
        answered_at: at,
      });
    }
  }
  return answers;
}

function makeOutcomes(count: number, startMs: number, spanDays: number, seedValue: number, prefix: string): NewSurveyOutcome[] {
  const random = prng(seedValue);
  return Array.from({ length: count }, (_, i) => {
    const at = instant(random, startMs, spanDays, i);
    // Every kind, and unknown agents and queues (a call that never reached one), among them.
    const outcome = OUTCOMES[i % OUTCOMES.length]!;
    return {
      call_id: `${prefix}-${i}`,
      channel_id: `ch-${prefix}-${i}`,
      agent_id: random() < 0.15 ? null : pick(random, AGENTS),
      queue_id: random() < 0.15 ? null : pick(random, QUEUES),
      ivr: 'main',
      outcome,
      // Fixed words, words with detail after them, and free text (an exception's message): the rollup
      // keeps a closed set of labels (referenceDetail below).
      reason: random() < 0.3 ? null : pick(random, REASONS),
      attempts: 1,
      last_step: random() < 0.3 ? null : pick(random, ['consent', 'q1-csat', 'q2-nps']),
      score: null,
      started_at: at,
      ended_at: at,
      server: null,
      consent: pick(random, [null, 'accepted', 'declined'] as const),
    };
  });
}

async function insertAnswers(db: Kysely<Database>, rows: readonly NewAnswer[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 400) await db.insertInto('survey_answer').values(rows.slice(i, i + 400)).execute();
}

async function insertOutcomes(db: Kysely<Database>, rows: readonly NewSurveyOutcome[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 400) await db.insertInto('survey_outcome').values(rows.slice(i, i + 400)).execute();
}

// ------------------------------------------------------------------------------- the test's own reference

const DAY_MS = 86_400_000;

function bucketOf(period: Period, day: string): string {
  if (period === 'day') return day;
  if (period === 'month') return `${day.slice(0, 7)}-01`;
  const date = new Date(`${day}T00:00:00Z`);
  return new Date(date.getTime() - ((date.getUTCDay() + 6) % 7) * DAY_MS).toISOString().slice(0, 10);
}

function counted<T>(rows: readonly T[], keyOf: (row: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) {
    const key = keyOf(row);
    if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function expectedAnswers(answers: readonly NewAnswer[], tz: string, subject: SurveySubject, range: Range, questionId?: string): AnswerRollupRow[] {
  const counts = counted(answers, (a) => {
    if (subject.queueId !== undefined && a.queue_id !== subject.queueId) return undefined;
    if (subject.agentIds !== undefined && !subject.agentIds.includes(a.agent_id)) return undefined;
    if (questionId !== undefined && a.question_id !== questionId) return undefined;
    const start = bucketOf(range.period, localDay(a.answered_at, tz));
    if (start < range.from || start > range.to) return undefined;
    return JSON.stringify([start, a.question_id, a.kind, a.value ?? 0]);
  });
  return [...counts].map(([key, count]) => {
    const [period_start, question_id, kind, value] = JSON.parse(key) as [string, string, AnswerRollupRow['kind'], number];
    return { period_start, question_id, kind, value, count };
  });
}

const REASONS = [
  'caller_hung_up',
  'not_sampled',
  'declined_by_key',
  'headline_not_answered',
  'invalid_agent_id: "ana bo" is not an agent id',
  'IVR main ended without collecting a rating',
  'recording failed: disk full',
  'connect ECONNREFUSED 10.0.0.7:8088',
  'something nobody foresaw 7f3a9',
];

/** The label the rollup keeps for a reason, written out case by case. */
function referenceDetail(outcome: SurveyOutcomeKind, reason: string | null): string {
  if (reason === null) return '';
  if (['caller_hung_up', 'not_sampled', 'declined_by_key', 'headline_not_answered'].includes(reason)) return reason;
  if (reason.startsWith('invalid_agent_id')) return 'invalid_identity';
  if (reason.startsWith('IVR main ended without')) return 'nothing_collected';
  if (reason.startsWith('recording failed')) return 'recording_failed';
  return outcome === 'failed' ? 'error' : 'other';
}

function expectedOutcomes(outcomes: readonly NewSurveyOutcome[], tz: string, subject: SurveySubject, range: Range): OutcomeRollupRow[] {
  const counts = counted(outcomes, (o) => {
    if (subject.queueId !== undefined && o.queue_id !== subject.queueId) return undefined;
    if (subject.agentIds !== undefined && (o.agent_id == null || !subject.agentIds.includes(o.agent_id))) return undefined;
    // The whole contact center counts every outcome, those that never reached a queue too.
    const start = bucketOf(range.period, localDay(o.started_at, tz));
    if (start < range.from || start > range.to) return undefined;
    const left = o.outcome === 'abandoned' || o.outcome === 'no_input' || o.outcome === 'invalid';
    const detail = left ? (o.last_step ?? '') : referenceDetail(o.outcome, o.reason ?? null);
    return JSON.stringify([start, o.outcome, detail, o.consent ?? '']);
  });
  return [...counts].map(([key, count]) => {
    const [period_start, outcome, detail, consent] = JSON.parse(key) as [string, SurveyOutcomeKind, string, OutcomeRollupRow['consent']];
    return { period_start, outcome, detail, consent, count };
  });
}

const keyed = <T extends { period_start: string }>(rows: readonly T[]): T[] =>
  [...rows].sort((a, b) => (JSON.stringify(Object.values(a)) < JSON.stringify(Object.values(b)) ? -1 : 1));

function assertInPeriodOrder(rows: ReadonlyArray<{ period_start: string }>, context: string): void {
  rows.forEach((row, i) => assert.ok(i === 0 || rows[i - 1]!.period_start <= row.period_start, `${context}: ordered by period_start`));
}

const SUBJECTS: ReadonlyArray<{ label: string; subject: SurveySubject }> = [
  { label: 'queue sales', subject: { queueId: 'sales' } },
  { label: 'queue billing', subject: { queueId: 'billing' } },
  { label: 'agent ana', subject: { agentIds: ['ana'] } },
  { label: 'agents bo+cy+nobody', subject: { agentIds: ['bo', 'cy', 'nobody'] } },
  { label: 'everyone', subject: {} },
];

const RANGES: readonly Range[] = [
  { period: 'day', from: '2026-02-27', to: '2026-03-02' },
  { period: 'day', from: '2026-03-27', to: '2026-04-02' },
  { period: 'week', from: '2026-03-16', to: '2026-04-06' },
  { period: 'month', from: '2026-02-01', to: '2026-04-30' },
  { period: 'month', from: '2026-01-01', to: '2026-12-31' },
];

async function assertMatchesReference(storage: Storage, answers: readonly NewAnswer[], outcomes: readonly NewSurveyOutcome[], tz: string, label: string, ranges = RANGES): Promise<void> {
  for (const range of ranges) {
    for (const { label: who, subject } of SUBJECTS) {
      const context = `${label}: ${who} ${range.period} ${range.from}..${range.to}`;
      const answerRows = await storage.surveyStats.answerRows(subject, range);
      assertInPeriodOrder(answerRows, context);
      assert.deepEqual(keyed(answerRows), keyed(expectedAnswers(answers, tz, subject, range)), `${context}: answers`);
      const outcomeRows = await storage.surveyStats.outcomeRows(subject, range);
      assertInPeriodOrder(outcomeRows, context);
      assert.deepEqual(keyed(outcomeRows), keyed(expectedOutcomes(outcomes, tz, subject, range)), `${context}: outcomes`);
    }
  }
}

async function rollupTables(db: Kysely<Database>) {
  return {
    answers: (await sql<Record<string, unknown>>`SELECT * FROM answer_rollup ORDER BY scope, period, queue_id, agent_id, period_start, question_id, kind, value`.execute(db)).rows,
    outcomes: (await sql<Record<string, unknown>>`SELECT * FROM outcome_rollup ORDER BY scope, period, queue_id, agent_id, period_start, outcome, detail, consent`.execute(db)).rows,
  };
}

async function everyRunTable(db: Kysely<Database>) {
  return {
    ...(await rollupTables(db)),
    csat: (await sql<Record<string, unknown>>`SELECT * FROM csat_rollup ORDER BY scope, period, queue_id, agent_id, period_start`.execute(db)).rows,
    state: (await sql<Record<string, unknown>>`SELECT key, value FROM result_state ORDER BY key`.execute(db)).rows,
  };
}

async function openTransactions(api: ApiHarness, kind: DatabaseKind): Promise<number> {
  if (kind === 'sqlite') return api.database.sqlite.inTransaction ? 1 : 0;
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`.execute(api.db);
  return rows[0]!.n;
}

const MARCH = Date.parse('2026-02-20T00:00:00Z');
const SPAN_DAYS = 55;

for (const { kind, skip } of DATABASES) {
  describe(`per-question and funnel rollups on ${kind}`, { skip }, () => {
    test('Europe/Paris: answers and outcomes per queue, agent, agents and everyone, every period, across DST and month ends', async () => {
      const api = await startApi({ database: kind, timezone: PARIS });
      try {
        const answers = makeAnswers(700, MARCH, SPAN_DAYS, 11, 'a');
        const outcomes = makeOutcomes(900, MARCH, SPAN_DAYS, 12, 'o');
        await insertAnswers(api.db, answers);
        await insertOutcomes(api.db, outcomes);
        // The Sunday night edge is a new ISO week and the last March instant is still March, in Paris.
        assert.equal(localDay('2026-03-29T22:00:00.000Z', PARIS), '2026-03-30');
        assert.equal(localDay('2026-03-31T21:59:59.999Z', PARIS), '2026-03-31');

        const report = await api.results.run();
        assert.equal(report.kind, 'full');
        assert.equal(report.newAnswers, answers.length);
        assert.equal(report.newOutcomes, outcomes.length);
        await assertMatchesReference(api.storage, answers, outcomes, PARIS, 'first run');

        // One question only.
        const range: Range = { period: 'week', from: '2026-03-16', to: '2026-04-06' };
        for (const questionId of ['q2-nps', 'q6-comment']) {
          const rows = await api.storage.surveyStats.answerRows({ queueId: 'support' }, range, questionId);
          assert.ok(rows.length > 0);
          assert.deepEqual(keyed(rows), keyed(expectedAnswers(answers, PARIS, { queueId: 'support' }, range, questionId)), questionId);
        }
        assert.deepEqual(await api.storage.surveyStats.answerRows({ agentIds: [] }, range), [], 'no agents, no rows');
      } finally {
        await api.close();
      }
    });

    test('agentCsatRows: each agent\'s own csat rows of the range', async () => {
      const api = await startApi({ database: kind, timezone: PARIS });
      try {
        const ratings = makeAnswers(400, MARCH, SPAN_DAYS, 21, 'r')
          .filter((a) => a.kind === 'csat')
          .map((a) => ({ call_id: a.call_id, agent_id: a.agent_id, queue_id: a.queue_id, score: a.value!, created_at: a.answered_at, comment: null }));
        await api.db.insertInto('cc_csat').values(ratings).execute();
        await api.results.run();
        const range: Range = { period: 'week', from: '2026-03-16', to: '2026-04-06' };
        const rows = await api.storage.surveyStats.agentCsatRows(['cy', 'ana', 'nobody'], range);
        const expected = new Map<string, { agent_id: string; period_start: string; count: number; sum: number; n1: number; n2: number; n3: number; n4: number; n5: number }>();
        for (const r of ratings) {
          if (r.agent_id !== 'cy' && r.agent_id !== 'ana') continue;
          const start = bucketOf('week', localDay(r.created_at, PARIS));
          if (start < range.from || start > range.to) continue;
          const key = `${r.agent_id}|${start}`;
          const row = expected.get(key) ?? { agent_id: r.agent_id, period_start: start, count: 0, sum: 0, n1: 0, n2: 0, n3: 0, n4: 0, n5: 0 };
          row.count += 1;
          row.sum += r.score;
          row[`n${r.score}` as 'n1'] += 1;
          expected.set(key, row);
        }
        assert.deepEqual(rows, [...expected.values()].sort((a, b) => (a.agent_id === b.agent_id ? (a.period_start < b.period_start ? -1 : 1) : a.agent_id < b.agent_id ? -1 : 1)));
        assert.deepEqual(await api.storage.surveyStats.agentCsatRows([], range), []);
      } finally {
        await api.close();
      }
    });

    test('incremental runs over several batches, late rows included, equal a full rebuild row for row', async () => {
      const api = await startApi({ database: kind, timezone: PARIS });
      try {
        const answers: NewAnswer[] = [];
        const outcomes: NewSurveyOutcome[] = [];
        const batches = [0, 1, 2, 3].map((i) => ({
          answers: makeAnswers(150, MARCH + i * 5 * DAY_MS, 25, 100 + i, `b${i}`),
          outcomes: makeOutcomes(200, MARCH + i * 5 * DAY_MS, 25, 200 + i, `b${i}`),
        }));
        for (const [i, batch] of batches.entries()) {
          await insertAnswers(api.db, batch.answers);
          await insertOutcomes(api.db, batch.outcomes);
          answers.push(...batch.answers);
          outcomes.push(...batch.outcomes);
          const report = await api.results.run();
          assert.equal(report.kind, i === 0 ? 'full' : 'unchanged', 'no ratings: the csat part has nothing new after the first run');
          assert.deepEqual([report.newAnswers, report.newOutcomes], [batch.answers.length, batch.outcomes.length], `batch ${i}`);
        }
        const quiet = await api.results.run();
        assert.deepEqual([quiet.newAnswers, quiet.newOutcomes], [0, 0]);
        await assertMatchesReference(api.storage, answers, outcomes, PARIS, 'after incremental runs');
        const incremental = await rollupTables(api.db);
        assert.ok(incremental.answers.length > 0 && incremental.outcomes.length > 0);
        const full = await api.results.run('full');
        assert.deepEqual([full.newAnswers, full.newOutcomes], [answers.length, outcomes.length]);
        assert.deepEqual(await rollupTables(api.db), incremental, 'incremental rollups equal a full rebuild');
        if (kind === 'sqlite') {
          // SQLite folds long runs in slices of ids, handing the event loop back between them.
          const sliced = new ResultService({ rollups: new SqliteRollupStore(api.database.writes, { surveyRowsPerSlice: 97 }), timezone: PARIS, log: createLogger('silent') });
          const rebuilt = await sliced.run('full');
          assert.deepEqual([rebuilt.newAnswers, rebuilt.newOutcomes], [answers.length, outcomes.length]);
          assert.deepEqual(await rollupTables(api.db), incremental, 'a rebuild in slices of 97 rows equals one in a single slice');
        }
      } finally {
        await api.close();
      }
    });

    test('a changed timezone moves answers and outcomes to their new local days', async () => {
      const api = await startApi({ database: kind, timezone: 'UTC' });
      try {
        const answers = makeAnswers(300, MARCH, SPAN_DAYS, 31, 'z');
        const outcomes = makeOutcomes(300, MARCH, SPAN_DAYS, 32, 'z');
        await insertAnswers(api.db, answers);
        await insertOutcomes(api.db, outcomes);
        await api.results.run();
        const ranges = RANGES.slice(0, 3);
        await assertMatchesReference(api.storage, answers, outcomes, 'UTC', 'UTC', ranges);
        const inParis = new ResultService({ rollups: api.storage.rollups, timezone: PARIS, log: createLogger('silent') });
        const report = await inParis.run();
        assert.equal(report.kind, 'full');
        await assertMatchesReference(api.storage, answers, outcomes, PARIS, 'moved to Paris', ranges);
      } finally {
        await api.close();
      }
    });

    test('a run that fails after writing rollups leaves no transaction open and the previous rows; the next run completes', async () => {
      const api = await startApi({ database: kind, timezone: PARIS });
      try {
        const first = { answers: makeAnswers(200, MARCH, SPAN_DAYS, 41, 'f'), outcomes: makeOutcomes(200, MARCH, SPAN_DAYS, 42, 'f') };
        await insertAnswers(api.db, first.answers);
        await insertOutcomes(api.db, first.outcomes);
        await api.results.run();
        const more = { answers: makeAnswers(100, MARCH, SPAN_DAYS, 43, 'g'), outcomes: makeOutcomes(100, MARCH, SPAN_DAYS, 44, 'g') };
        await insertAnswers(api.db, more.answers);
        await insertOutcomes(api.db, more.outcomes);
        const ratings = more.answers
          .filter((a) => a.kind === 'csat')
          .map((a) => ({ call_id: a.call_id, agent_id: a.agent_id, queue_id: a.queue_id, score: a.value!, created_at: a.answered_at, comment: null }));
        await api.db.insertInto('cc_csat').values(ratings).execute();
        const before = await everyRunTable(api.db);

        // outcome_rollup is written last: by then the csat part and answer_rollup are written, uncommitted.
        if (kind === 'sqlite') {
          await sql`CREATE TRIGGER fail_outcomes BEFORE INSERT ON outcome_rollup BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`.execute(api.db);
        } else {
          await sql`CREATE FUNCTION fail_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk trouble'; END $$`.execute(api.db);
          await sql`CREATE TRIGGER fail_outcomes BEFORE INSERT ON outcome_rollup FOR EACH ROW EXECUTE FUNCTION fail_outcomes()`.execute(api.db);
        }
        for (const mode of ['incremental', 'full'] as const) {
          await assert.rejects(api.results.run(mode), /disk trouble/, mode);
          assert.equal(await openTransactions(api, kind), 0, `${mode}: no transaction left open`);
          assert.deepEqual(await everyRunTable(api.db), before, `${mode}: the failed run changed nothing`);
        }
        await sql`DROP TRIGGER fail_outcomes ${kind === 'sqlite' ? sql`` : sql`ON outcome_rollup`}`.execute(api.db);

        const next = await api.results.run();
        assert.deepEqual([next.newAnswers, next.newOutcomes], [more.answers.length, more.outcomes.length]);
        await assertMatchesReference(api.storage, [...first.answers, ...more.answers], [...first.outcomes, ...more.outcomes], PARIS, 'after the failed runs');
      } finally {
        await api.close();
      }
    });

    test('an upgraded database: answers and outcomes stored before the upgrade are rolled up by the first run after it', async () => {
      const { storage, done } = await openBare(kind);
      try {
        const dir = kind === 'sqlite' ? SQLITE_MIGRATIONS_DIR : POSTGRES_MIGRATIONS_DIR;
        const surveyRollups = readMigrations(dir).find((migration) => migration.name === 'survey_rollups')!;
        await migrate(storage.db, readMigrations(dir).filter((migration) => migration.version < surveyRollups.version));
        const answers = makeAnswers(300, MARCH, SPAN_DAYS, 51, 'u');
        const outcomes = makeOutcomes(300, MARCH, SPAN_DAYS, 52, 'u');
        await insertAnswers(storage.db, answers);
        await insertOutcomes(storage.db, outcomes);
        // What the previous release's last run left: its csat watermark, zone and stamp.
        await storage.db
          .insertInto('result_state')
          .values([
            { key: 'watermark', value: '0' },
            { key: 'timezone', value: PARIS },
            { key: 'refreshed_at', value: '2026-04-16T00:00:00.000Z' },
          ])
          .execute();

        const applied = await storage.migrate();
        assert.ok(applied.some((migration) => migration.name === 'survey_rollups'));
        const report = await new ResultService({ rollups: storage.rollups, timezone: PARIS, log: createLogger('silent') }).run();
        // SQLite refills tables from scratch aside (a worker builds every rollup, then they are swapped
        // in): the run is a full one there. PostgreSQL refills the two new tables in the run.
        assert.equal(report.kind, kind === 'sqlite' ? 'full' : 'unchanged');
        assert.deepEqual([report.newAnswers, report.newOutcomes], [answers.length, outcomes.length]);
        await assertMatchesReference(storage, answers, outcomes, PARIS, 'after the upgrade', RANGES.slice(1, 4));
      } finally {
        await done();
      }
    });
  });
}

/** A storage on a fresh database with no migrations applied (the upgrade test applies them itself). */
async function openBare(kind: DatabaseKind): Promise<{ storage: Storage & { db: Kysely<Database> }; done: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const { openSqliteStorage } = await import('../src/db/sqlite/storage.js');
    const storage = openSqliteStorage(join(makeTempDir(), 'cc.db'));
    return { storage, done: () => storage.close() };
  }
  const database = await createPostgresDatabase('survey-upgrade');
  const { openPostgresStorage } = await import('../src/db/postgres/open.js');
  const storage = await openPostgresStorage({ url: database.url, poolMax: 2, applicationName: 'survey-rollups-test' });
  return {
    storage,
    done: async () => {
      await storage.close();
      await database.drop();
    },
  };
}
