// The result service's SQL on PostgreSQL: the rollups of src/db/sqlite/rollup-sql.ts less two kinds of
// rows that are summed from the base when read instead. The base is (agent_queue, day): ratings grouped
// by queue, agent and local day (rollup-local-day.ts); queue days, weeks and months and the queue
// membership are derived from it. Unlike SQLite, no running totals (sql/postgres/019: the queue copies
// sum them, stats-queue-copy.ts) and no agent rows (sql/postgres/020: an agent's buckets are summed
// from its few queues' days, agent-buckets-sql.ts) are stored: each was a large share of the rows
// every run wrote.
//
// Writing rows, with their index entries, costs far more here than computing them. So a full rebuild
// over rollups already there computes what every row must be and writes only those that differ (a
// rebuild of unchanged rollups writes nothing); one that must write every row loads emptied tables
// (rollup-bulk-load.ts); an incremental run adds the new ratings to the rows they belong in, updating
// counters in place (HOT updates: no counter is indexed, so no index entry is written;
// rollup-fold-sql.ts). This file holds the parts they share, the compare-and-write rebuild and the
// run's bookkeeping.
//
// Every read of cc_csat is bounded by `id <= bound`: a run folds exactly the ratings up to its settled
// bound (see rollups.ts), whatever commits while it runs.
import { sql, type RawBuilder } from 'kysely';

export const COUNTERS = ['count', 'sum', 'n1', 'n2', 'n3', 'n4', 'n5'] as const;
export const ROLLUP_KEY = ['scope', 'period', 'queue_id', 'agent_id', 'period_start'] as const;
const QUEUE_AGENT_KEY = ['queue_id', 'agent_id'] as const;
const QUEUE_AGENT_VALUES = ['first_day', 'last_day'] as const;

export const list = (columns: readonly string[], prefix = ''): RawBuilder<unknown> => sql.raw(columns.map((column) => `${prefix}${column}`).join(', '));
export const ROLLUP_COLUMNS = list([...ROLLUP_KEY, ...COUNTERS]);

// Counters are integer; sums are computed in bigint and cast back, so an overflow is an error, not a wrap.
const DISTRIBUTION = sql.raw(
  [
    'count(*)::int AS count',
    'sum(score)::int AS sum',
    ...[1, 2, 3, 4, 5].map((score) => `(count(*) FILTER (WHERE score = ${score}))::int AS n${score}`),
  ].join(', '),
);
const summed = (alias: string): RawBuilder<unknown> => sql.raw(COUNTERS.map((column) => `sum(${alias}.${column})::int AS ${column}`).join(', '));

// date_trunc of a timestamp (not timestamptz): pure calendar arithmetic, whatever the session zone.
const weekOf = (day: string): RawBuilder<string> => sql<string>`date_trunc('week', ${sql.raw(day)}::timestamp)::date`;
const monthOf = (day: string): RawBuilder<string> => sql<string>`date_trunc('month', ${sql.raw(day)}::timestamp)::date`;

// ------------------------------------------------------------------------------- derived rows

/** Queue day rows of base-shaped rows `base` (a CTE: queue_id, agent_id, period_start, counters). */
export function queueDayBuckets(base: string): RawBuilder<unknown> {
  return sql`SELECT 'queue' AS scope, b.queue_id, '' AS agent_id, b.period_start, ${summed('b')}
    FROM ${sql.table(base)} AS b
    GROUP BY b.queue_id, b.period_start`;
}

/** Queue weeks and months of queue day rows `days` (a CTE shaped like queueDayBuckets): one pass, two grouping sets. */
export function weekAndMonthBuckets(days: string): RawBuilder<unknown> {
  return sql`SELECT 'queue' AS scope, CASE WHEN grouping(d.week) = 0 THEN 'week' ELSE 'month' END AS period,
      d.queue_id, '' AS agent_id, coalesce(d.week, d.month) AS period_start, ${summed('d')}
    FROM (SELECT *, ${weekOf('period_start')} AS week, ${monthOf('period_start')} AS month FROM ${sql.table(days)}) AS d
    GROUP BY GROUPING SETS ((d.queue_id, d.week), (d.queue_id, d.month))`;
}

/** Every rollup row of base rows `base` and their day buckets `days`, in csat_rollup's column order. */
export function rollupRows(base: string, days: string, weeksAndMonths: string): RawBuilder<unknown> {
  return sql`SELECT 'agent_queue' AS scope, 'day' AS period, queue_id, agent_id, period_start, ${list(COUNTERS)} FROM ${sql.table(base)}
    UNION ALL
    SELECT scope, 'day', queue_id, agent_id, period_start, ${list(COUNTERS)} FROM ${sql.table(days)}
    UNION ALL
    SELECT ${ROLLUP_COLUMNS} FROM ${sql.table(weeksAndMonths)}`;
}

