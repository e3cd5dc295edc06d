// SQL that builds csat_rollup. The base is (agent_queue, day): ratings grouped by queue, agent and
// local day. A full rebuild derives every other rollup from the base; an incremental run recomputes
// the touched days and moves weeks and months by exactly the difference.
import { sql, type RawBuilder } from 'kysely';
import type { ZoneCalendar } from './zone.js';

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

const SCOPES = [
  ['agent', sql.raw(`''`), sql.raw('agent_id')],
  ['queue', sql.raw('queue_id'), sql.raw(`''`)],
  ['agent_queue', sql.raw('queue_id'), sql.raw('agent_id')],
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

/** Every rollup except the base, derived from the (small) base. */
export function insertAllDerived(): RawBuilder<unknown>[] {
  const periods = [
    ['day', sql.raw('period_start')],
    ['week', WEEK_OF],
    ['month', MONTH_OF],
  ] as const;
  return periods.flatMap(([period, bucket]) =>
    SCOPES.filter(([scope]) => !(scope === 'agent_queue' && period === 'day')).map(
      ([scope, queue, agent]) => sql`INSERT INTO csat_rollup (${COLUMNS})
        SELECT ${scope}, ${period}, ${queue} AS q, ${agent} AS a, ${bucket} AS b, ${SUMMED}
        FROM csat_rollup WHERE scope = 'agent_queue' AND period = 'day'
        GROUP BY q, a, b`,
    ),
  );
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
  const periods = [
    ['week', WEEK_OF],
    ['month', MONTH_OF],
  ] as const;
  return periods.flatMap(([period, bucket]) =>
    SCOPES.map(
      ([scope, queue, agent]) => sql`INSERT INTO csat_rollup (${COLUMNS})
        SELECT ${scope}, ${period}, ${queue} AS q, ${agent} AS a, ${bucket} AS b, ${SUMMED}
        FROM (${delta}) WHERE true
        GROUP BY q, a, b
        ON CONFLICT (scope, period, queue_id, period_start, agent_id) DO UPDATE SET ${ADD_EXCLUDED}`,
    ),
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
    sql`DROP TABLE temp.fresh_base`,
  ];
}

/** Week and month buckets the difference emptied (only possible if ratings were removed). */
export function deleteEmpty(weeks: readonly string[], months: readonly string[]): RawBuilder<unknown> {
  return sql`DELETE FROM csat_rollup WHERE count = 0 AND ((period = 'week' AND period_start IN (${sql.join(weeks)})) OR (period = 'month' AND period_start IN (${sql.join(months)})))`;
}
