// SQL that builds csat_rollup and csat_running. The base is (agent_queue, day): ratings grouped by
// queue, agent and local day. A full rebuild derives every other rollup and the running totals from
// the base; an incremental run recomputes the touched days, moves weeks and months by exactly the
// difference, and recomputes running totals from the first touched day.
import { sql, type RawBuilder } from 'kysely';
import type { ZoneCalendar } from '../../results/zone.js';

const COLUMNS = sql.raw('scope, period, queue_id, agent_id, period_start, count, sum, n1, n2, n3, n4, n5');
const VALUES = sql.raw('count, sum, n1, n2, n3, n4, n5');
const NEGATED = sql.raw('-count, -sum, -n1, -n2, -n3, -n4, -n5');
const SUMMED = sql.raw('sum(count), sum(sum), sum(n1), sum(n2), sum(n3), sum(n4), sum(n5)');
const DISTRIBUTION = sql.raw(
  'count(*) AS count, sum(score) AS sum, sum(score = 1) AS n1, sum(score = 2) AS n2, sum(score = 3) AS n3, sum(score = 4) AS n4, sum(score = 5) AS n5',
);
const ADD_EXCLUDED = sql.raw(
  ['count', 'sum', 'n1', 'n2', 'n3', 'n4', 'n5'].map((column) => `${column} = ${column} + excluded.${column}`).join(', '),
);
const WEEK_OF = sql.raw(`date(period_start, '-6 days', 'weekday 1')`);
const MONTH_OF = sql.raw(`substr(period_start, 1, 8) || '01'`);
// Without statistics SQLite picks the primary key (scope, period, ...) for "GROUP BY queue" reads
// and scans every base row; reads of a few touched days must go through (period, period_start).
// INDEXED BY also turns a dropped index into an error instead of a silent slowdown.
const BY_PERIOD_START = sql.raw('INDEXED BY csat_rollup_period_start');

// Derived from the (agent_queue, day) base. Agent-in-queue totals over a range come from
// csat_running instead of agent_queue weeks and months.
const DERIVED_SCOPES = [
  ['agent', sql.raw(`''`), sql.raw('agent_id')],
  ['queue', sql.raw('queue_id'), sql.raw(`''`)],
] as const;

const isoSecond = (ms: number): string => new Date(ms).toISOString();

function modifier(offsetMinutes: number): string {
  return `${offsetMinutes >= 0 ? '+' : '-'}${Math.abs(offsetMinutes)} minutes`;
}

/**
 * The local date of `created_at` as a SQL expression. SQLite has no zone database, so the zone's
 * offset changes over [fromMs, toMs] become a CASE over created_at (ISO text sorts as time).
 * UTC needs no arithmetic at all.
 */
export function localDayExpression(zone: ZoneCalendar, fromMs: number, toMs: number): RawBuilder<string> {
  const start = zone.offsetMinutes(fromMs);
  const changes = zone.transitions(fromMs, toMs);
  if (changes.length === 0) {
    return start === 0 ? sql<string>`substr(created_at, 1, 10)` : sql<string>`date(created_at, ${sql.lit(modifier(start))})`;
  }
  let offset = start;
  const branches = changes.map((change) => {
    const branch = sql`WHEN created_at < ${sql.lit(isoSecond(change.atMs))} THEN ${sql.lit(modifier(offset))}`;
    offset = change.offsetMinutes;
    return branch;
  });
  return sql<string>`date(created_at, CASE ${sql.join(branches, sql` `)} ELSE ${sql.lit(modifier(offset))} END)`;
}

// ------------------------------------------------------------------------------- full rebuild

/** The (agent_queue, day) base from every rating: one scan of cc_csat. */
export function insertAllBaseDays(dayExpr: RawBuilder<string>): RawBuilder<unknown> {
  return sql`INSERT INTO csat_rollup (${COLUMNS})
    SELECT 'agent_queue', 'day', queue_id, agent_id, ${dayExpr} AS local_day, ${DISTRIBUTION}
    FROM cc_csat
    GROUP BY queue_id, agent_id, local_day`;
}

