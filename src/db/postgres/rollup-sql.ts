// The result service's SQL on PostgreSQL: the same rollups as src/db/sqlite/rollup-sql.ts, from
// PostgreSQL's own zone database. The base is (agent_queue, day): ratings grouped by queue, agent and
// local day; agent and queue days, weeks and months, the running totals and the queue membership are
// all derived from it.
//
// Writing rows, with their index entries, costs far more here than computing them. So a full rebuild
// computes what every row must be and writes only those that differ (a rebuild of unchanged rollups
// writes nothing), and an incremental run adds the new ratings to the rows they belong in, updating
// counters in place (HOT updates: no counter is indexed, so no index entry is written).
//
// Every read of cc_csat is bounded by `id <= bound`: a run folds exactly the ratings up to its settled
// bound (see rollups.ts), whatever commits while it runs.
import { sql, type RawBuilder } from 'kysely';

const COUNTERS = ['count', 'sum', 'n1', 'n2', 'n3', 'n4', 'n5'] as const;
const ROLLUP_KEY = ['scope', 'period', 'queue_id', 'agent_id', 'period_start'] as const;
const RUNNING_KEY = ['queue_id', 'agent_id', 'day'] as const;
const RUNNING_VALUES = ['count', 'sum'] as const;
const QUEUE_AGENT_KEY = ['queue_id', 'agent_id'] as const;
const QUEUE_AGENT_VALUES = ['first_day', 'last_day'] as const;

const list = (columns: readonly string[], prefix = ''): RawBuilder<unknown> => sql.raw(columns.map((column) => `${prefix}${column}`).join(', '));
const ROLLUP_COLUMNS = list([...ROLLUP_KEY, ...COUNTERS]);

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

/** The local date of a rating: PostgreSQL's zone database does the DST arithmetic. */
const localDay = (zone: string, column: string): RawBuilder<string> => sql<string>`(${sql.raw(column)} AT TIME ZONE ${zone})::date`;

// ------------------------------------------------------------------------------- derived rows

/**
 * Agent and queue day rows of base-shaped rows `base` (a CTE: queue_id, agent_id, period_start,
 * counters): one pass, two grouping sets.
 */
function dayBuckets(base: string): RawBuilder<unknown> {
  return sql`SELECT CASE WHEN grouping(b.agent_id) = 0 THEN 'agent' ELSE 'queue' END AS scope,
      coalesce(b.queue_id, '') AS queue_id, coalesce(b.agent_id, '') AS agent_id, b.period_start, ${summed('b')}
    FROM ${sql.table(base)} AS b
    GROUP BY GROUPING SETS ((b.agent_id, b.period_start), (b.queue_id, b.period_start))`;
}

/** Weeks and months of day rows `days` (a CTE shaped like dayBuckets): one pass, two grouping sets. */
function weekAndMonthBuckets(days: string): RawBuilder<unknown> {
  return sql`SELECT d.scope, CASE WHEN grouping(d.week) = 0 THEN 'week' ELSE 'month' END AS period,
      d.queue_id, d.agent_id, coalesce(d.week, d.month) AS period_start, ${summed('d')}
    FROM (SELECT *, ${weekOf('period_start')} AS week, ${monthOf('period_start')} AS month FROM ${sql.table(days)}) AS d
    GROUP BY GROUPING SETS ((d.scope, d.queue_id, d.agent_id, d.week), (d.scope, d.queue_id, d.agent_id, d.month))`;
}

/** Every rollup row of base rows `base` and their day buckets `days`, in csat_rollup's column order. */
function rollupRows(base: string, days: string, weeksAndMonths: string): RawBuilder<unknown> {
  return sql`SELECT 'agent_queue' AS scope, 'day' AS period, queue_id, agent_id, period_start, ${list(COUNTERS)} FROM ${sql.table(base)}
    UNION ALL
    SELECT scope, 'day', queue_id, agent_id, period_start, ${list(COUNTERS)} FROM ${sql.table(days)}
    UNION ALL
    SELECT ${ROLLUP_COLUMNS} FROM ${sql.table(weeksAndMonths)}`;
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
  readonly running_rows: number;
  readonly running_written: number;
  readonly queue_agent_rows: number;
  readonly queue_agent_written: number;
}

