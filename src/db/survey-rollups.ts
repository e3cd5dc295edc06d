// Per-question (answer_rollup) and funnel (outcome_rollup) rollups, refreshed by every result-service
// run inside the run's own transaction, after the csat rollups: one commit covers both, so a snapshot
// version (refreshed_at, watermark, timezone) describes all of them.
//
// Both tables only ever grow by adding: survey_answer and survey_outcome rows are never updated in a
// way that moves a count (recording retention only stamps recording_deleted_at). So an incremental run
// folds the rows with ids in (watermark, bound] into the rollups with one upsert that adds counts, one
// watermark per source table in result_state. A rebuild (whatever makes the csat part full: mode
// 'full', a first run, a changed timezone; or a watermark missing, as after the upgrade that added
// these tables, or above the table's largest id) empties the table and folds every row from id 0.
//
// The SQL is the same on both databases except the local day (each database's existing expression
// builder, the one csat_rollup's days come from: same ZoneCalendar, so the days cannot disagree) and
// the week and month of a date; SurveyRollupDialect holds those. Long folds go in slices of ids with
// a pause between them where the database driver is synchronous (SQLite), so live calls keep the
// event loop while a rebuild runs.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { outcomeDetail } from './outcome-detail.js';
import type { Database } from './schema.js';