/** Every rating up to `bound`, as base rows (`localDay`: rollup-local-day.ts): the one scan of cc_csat a full run makes. */
export function allBaseRows(localDay: RawBuilder<string>, bound: number): RawBuilder<unknown> {
  return sql`SELECT queue_id, agent_id, ${localDay} AS period_start, ${DISTRIBUTION}
    FROM cc_csat
    WHERE id <= ${bound}
    GROUP BY queue_id, agent_id, period_start`;
}

/** Each pair's first and last day in base rows `base`, in csat_queue_agent's column order. */
export function queueAgentRows(base: string): RawBuilder<unknown> {
  return sql`SELECT queue_id, agent_id, min(period_start) AS first_day, max(period_start) AS last_day FROM ${sql.table(base)} GROUP BY queue_id, agent_id`;
}

// ------------------------------------------------------------------------------- writing differences

const matching = (keys: readonly string[], left: string, right: string): RawBuilder<unknown> =>
  sql.raw(keys.map((key) => `${left}.${key} = ${right}.${key}`).join(' AND '));

/**
 * CTEs that make `table` hold exactly the rows of CTE `fresh`, writing only the differences: rows
 * whose values changed are updated (in place), missing ones inserted, extra ones deleted. `name`
 * prefixes the CTEs; `${name}_written` counts the rows written. The three writes touch disjoint rows,
 * so they can share one statement.
 *
 * The comparison reads the whole table once; the writes then reach their rows by ctid (a TID scan of
 * just those rows, stable within the statement), not by a second and third join with the whole table.
 */
function makeEqual(name: string, table: string, keys: readonly string[], values: readonly string[], fresh: string): RawBuilder<unknown> {
  const diff = sql.raw(`${name}_diff`);
  const target = sql.table(table);
  const firstKey = sql.raw(keys[0]!);
  return sql`${diff} AS MATERIALIZED (
      SELECT ${sql.raw(keys.map((key) => `coalesce(f.${key}, o.${key}) AS ${key}`).join(', '))}, ${list(values, 'f.')},
        o.ctid AS old_ctid, o.${firstKey} IS NULL AS added, f.${firstKey} IS NULL AS gone
      FROM ${sql.table(fresh)} AS f
      FULL JOIN ${target} AS o ON ${matching(keys, 'o', 'f')}
      WHERE o.${firstKey} IS NULL OR f.${firstKey} IS NULL
         OR (${list(values, 'f.')}) IS DISTINCT FROM (${list(values, 'o.')})
    ),
    ${sql.raw(name)}_updated AS (
      UPDATE ${target} AS t SET ${sql.raw(values.map((value) => `${value} = d.${value}`).join(', '))}
      FROM ${diff} AS d
      WHERE t.ctid = ANY (ARRAY(SELECT old_ctid FROM ${diff} WHERE NOT added AND NOT gone))
        AND t.ctid = d.old_ctid AND NOT d.added AND NOT d.gone
      RETURNING 1
    ),
    ${sql.raw(name)}_removed AS (
      DELETE FROM ${target} AS t
      WHERE t.ctid = ANY (ARRAY(SELECT old_ctid FROM ${diff} WHERE gone))
      RETURNING 1
    ),
    ${sql.raw(name)}_added AS (
      INSERT INTO ${target} (${list([...keys, ...values])})
      -- In key order: each index insert lands next to the previous one.
      SELECT ${list([...keys, ...values])} FROM ${diff} WHERE added ORDER BY ${list(keys)}
      RETURNING 1
    ),
    ${sql.raw(name)}_written AS (
      SELECT (SELECT count(*) FROM ${sql.raw(name)}_updated) + (SELECT count(*) FROM ${sql.raw(name)}_removed)
        + (SELECT count(*) FROM ${sql.raw(name)}_added) AS n
    )`;
}

// ------------------------------------------------------------------------------- full rebuild

export interface FullRebuildCounts {
  /** Ratings folded in. */
  readonly ratings: number | null;
  /** Rows each table holds now, and how many of them this rebuild had to write (or delete). */
  readonly rollup_rows: number;
  readonly rollup_written: number;
  readonly queue_agent_rows: number;
  readonly queue_agent_written: number;
}

/**
 * Every rollup and queue membership recomputed from every rating up to `bound`, in
 * one statement: one scan of cc_csat into the base, everything else derived from the base in memory,
 * and only the rows that differ from what the tables hold are written.
 */
