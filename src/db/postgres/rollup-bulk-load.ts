// A full run that has to write every row (a first run into empty rollups, or a change of timezone,
// which moves every day): the tables emptied and loaded with a plain INSERT of the computed rows, their
// indexes dropped before and built again after, all inside the run's transaction.
//
// Why (measured at 1M ratings, EXPLAIN ANALYZE, when the running totals were a table too): inserting
// ~383,000 rows took ~0.55 s into tables without indexes and ~1.6 s through their indexes (a descent
// per row and index); building the indexes from the finished tables ~0.5 s (rows inserted in key
// order: see insertAll). And with nothing to keep, comparing with the old rows (hash joins,
// materialized differences) is wasted work.
//
// The price is the locks: TRUNCATE and DROP INDEX take ACCESS EXCLUSIVE on the rollup tables until the
// run commits, so readers wait for this one run (a few seconds at 1M ratings) where otherwise they
// never do. Only a first run (nothing to read yet) and a change of zone (every answer changes) come
// here. An interrupted run rolls back whole: rows, TRUNCATE and indexes alike.
//
// The indexes are rebuilt from their own definitions, read from the catalogue before they are dropped
// (pg_get_constraintdef, pg_get_indexdef): whatever the migrations define, this file does not repeat it.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../schema.js';
import { allBaseRows, analyze, COUNTERS, list, queueAgentRows, queueDayBuckets, ROLLUP_COLUMNS, weekAndMonthBuckets } from './rollup-sql.js';

// csat_queue_agent is left with its indexes: a few hundred rows.
const REBUILT_TABLES = ['csat_rollup'] as const;
const LOADED_TABLES = ['csat_rollup', 'csat_queue_agent'] as const;
const ANALYZE_STATISTICS_TARGET = 10;

interface IndexDefinition {
  readonly table: string;
  readonly index: string;
  /** Set when the index backs a constraint (the primary key): dropped and added back as that constraint. */
  readonly constraint: string | null;
  readonly definition: string;
}

/**
 * Whether this session may empty the rollup tables and drop and build their indexes: only their owner
 * may (a role given SELECT, INSERT, UPDATE and DELETE on them, as README allows, may not). Otherwise
 * a full run writes through the indexes instead: slower, same rows.
 */
export async function mayBulkLoad(trx: Kysely<Database>): Promise<boolean> {
  const { rows } = await sql<{ owns: boolean | null }>`SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) AS owns
    FROM pg_class AS c WHERE c.oid = ANY (${sql.raw(`ARRAY[${LOADED_TABLES.map((table) => `'${table}'`).join(', ')}]`)}::regclass[])`.execute(trx);
  return rows[0]?.owns === true;
}

/** Every rollup from every rating up to `bound`, written into emptied tables; returns how many ratings that is. */
export async function loadAll(trx: Kysely<Database>, localDay: RawBuilder<string>, bound: number): Promise<number> {
  // TRUNCATE first: it takes the tables' ACCESS EXCLUSIVE locks, so the catalogue read and the drops
  // that follow are of tables nobody else is using.
  await sql`TRUNCATE ${sql.join(LOADED_TABLES.map((table) => sql.table(table)))}`.execute(trx);
  const indexes = await indexDefinitions(trx);
  for (const index of indexes) await dropIndex(index).execute(trx);
  const ratings = (await insertAll(localDay, bound).execute(trx)).rows[0]?.ratings ?? 0;
  for (const index of indexes) await createIndex(index).execute(trx);
  // Every row is new: the planner needs statistics for them before the API's first queries. A small
  // sample (3,000 rows instead of 30,000) is plenty for what they ask (key lookups and ranges) and
  // costs ~30 ms instead of ~0.2-0.3 s; autovacuum's next ANALYZE takes the full sample.
  await sql`SELECT set_config('default_statistics_target', ${String(ANALYZE_STATISTICS_TARGET)}, true)`.execute(trx);
  await analyze(LOADED_TABLES).execute(trx);
  return ratings;
}

async function indexDefinitions(trx: Kysely<Database>): Promise<IndexDefinition[]> {
  const { rows } = await sql<IndexDefinition>`SELECT i.indrelid::regclass::text AS "table", i.indexrelid::regclass::text AS index,
      c.conname AS constraint,
      coalesce(pg_get_constraintdef(c.oid), pg_get_indexdef(i.indexrelid)) AS definition
    FROM pg_index AS i
    LEFT JOIN pg_constraint AS c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
    WHERE i.indrelid = ANY (${sql.raw(`ARRAY[${REBUILT_TABLES.map((table) => `'${table}'`).join(', ')}]`)}::regclass[])
    ORDER BY i.indexrelid`.execute(trx);
  return rows;
}

