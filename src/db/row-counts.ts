// How many rows the survey tables hold, for GET /cc/csat/health: cheaply, never a count(*) (on SQLite
// that reads a whole index on the event loop: ~40 ms for 1M ratings and 1M answers).
import { sql, type Kysely } from 'kysely';
import type { RowCounts } from '../storage/ports.js';
import type { Database } from './schema.js';

const TABLES = { ratings: 'cc_csat', answers: 'survey_answer', outcomes: 'survey_outcome' } as const;

/**
 * The highest id of each table: one index lookup each. Rows are never deleted from these tables and
 * ids are handed out in order, so this is the count, give or take ids skipped (a rolled-back insert
 * on PostgreSQL, rows copied in with ids of their own).
 */
export async function highestIdCounts(db: Kysely<Database>): Promise<RowCounts> {
  const [ratings, answers, outcomes] = await Promise.all(
    Object.values(TABLES).map(async (table) => Number((await db.selectFrom(table).select(({ fn }) => fn.max('id').as('n')).executeTakeFirst())?.n ?? 0)),
  );
  return { ratings: ratings!, answers: answers!, outcomes: outcomes!, estimated: true };
}

/**
 * PostgreSQL's own estimates (pg_class.reltuples, kept by autovacuum and ANALYZE). A table never
 * analyzed has none (-1): then the highest ids.
 */
export async function estimatedRowCounts(db: Kysely<Database>): Promise<RowCounts> {
  const { rows } = await sql<{ relname: string; reltuples: number }>`
    SELECT relname, reltuples::float8 AS reltuples FROM pg_class
    WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND relname IN (${sql.join(Object.values(TABLES))})`.execute(db);
  const estimate = new Map(rows.map((row) => [row.relname, Number(row.reltuples)]));
  if (Object.values(TABLES).some((table) => !((estimate.get(table) ?? -1) >= 0))) return highestIdCounts(db);
  return {
    ratings: Math.round(estimate.get(TABLES.ratings)!),
    answers: Math.round(estimate.get(TABLES.answers)!),
    outcomes: Math.round(estimate.get(TABLES.outcomes)!),
    estimated: true,
  };
}