export function rebuildAll(localDay: RawBuilder<string>, bound: number): RawBuilder<FullRebuildCounts> {
  return sql<FullRebuildCounts>`WITH
    base AS MATERIALIZED (${allBaseRows(localDay, bound)}),
    base_days AS MATERIALIZED (${queueDayBuckets('base')}),
    base_weeks_and_months AS MATERIALIZED (${weekAndMonthBuckets('base_days')}),
    -- Read once, by the comparison: not materialized again.
    rollup_fresh AS NOT MATERIALIZED (${rollupRows('base', 'base_days', 'base_weeks_and_months')}),
    ${makeEqual('rollup', 'csat_rollup', ROLLUP_KEY, COUNTERS, 'rollup_fresh')},
    queue_agent_fresh AS MATERIALIZED (${queueAgentRows('base')}),
    ${makeEqual('queue_agent', 'csat_queue_agent', QUEUE_AGENT_KEY, QUEUE_AGENT_VALUES, 'queue_agent_fresh')}
    SELECT (SELECT sum(count) FROM base) AS ratings,
      (SELECT count(*) FROM base) + (SELECT count(*) FROM base_days) + (SELECT count(*) FROM base_weeks_and_months) AS rollup_rows,
      (SELECT n FROM rollup_written) AS rollup_written,
      (SELECT count(*) FROM queue_agent_fresh) AS queue_agent_rows, (SELECT n FROM queue_agent_written) AS queue_agent_written`;
}

/**
 * Fresh planner statistics for tables a rebuild rewrote much of, so the API's queries are planned on
 * real numbers before autovacuum gets to it. Its lock (SHARE UPDATE EXCLUSIVE) is one that readers
 * and row writers never wait for.
 */
export function analyze(tables: readonly string[]): RawBuilder<unknown> {
  return sql`ANALYZE ${sql.join(tables.map((table) => sql.table(table)))}`;
}

// ------------------------------------------------------------------------------- incremental

/** The ratings in (watermark, bound], as base rows: an index range on the primary key. */
export function newBaseRows(localDay: RawBuilder<string>, watermark: number, bound: number): RawBuilder<unknown> {
  return sql`SELECT queue_id, agent_id, ${localDay} AS period_start, ${DISTRIBUTION}
    FROM cc_csat
    WHERE id > ${watermark} AND id <= ${bound}
    GROUP BY queue_id, agent_id, period_start`;
}

// ------------------------------------------------------------------------------- bookkeeping

export interface SettledRow {
  readonly bound: number;
  /** The largest survey_answer and survey_outcome ids, settled the same way (../survey-rollups.ts folds up to them). */
  readonly answer_bound: number;
  readonly outcome_bound: number;
  readonly watermark: number | null;
  readonly zone: string | null;
  /** created_at of every rating, and of the ratings after the watermark (null: none). */
  readonly first_at: string | null;
  readonly last_at: string | null;
  readonly first_new_at: string | null;
  readonly last_new_at: string | null;
}

/**
 * A run's starting point, in one round trip: the largest id of cc_csat, survey_answer and
 * survey_outcome (settled bounds when read under the SHARE lock on the three), the last run's
 * watermark and zone, and the time spans of the ratings a full and an incremental run would read
 * (index probes: the created_at index, and the primary key range after the watermark).
 */
export function selectSettled(): RawBuilder<SettledRow> {
  return sql<SettledRow>`WITH
    settled AS MATERIALIZED (
      SELECT coalesce((SELECT max(id) FROM cc_csat), 0) AS bound,
        coalesce((SELECT max(id) FROM survey_answer), 0) AS answer_bound,
        coalesce((SELECT max(id) FROM survey_outcome), 0) AS outcome_bound,
        (SELECT value::bigint FROM result_state WHERE key = 'watermark') AS watermark,
        (SELECT value FROM result_state WHERE key = 'timezone') AS zone
    ),
    -- OFFSET 0 keeps this a range of the primary key: left to itself the planner answers min() and
    -- max() by walking the created_at index and filtering on id, through the whole index (~30 ms
    -- each at 1M ratings) when the range holds few ratings or none.
    new_ratings AS (
      SELECT created_at FROM cc_csat
      -- None before a first run (a NULL watermark matches no id): a full run reads every rating anyway.
      WHERE id > (SELECT watermark FROM settled) AND id <= (SELECT bound FROM settled)
      OFFSET 0
    )
    SELECT s.bound, s.answer_bound, s.outcome_bound, s.watermark, s.zone,
      (SELECT min(created_at) FROM cc_csat) AS first_at, (SELECT max(created_at) FROM cc_csat) AS last_at,
      (SELECT min(created_at) FROM new_ratings) AS first_new_at, (SELECT max(created_at) FROM new_ratings) AS last_new_at
    FROM settled AS s`;
}

/**
 * Whether csat_rollup holds no row: a full run then writes every row. Asked by full runs only: the
 * probe is a sequential scan to the first live row, which after a delete of the table's first rows
 * (sql/postgres/020) reads every dead page until VACUUM has been (~1,000 pages, 6 ms at 1M ratings).
 */
export function selectRollupsEmpty(): RawBuilder<{ empty: boolean }> {
  return sql<{ empty: boolean }>`SELECT NOT EXISTS (SELECT FROM csat_rollup) AS empty`;
}

/** The run's state as one INSERT, usable on its own or as a CTE of a run's last statement. */
export function saveState(watermark: number, zone: string, refreshedAt: string): RawBuilder<unknown> {
  return sql`INSERT INTO result_state (key, value)
    VALUES ('watermark', ${String(watermark)}), ('timezone', ${zone}), ('refreshed_at', ${refreshedAt})
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
}
