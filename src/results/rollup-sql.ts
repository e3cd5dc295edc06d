// SQL that builds csat_rollup. The base is (agent_queue, day), one scan of cc_csat grouped by
// agent, queue and local day; every other rollup is derived from that small base.
import { sql, type RawBuilder } from 'kysely';
import type { ZoneCalendar } from './zone.js';

const DISTRIBUTION = sql.raw(
  'count(*), sum(score), sum(score = 1), sum(score = 2), sum(score = 3), sum(score = 4), sum(score = 5)',
);
const SUMMED = sql.raw('sum(count), sum(sum), sum(n1), sum(n2), sum(n3), sum(n4), sum(n5)');
const COLUMNS = sql.raw('scope, period, queue_id, agent_id, period_start, count, sum, n1, n2, n3, n4, n5');

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

export interface DayFilter {
  /** Only these local days are rebuilt; undefined rebuilds everything. */
  readonly days: readonly string[];
  readonly fromIso: string;
  readonly toIso: string;
}

export function insertBaseDays(dayExpr: RawBuilder<string>, filter: DayFilter | undefined): RawBuilder<unknown> {
  const where = filter
    ? sql`WHERE created_at >= ${filter.fromIso} AND created_at < ${filter.toIso} AND ${dayExpr} IN (${sql.join(filter.days)})`
    : sql``;
  return sql`INSERT INTO csat_rollup (${COLUMNS})
    SELECT 'agent_queue', 'day', queue_id, agent_id, ${dayExpr} AS local_day, ${DISTRIBUTION}
    FROM cc_csat ${where}
    GROUP BY queue_id, agent_id, local_day`;
}

const WEEK_OF = sql.raw(`date(period_start, '-6 days', 'weekday 1')`);
const MONTH_OF = sql.raw(`substr(period_start, 1, 8) || '01'`);

export interface TouchedBuckets {
  readonly days: readonly string[];
  readonly weeks: readonly string[];
  readonly months: readonly string[];
}

/**
 * Derived rollups (every scope and period except the base) from base rows. With `touched`, only
 * those buckets are rebuilt: exactly the ones deleteTouched removed.
 */
export function insertDerived(touched: TouchedBuckets | undefined): RawBuilder<unknown>[] {
  const periods = [
    ['day', sql.raw('period_start'), touched?.days],
    ['week', WEEK_OF, touched?.weeks],
    ['month', MONTH_OF, touched?.months],
  ] as const;
  const scopes = [
    ['agent', sql.raw(`''`), sql.raw('agent_id')],
    ['queue', sql.raw('queue_id'), sql.raw(`''`)],
    ['agent_queue', sql.raw('queue_id'), sql.raw('agent_id')],
  ] as const;
  const statements: RawBuilder<unknown>[] = [];
  for (const [period, bucket, only] of periods) {
    const filter = only ? sql`AND ${bucket} IN (${sql.join(only)})` : sql``;
    for (const [scope, queue, agent] of scopes) {
      if (scope === 'agent_queue' && period === 'day') continue;
      statements.push(sql`INSERT INTO csat_rollup (${COLUMNS})
        SELECT ${scope}, ${period}, ${queue} AS q, ${agent} AS a, ${bucket} AS b, ${SUMMED}
        FROM csat_rollup WHERE scope = 'agent_queue' AND period = 'day' ${filter}
        GROUP BY q, a, b`);
    }
  }
  return statements;
}

/** Removes the rollups an incremental run recomputes: touched days, and the weeks and months around them. */
export function deleteTouched({ days, weeks, months }: TouchedBuckets): RawBuilder<unknown>[] {
  return [
    sql`DELETE FROM csat_rollup WHERE period = 'day' AND period_start IN (${sql.join(days)})`,
    sql`DELETE FROM csat_rollup WHERE period = 'week' AND period_start IN (${sql.join(weeks)})`,
    sql`DELETE FROM csat_rollup WHERE period = 'month' AND period_start IN (${sql.join(months)})`,
  ];
}