const WEEK_AND_MONTH = [
  ['week', WEEK_OF],
  ['month', MONTH_OF],
] as const;

/**
 * One INSERT per derived scope and period, summing base-shaped rows into their buckets. `from` is
 * what follows FROM: a table with its WHERE, or a subquery (with `WHERE true`, which SQLite needs
 * before an upsert's ON CONFLICT).
 */
function insertDerived(
  periods: ReadonlyArray<readonly [string, RawBuilder<unknown>]>,
  from: RawBuilder<unknown>,
  onConflict: RawBuilder<unknown> = sql``,
): RawBuilder<unknown>[] {
  return periods.flatMap(([period, bucket]) =>
    DERIVED_SCOPES.map(
      ([scope, queue, agent]) => sql`INSERT INTO csat_rollup (${COLUMNS})
        SELECT ${scope}, ${period}, ${queue} AS q, ${agent} AS a, ${bucket} AS b, ${SUMMED}
        FROM ${from}
        GROUP BY q, a, b ${onConflict}`,
    ),
  );
}

/** Every rollup except the base, derived from the (small) base. */
export function insertAllDerived(): RawBuilder<unknown>[] {
  const base = sql`csat_rollup WHERE scope = 'agent_queue' AND period = 'day'`;
  return insertDerived([['day', sql.raw('period_start')], ...WEEK_AND_MONTH], base);
}

// ------------------------------------------------------------------------------- incremental

export interface DayFilter {
  /** Local days to rebuild, and the UTC instants that bound them. */
  readonly days: readonly string[];
  readonly fromIso: string;
  readonly toIso: string;
}

/** The touched days' new base rows, aggregated once from cc_csat into a temp table. */
export function stageBaseDays(dayExpr: RawBuilder<string>, filter: DayFilter): RawBuilder<unknown>[] {
  return [
    sql`DROP TABLE IF EXISTS temp.fresh_base`,
    sql`CREATE TEMP TABLE fresh_base AS
      SELECT queue_id, agent_id, ${dayExpr} AS period_start, ${DISTRIBUTION}
      FROM cc_csat
      WHERE created_at >= ${filter.fromIso} AND created_at < ${filter.toIso} AND ${dayExpr} IN (${sql.join(filter.days)})
      GROUP BY queue_id, agent_id, period_start`,
  ];
}

/**
 * Moves every week and month rollup by exactly (new base rows - old base rows) of the touched
 * days, one upsert per scope and period: work proportional to the touched days, not whole months.
 * Runs before the old base rows are replaced.
 */
export function applyBaseDelta(days: readonly string[]): RawBuilder<unknown>[] {
  const delta = sql`
    SELECT queue_id, agent_id, period_start, ${VALUES} FROM temp.fresh_base
    UNION ALL
    SELECT queue_id, agent_id, period_start, ${NEGATED} FROM csat_rollup ${BY_PERIOD_START}
    WHERE scope = 'agent_queue' AND period = 'day' AND period_start IN (${sql.join(days)})`;
  return insertDerived(
    WEEK_AND_MONTH,
    sql`(${delta}) WHERE true`,
    sql`ON CONFLICT (scope, period, queue_id, period_start, agent_id) DO UPDATE SET ${ADD_EXCLUDED}`,
  );
}

/** Day rows (every scope) of the touched days, about to be replaced by the staged ones. */
export function deleteDays(days: readonly string[]): RawBuilder<unknown> {
  return sql`DELETE FROM csat_rollup WHERE period = 'day' AND period_start IN (${sql.join(days)})`;
}