/**
 * Every rollup, running total and queue membership recomputed from every rating up to `bound`, in
 * one statement: one scan of cc_csat into the base, everything else derived from the base in memory,
 * and only the rows that differ from what the tables hold are written.
 */
export function rebuildAll(zone: string, bound: number): RawBuilder<FullRebuildCounts> {
  return sql<FullRebuildCounts>`WITH
    base AS MATERIALIZED (
      SELECT queue_id, agent_id, ${localDay(zone, 'created_at')} AS period_start, ${DISTRIBUTION}
      FROM cc_csat
      WHERE id <= ${bound}
      GROUP BY queue_id, agent_id, period_start
    ),
    base_days AS MATERIALIZED (${dayBuckets('base')}),
    base_weeks_and_months AS MATERIALIZED (${weekAndMonthBuckets('base_days')}),
    -- Read once, by the comparison: not materialized again.
    rollup_fresh AS NOT MATERIALIZED (${rollupRows('base', 'base_days', 'base_weeks_and_months')}),
    ${makeEqual('rollup', 'csat_rollup', ROLLUP_KEY, COUNTERS, 'rollup_fresh')},
    running_fresh AS NOT MATERIALIZED (
      SELECT queue_id, agent_id, period_start AS day, (sum(count) OVER running)::int AS count, (sum(sum) OVER running)::int AS sum
      FROM base
      WINDOW running AS (PARTITION BY queue_id, agent_id ORDER BY period_start ROWS UNBOUNDED PRECEDING)
    ),
    ${makeEqual('running', 'csat_running', RUNNING_KEY, RUNNING_VALUES, 'running_fresh')},
    queue_agent_fresh AS MATERIALIZED (
      SELECT queue_id, agent_id, min(period_start) AS first_day, max(period_start) AS last_day FROM base GROUP BY queue_id, agent_id
    ),
    ${makeEqual('queue_agent', 'csat_queue_agent', QUEUE_AGENT_KEY, QUEUE_AGENT_VALUES, 'queue_agent_fresh')}
    SELECT (SELECT sum(count) FROM base) AS ratings,
      (SELECT count(*) FROM base) + (SELECT count(*) FROM base_days) + (SELECT count(*) FROM base_weeks_and_months) AS rollup_rows,
      (SELECT n FROM rollup_written) AS rollup_written,
      -- One running total per base row.
      (SELECT count(*) FROM base) AS running_rows, (SELECT n FROM running_written) AS running_written,
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
function newBaseRows(zone: string, watermark: number, bound: number): RawBuilder<unknown> {
  return sql`SELECT queue_id, agent_id, ${localDay(zone, 'created_at')} AS period_start, ${DISTRIBUTION}
    FROM cc_csat
    WHERE id > ${watermark} AND id <= ${bound}
    GROUP BY queue_id, agent_id, period_start`;
}

export interface FoldCounts {
  readonly ratings: number;
  /** Local days the ratings fell on. */
  readonly days: number;
}

/**
 * Adds the ratings in (watermark, bound] to every rollup they belong in, in one statement: their base
 * rows, agent and queue days, weeks and months, each moved by exactly what they add, and each pair's
 * first and last day widened. Exact because the watermark is: every rating up to it is folded in and
 * none after it (rollups.ts), and a run commits whole or not at all. Costs what the new ratings
 * touch: a few hundred row updates for a thousand ratings, whatever the size of cc_csat.
 */
export function foldNewRatings(zone: string, watermark: number, bound: number): RawBuilder<FoldCounts> {
  return sql<FoldCounts>`WITH
    new_base AS MATERIALIZED (${newBaseRows(zone, watermark, bound)}),
    new_days AS MATERIALIZED (${dayBuckets('new_base')}),
    new_weeks_and_months AS MATERIALIZED (${weekAndMonthBuckets('new_days')}),
    added AS (
      INSERT INTO csat_rollup (${ROLLUP_COLUMNS}) ${rollupRows('new_base', 'new_days', 'new_weeks_and_months')}
      ON CONFLICT (${list(ROLLUP_KEY)}) DO UPDATE
        SET ${sql.raw(COUNTERS.map((column) => `${column} = csat_rollup.${column} + excluded.${column}`).join(', '))}
    ),
    widened AS (
      INSERT INTO csat_queue_agent (queue_id, agent_id, first_day, last_day)
      SELECT n.queue_id, n.agent_id, n.first_day, n.last_day
      FROM (SELECT queue_id, agent_id, min(period_start) AS first_day, max(period_start) AS last_day FROM new_base GROUP BY queue_id, agent_id) AS n
      LEFT JOIN csat_queue_agent AS qa ON qa.queue_id = n.queue_id AND qa.agent_id = n.agent_id
      -- Most pairs are neither new nor widened: left alone, not even locked.
      WHERE qa.queue_id IS NULL OR n.first_day < qa.first_day OR n.last_day > qa.last_day
      ON CONFLICT (queue_id, agent_id) DO UPDATE
        SET first_day = least(csat_queue_agent.first_day, excluded.first_day),
            last_day = greatest(csat_queue_agent.last_day, excluded.last_day)
    )
    SELECT coalesce(sum(count), 0)::int AS ratings, count(DISTINCT period_start)::int AS days FROM new_base`;
}

/**
 * Running totals of the pairs rated in (watermark, bound], from each pair's first day rated there
 * on, after foldNewRatings: the pair's last total before that day is what its later days add up from.
 * Ratings arrive in time order, so that is today's row of each pair rated since the last run; rows
 * whose totals did not change are not written.
 */
export function refreshRunning(zone: string, watermark: number, bound: number): RawBuilder<unknown> {
  return sql`WITH
    pairs AS MATERIALIZED (
      SELECT c.queue_id, c.agent_id, c.first_day, coalesce(before.count, 0) AS before_count, coalesce(before.sum, 0) AS before_sum
      FROM (
        SELECT queue_id, agent_id, min(${localDay(zone, 'created_at')}) AS first_day
        FROM cc_csat
        WHERE id > ${watermark} AND id <= ${bound}
        GROUP BY queue_id, agent_id
      ) AS c
      LEFT JOIN LATERAL (
        SELECT r.count, r.sum FROM csat_running AS r
        WHERE r.queue_id = c.queue_id AND r.agent_id = c.agent_id AND r.day < c.first_day
        ORDER BY r.day DESC
        LIMIT 1
      ) AS before ON true
    )
    INSERT INTO csat_running (queue_id, agent_id, day, count, sum)
    SELECT p.queue_id, p.agent_id, d.period_start,
      (p.before_count + sum(d.count) OVER running)::int,
      (p.before_sum + sum(d.sum) OVER running)::int
    FROM pairs AS p
    -- Each pair's days from its first day on: a range of the primary key. OFFSET 0 keeps it a
    -- per-pair lookup (pulled up into a join, the planner may hash all of csat_rollup instead).
    CROSS JOIN LATERAL (
      SELECT period_start, count, sum FROM csat_rollup
      WHERE scope = 'agent_queue' AND period = 'day' AND queue_id = p.queue_id AND agent_id = p.agent_id AND period_start >= p.first_day
      OFFSET 0
    ) AS d
    WINDOW running AS (PARTITION BY p.queue_id, p.agent_id ORDER BY d.period_start ROWS UNBOUNDED PRECEDING)
    ON CONFLICT (queue_id, agent_id, day) DO UPDATE
      SET count = excluded.count, sum = excluded.sum
      WHERE (csat_running.count, csat_running.sum) IS DISTINCT FROM (excluded.count, excluded.sum)`;
}

// ------------------------------------------------------------------------------- bookkeeping

export function selectState(): RawBuilder<{ key: string; value: string }> {
  return sql<{ key: string; value: string }>`SELECT key, value FROM result_state WHERE key IN ('watermark', 'timezone', 'refreshed_at')`;
}

export function saveState(watermark: number, zone: string, refreshedAt: string): RawBuilder<unknown> {
  return sql`INSERT INTO result_state (key, value)
    VALUES ('watermark', ${String(watermark)}), ('timezone', ${zone}), ('refreshed_at', ${refreshedAt})
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
}