/** When the rows of one slice were made (min and max of their timestamp). */
export interface TimeSpan {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface SurveyRollupDialect {
  /** The local date (results.timezone) of column `created_at`, exact for every instant in `span`. */
  localDay(span: TimeSpan): RawBuilder<string>;
  /** The Monday of the ISO week, and the first of the month, of local date `day`. */
  weekOf(day: RawBuilder<unknown>): RawBuilder<string>;
  monthOf(day: RawBuilder<unknown>): RawBuilder<string>;
  /** Source rows folded per statement (Infinity: all in one). */
  readonly idsPerStatement: number;
  /** Runs between two slices of a fold. */
  pause(): Promise<void>;
  /** Before a table is refilled from scratch (PostgreSQL: memory for the one big aggregate). */
  beforeRebuild(db: Kysely<Database>): Promise<void>;
  /** After a table was refilled from scratch (PostgreSQL: planner statistics for the new rows). */
  afterRebuild(db: Kysely<Database>, table: SurveyRollupTable): Promise<void>;
}

export type SurveyRollupTable = 'answer_rollup' | 'outcome_rollup';

/** The largest id of each source table that this run may fold (settled on PostgreSQL: see rollups.ts there). */
export interface SurveyBounds {
  readonly answers: number;
  readonly outcomes: number;
}

export interface SurveyFoldCounts {
  /** Source rows folded in by this run (every row when the table was rebuilt). */
  readonly newAnswers: number;
  readonly newOutcomes: number;
}

interface Source {
  readonly table: 'survey_answer' | 'survey_outcome';
  readonly rollup: SurveyRollupTable;
  readonly watermarkKey: string;
  readonly timeColumn: 'answered_at' | 'started_at';
  /** The source columns the rollup keeps, besides the time (as `created_at`, which the local-day builders read). */
  readonly columns: RawBuilder<unknown>;
  /** The rollup's columns after scope, period, queue_id, agent_id and period_start, and the base rows' matching ones. */
  readonly keys: readonly string[];
  /**
   * Rows counted in agent scope: those with an agent. Outcomes may have no agent or no queue (a call
   * skipped before it reached one), answers from another channel ('' for both); those without a
   * queue are queue rows of queue '' (no queue id is empty: they are validated), so the whole
   * contact center, the sum of queue rows, counts them.
   */
  readonly withAgent: RawBuilder<unknown>;
}

const ANSWERS: Source = {
  table: 'survey_answer',
  rollup: 'answer_rollup',
  watermarkKey: 'answer_watermark',
  timeColumn: 'answered_at',
  // A spoken comment has no value: it is counted, with value 0.
  columns: sql.raw('queue_id, agent_id, question_id, kind, coalesce(value, 0) AS value, source'),
  // source last: a question's rows of one period stay together whatever their source.
  keys: ['question_id', 'kind', 'value', 'source'],
  // Feedback from another channel may name no agent (''): the contact center counts it, no agent does.
  withAgent: sql`b.agent_id <> ''`,
};

const OUTCOMES: Source = {
  table: 'survey_outcome',
  rollup: 'outcome_rollup',
  watermarkKey: 'outcome_watermark',
  timeColumn: 'started_at',
  // Where the caller left matters for those who left; why it ended (as a label: outcome-detail.ts), for the others.
  columns: sql`queue_id, agent_id, outcome, ${outcomeDetail()} AS detail, coalesce(consent, '') AS consent`,
  keys: ['outcome', 'detail', 'consent'],
  withAgent: sql`b.agent_id IS NOT NULL`,
};

/** The largest ids now (SQLite: inside BEGIN IMMEDIATE ids commit in order, so this is exact). */
export async function readSurveyBounds(db: Kysely<Database>): Promise<SurveyBounds> {
  const row = (
    await sql<{ answers: number | null; outcomes: number | null }>`SELECT (SELECT max(id) FROM survey_answer) AS answers, (SELECT max(id) FROM survey_outcome) AS outcomes`.execute(db)
  ).rows[0];
  return { answers: Number(row?.answers ?? 0), outcomes: Number(row?.outcomes ?? 0) };
}

/**
 * Brings answer_rollup and outcome_rollup up to `bounds`, inside the caller's transaction (which also
 * holds the result-service run lock: nothing else moves the watermarks meanwhile). `rebuild`: the csat
 * part of the run is a full one; these tables are then refilled from scratch too.
 */
export async function refreshSurveyRollups(db: Kysely<Database>, dialect: SurveyRollupDialect, rebuild: boolean, bounds: SurveyBounds): Promise<SurveyFoldCounts> {
  const watermarks = await readWatermarks(db);
  const newAnswers = await refreshOne(db, dialect, ANSWERS, rebuild, watermarks.get(ANSWERS.watermarkKey), bounds.answers);
  const newOutcomes = await refreshOne(db, dialect, OUTCOMES, rebuild, watermarks.get(OUTCOMES.watermarkKey), bounds.outcomes);
  return { newAnswers, newOutcomes };
}

async function readWatermarks(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = (
    await sql<{ key: string; value: string }>`SELECT key, value FROM result_state WHERE key IN (${sql.join([ANSWERS.watermarkKey, OUTCOMES.watermarkKey])})`.execute(db)
  ).rows;
  return new Map(rows.map((row) => [row.key, Number(row.value)]));
}

/**
 * Whether answer_rollup or outcome_rollup must be refilled from scratch even in an incremental run.
 * A missing watermark is a table never built (the upgrade that added it, over stored answers); one
 * above the largest id is a source table emptied or restored from an older backup.
 */
function needsRefill(watermark: number | undefined, bound: number): boolean {
  return watermark === undefined || !Number.isFinite(watermark) || bound < watermark;
}

/** Whether an incremental run would refill either table from scratch (SQLite then builds aside: rollup-swap.ts). */
export async function surveyRollupsNeedRefill(db: Kysely<Database>): Promise<boolean> {
  const [watermarks, bounds] = await Promise.all([readWatermarks(db), readSurveyBounds(db)]);
  return (
    (bounds.answers > 0 && needsRefill(watermarks.get(ANSWERS.watermarkKey), bounds.answers)) ||
    (bounds.outcomes > 0 && needsRefill(watermarks.get(OUTCOMES.watermarkKey), bounds.outcomes))
  );
}

async function refreshOne(db: Kysely<Database>, dialect: SurveyRollupDialect, source: Source, rebuild: boolean, watermark: number | undefined, bound: number): Promise<number> {
  const fromScratch = rebuild || needsRefill(watermark, bound);
  if (bound === 0) {
    // No rows at all: an empty rollup, and no watermark kept (0 and none mean the same, and a
    // database without surveys keeps result_state as it was before these tables). Without a
    // watermark the last run left it so already: an incremental run of a database without surveys
    // (ratings from the API only) writes nothing here.
    if (rebuild || watermark !== undefined) {
      await sql`DELETE FROM ${sql.table(source.rollup)}`.execute(db);
      await sql`DELETE FROM result_state WHERE key = ${source.watermarkKey}`.execute(db);
    }
    return 0;
  }
  if (!fromScratch && bound === watermark) return 0;
  if (fromScratch) {
    await dialect.beforeRebuild(db);
    await sql`DELETE FROM ${sql.table(source.rollup)}`.execute(db);
  }
  let folded = 0;
  for (let after = fromScratch ? 0 : watermark!; after < bound; ) {
    const upTo = await sliceEnd(db, dialect, source, after, bound);
    // The first slice of a rebuild goes into an empty table: a plain insert, no conflict to look for.
    folded += await foldSlice(db, dialect, source, after, upTo, fromScratch && after === 0);
    after = upTo;
    if (after < bound) await dialect.pause();
  }
  if (fromScratch) await dialect.afterRebuild(db, source.rollup);
  await sql`INSERT INTO result_state (key, value) VALUES (${source.watermarkKey}, ${String(bound)})
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(db);
  return folded;
}

/** The id a slice starting after `after` ends at: idsPerStatement rows on, whatever gaps the ids have. */
async function sliceEnd(db: Kysely<Database>, dialect: SurveyRollupDialect, source: Source, after: number, bound: number): Promise<number> {
  if (!Number.isFinite(dialect.idsPerStatement)) return bound;
  const row = (
    await sql<{ id: number }>`SELECT id FROM ${sql.table(source.table)} WHERE id > ${after} AND id <= ${bound}
      ORDER BY id LIMIT 1 OFFSET ${dialect.idsPerStatement - 1}`.execute(db)
  ).rows[0];
  return row === undefined ? bound : Number(row.id);
}

/** Folds the source rows with ids in (after, upTo] into the rollup; returns how many there were. */
async function foldSlice(db: Kysely<Database>, dialect: SurveyRollupDialect, source: Source, after: number, upTo: number, intoEmpty: boolean): Promise<number> {
  const time = sql.raw(source.timeColumn);
  const span = (
    await sql<{ first: string | null; last: string | null; n: number }>`SELECT min(${time}) AS first, max(${time}) AS last, count(*) AS n
      FROM ${sql.table(source.table)} WHERE id > ${after} AND id <= ${upTo}`.execute(db)
  ).rows[0];
  if (!span?.first || !span.last) return 0;
  await foldStatement(dialect, source, after, upTo, { fromMs: Date.parse(span.first), toMs: Date.parse(span.last) }, intoEmpty).execute(db);
  return Number(span.n);
}

/**
 * One upsert: the slice's rows grouped by subject, key and local day (the base), then each base row
 * counted into its agent and queue rows of its day, week and month, added to what the rollup holds.
 */
function foldStatement(dialect: SurveyRollupDialect, source: Source, after: number, upTo: number, span: TimeSpan, intoEmpty: boolean): RawBuilder<unknown> {
  const keys = sql.raw(source.keys.join(', '));
  const baseKeys = sql.raw(source.keys.map((key) => `b.${key}`).join(', '));
  const day = sql.raw('b.day');
  const columns = sql.raw(`scope, period, queue_id, agent_id, period_start, ${source.keys.join(', ')}, count`);
  const conflictKey = sql.raw(`scope, period, queue_id, agent_id, period_start, ${source.keys.join(', ')}`);
  // Into an empty table: in key order (each index entry lands next to the previous one), no conflicts.
  const keyOrder = sql.raw(Array.from({ length: 5 + source.keys.length }, (_, i) => String(i + 1)).join(', '));
  const addToExisting = intoEmpty ? sql`ORDER BY ${keyOrder}` : sql`ON CONFLICT (${conflictKey}) DO UPDATE SET count = ${sql.table(source.rollup)}.count + excluded.count`;
  const knownSubjects = sql`s.scope = 'queue' OR ${source.withAgent}`;
  return sql`WITH
    src AS (
      SELECT ${source.columns}, ${sql.raw(source.timeColumn)} AS created_at
      FROM ${sql.table(source.table)} WHERE id > ${after} AND id <= ${upTo}
    ),
    base AS (
      SELECT queue_id, agent_id, ${keys}, ${dialect.localDay(span)} AS day, count(*) AS n
      FROM src GROUP BY queue_id, agent_id, ${keys}, day
    )
    INSERT INTO ${sql.table(source.rollup)} (${columns})
    SELECT s.scope, p.period,
      CASE WHEN s.scope = 'queue' THEN coalesce(b.queue_id, '') ELSE '' END AS q,
      CASE WHEN s.scope = 'agent' THEN b.agent_id ELSE '' END AS a,
      CASE p.period WHEN 'day' THEN ${day} WHEN 'week' THEN ${dialect.weekOf(day)} ELSE ${dialect.monthOf(day)} END AS ps,
      ${baseKeys}, sum(b.n)
    FROM base AS b
    CROSS JOIN (SELECT 'agent' AS scope UNION ALL SELECT 'queue') AS s
    CROSS JOIN (SELECT 'day' AS period UNION ALL SELECT 'week' UNION ALL SELECT 'month') AS p
    WHERE ${knownSubjects}
    GROUP BY s.scope, p.period, q, a, ps, ${baseKeys}
    ${addToExisting}`;
}