/** The staged rows become the base, and the agent and queue day rollups of those days. */
export function insertStagedDays(): RawBuilder<unknown>[] {
  return [
    sql`INSERT INTO csat_rollup (${COLUMNS}) SELECT 'agent_queue', 'day', queue_id, agent_id, period_start, ${VALUES} FROM temp.fresh_base`,
    sql`INSERT INTO csat_rollup (${COLUMNS}) SELECT 'agent', 'day', '', agent_id, period_start, ${SUMMED} FROM temp.fresh_base GROUP BY agent_id, period_start`,
    sql`INSERT INTO csat_rollup (${COLUMNS}) SELECT 'queue', 'day', queue_id, '', period_start, ${SUMMED} FROM temp.fresh_base GROUP BY queue_id, period_start`,
    sql`INSERT INTO csat_queue_agent (queue_id, agent_id, first_day, last_day)
      SELECT queue_id, agent_id, min(period_start), max(period_start) FROM temp.fresh_base WHERE true GROUP BY queue_id, agent_id
      ON CONFLICT (queue_id, agent_id) DO UPDATE SET first_day = min(first_day, excluded.first_day), last_day = max(last_day, excluded.last_day)`,
    sql`DROP TABLE temp.fresh_base`,
  ];
}

/** Week and month buckets the difference emptied (only possible if ratings were removed). */
export function deleteEmpty(weeks: readonly string[], months: readonly string[]): RawBuilder<unknown> {
  return sql`DELETE FROM csat_rollup WHERE count = 0 AND ((period = 'week' AND period_start IN (${sql.join(weeks)})) OR (period = 'month' AND period_start IN (${sql.join(months)})))`;
}

// ------------------------------------------------------------------------------- running totals

const RUNNING_WINDOW = sql.raw('WINDOW running AS (PARTITION BY queue_id, agent_id ORDER BY period_start ROWS UNBOUNDED PRECEDING)');

/** csat_running and csat_queue_agent (emptied first) from the whole (agent_queue, day) base. */
export function insertAllRunning(): RawBuilder<unknown>[] {
  return [
    sql`INSERT INTO csat_running (queue_id, agent_id, day, count, sum)
      SELECT queue_id, agent_id, period_start, sum(count) OVER running, sum(sum) OVER running
      FROM csat_rollup WHERE scope = 'agent_queue' AND period = 'day'
      ${RUNNING_WINDOW}`,
    sql`INSERT INTO csat_queue_agent (queue_id, agent_id, first_day, last_day)
      SELECT queue_id, agent_id, min(period_start), max(period_start)
      FROM csat_rollup WHERE scope = 'agent_queue' AND period = 'day'
      GROUP BY queue_id, agent_id`,
  ];
}

/**
 * Running totals from local day `firstDay` on, after the day rows from there have been replaced:
 * each pair's rows before `firstDay` are the base the new days add up from. Ratings arrive in time
 * order, so `firstDay` is today or yesterday and this touches one row per agent rated since.
 */
export function refreshRunningFrom(firstDay: string): RawBuilder<unknown>[] {
  const before = (column: 'count' | 'sum') =>
    sql`coalesce((SELECT r.${sql.raw(column)} FROM csat_running r
      WHERE r.queue_id = d.queue_id AND r.agent_id = d.agent_id AND r.day < ${firstDay} ORDER BY r.day DESC LIMIT 1), 0)`;
  return [
    sql`DELETE FROM csat_running
      WHERE (queue_id, agent_id) IN (SELECT queue_id, agent_id FROM csat_queue_agent WHERE last_day >= ${firstDay}) AND day >= ${firstDay}`,
    sql`INSERT INTO csat_running (queue_id, agent_id, day, count, sum)
      SELECT queue_id, agent_id, period_start, before_count + sum(count) OVER running, before_sum + sum(sum) OVER running
      FROM (
        SELECT d.queue_id, d.agent_id, d.period_start, d.count, d.sum, ${before('count')} AS before_count, ${before('sum')} AS before_sum
        FROM csat_rollup d ${BY_PERIOD_START}
        WHERE d.period = 'day' AND d.period_start >= ${firstDay} AND d.scope = 'agent_queue'
      )
      ${RUNNING_WINDOW}`,
  ];
}