function dropIndex(index: IndexDefinition) {
  return index.constraint === null
    ? sql`DROP INDEX ${sql.raw(index.index)}`
    : sql`ALTER TABLE ${sql.raw(index.table)} DROP CONSTRAINT ${sql.id(index.constraint)}`;
}

function createIndex(index: IndexDefinition) {
  // The definitions come from the catalogue (regclass text is quoted and schema-qualified as needed).
  return index.constraint === null
    ? sql.raw(index.definition)
    : sql`ALTER TABLE ${sql.raw(index.table)} ADD CONSTRAINT ${sql.id(index.constraint)} ${sql.raw(index.definition)}`;
}

/**
 * One statement: one scan of cc_csat into the base, everything else derived from it in memory, each
 * part of csat_rollup inserted as computed, in key order. The order is for the index build after
 * (input already in order is one pass: the primary key builds in ~0.35 s instead of ~0.9 s) and for
 * readers (a key range sits on a few pages). The parts are concatenated in key order (UNION ALL runs
 * its branches in turn); a wrong order would cost time, not correctness.
 *
 * Sorting by the text keys themselves is what costs: ~146,000 base rows by (queue_id, agent_id, day)
 * took ~0.5 s (queue_id ties nine comparisons in ten, and ids share long prefixes, so every comparison
 * reads two or three strings). So the few hundred pairs are numbered first, in the same (C collation)
 * order, and the rows sorted by one integer made of the number and the day: ~0.2 s, the join included
 * (sorting by number, then day, as two keys costs ~0.1 s more). The queue rows are a few thousand.
 */
function insertAll(localDay: RawBuilder<string>, bound: number) {
  return sql<{ ratings: number | null }>`WITH
    -- Two steps: asked for the rows in order, the planner would sort all of cc_csat and group it.
    base_hashed AS MATERIALIZED (${allBaseRows(localDay, bound)}),
    pairs AS MATERIALIZED (
      SELECT queue_id, agent_id, row_number() OVER (ORDER BY queue_id, agent_id) AS pair_no FROM base_hashed GROUP BY queue_id, agent_id
    ),
    base AS MATERIALIZED (
      SELECT b.* FROM base_hashed AS b JOIN pairs AS p ON p.queue_id = b.queue_id AND p.agent_id = b.agent_id ORDER BY ${numberThenDay('p.pair_no', 'b.period_start')}
    ),
    base_days AS MATERIALIZED (${queueDayBuckets('base')}),
    base_weeks_and_months AS MATERIALIZED (${weekAndMonthBuckets('base_days')}),
    rollup_loaded AS (
      INSERT INTO csat_rollup (${ROLLUP_COLUMNS})
      SELECT ${ROLLUP_COLUMNS} FROM (
        (SELECT 'agent_queue' AS scope, 'day' AS period, ${list(['queue_id', 'agent_id', 'period_start', ...COUNTERS])} FROM base)
        UNION ALL ${part('day', 'base_days')}
        UNION ALL ${part('month', 'base_weeks_and_months')}
        UNION ALL ${part('week', 'base_weeks_and_months')}
      ) AS r
    ),
    queue_agent_loaded AS (INSERT INTO csat_queue_agent (queue_id, agent_id, first_day, last_day) ${queueAgentRows('base')})
    SELECT sum(count)::bigint AS ratings FROM base`;
}

// Days since 0001-01-01 (below 3,652,059 for any date up to 9999-12-31) fit in the low 22 bits.
const DAYS_FIELD = 4_194_304;

/** One bigint that orders like (number, day): a single-key sort, far cheaper than two. */
function numberThenDay(number: string, day: string): RawBuilder<unknown> {
  return sql.raw(`${number} * ${DAYS_FIELD} + (${day} - date '0001-01-01')`);
}

/** The queue rows of one period from CTE `rows` (day, or week and month, buckets), in key order. */
function part(period: 'day' | 'week' | 'month', rows: string) {
  const periodFilter = period === 'day' ? sql`` : sql` WHERE period = ${sql.lit(period)}`;
  return sql`(SELECT 'queue' AS scope, ${sql.lit(period)} AS period, ${list(['queue_id', 'agent_id', 'period_start', ...COUNTERS])}
    FROM ${sql.table(rows)}${periodFilter} ORDER BY queue_id, period_start)`;
}
