// An incremental run's one statement on PostgreSQL: the ratings in (watermark, bound] folded into every
// rollup, running total and queue membership, and the new watermark saved, in one round trip. The
// ratings are read once (an index range on the primary key) and everything else follows from their
// base rows: no second read of cc_csat, and the running totals come from the rows as they were before
// this statement plus what the new ratings add, not from a re-read of the rollups just written (a
// statement's parts all see the same snapshot, so they could not see them anyway).
//
// Every write reaches its rows through the primary keys, one index descent each: the cost follows the
// rows the new ratings touch (a few hundred for a thousand ratings), whatever the size of the tables.
import { sql, type RawBuilder } from 'kysely';
import { COUNTERS, ROLLUP_KEY, dayBuckets, list, newBaseRows, queueAgentRows, rollupRows, saveState, weekAndMonthBuckets } from './rollup-sql.js';

export interface FoldCounts {
  readonly ratings: number;
  /** Local days the ratings fell on. */
  readonly days: number;
}

/**
 * Rollup rows `rows` (a CTE in csat_rollup's column order) added to csat_rollup: existing rows moved
 * by exactly their counters, in place (no counter is indexed, so the updates are HOT), the others
 * inserted. (Measured against an UPDATE ... FROM plus an INSERT of the rows it missed: no faster.)
 */
function addToRollups(rows: string): RawBuilder<unknown> {
  return sql`rollup_added AS (
      INSERT INTO csat_rollup (${list([...ROLLUP_KEY, ...COUNTERS])})
      SELECT ${list([...ROLLUP_KEY, ...COUNTERS])} FROM ${sql.table(rows)}
      ON CONFLICT (${list(ROLLUP_KEY)}) DO UPDATE
        SET ${sql.raw(COUNTERS.map((column) => `${column} = csat_rollup.${column} + excluded.${column}`).join(', '))}
    )`;
}

/**
 * The running totals of the pairs in base rows `base`, moved by what those rows add: each pair's
 * rows from its first new day on (an index range) shift by the pair's new ratings up to their day,
 * and a day without a row yet starts from the pair's last total before it (one backward seek, only
 * for such days). Ratings arrive in time order, so that is today's row of each pair rated since the
 * last run, updated in place.
 */
function addToRunning(base: string): RawBuilder<unknown> {
  return sql`running_pairs AS MATERIALIZED (
      SELECT queue_id, agent_id, min(period_start) AS first_day FROM ${sql.table(base)} GROUP BY queue_id, agent_id
    ),
    running_later AS MATERIALIZED (
      SELECT r.queue_id, r.agent_id, r.day, r.count, r.sum
      FROM running_pairs AS p
      JOIN csat_running AS r ON r.queue_id = p.queue_id AND r.agent_id = p.agent_id AND r.day >= p.first_day
    ),
    running_moved AS MATERIALIZED (
      SELECT coalesce(l.queue_id, n.queue_id) AS queue_id, coalesce(l.agent_id, n.agent_id) AS agent_id,
        coalesce(l.day, n.period_start) AS day, l.count AS old_count, l.sum AS old_sum,
        coalesce(n.count, 0) AS add_count, coalesce(n.sum, 0) AS add_sum
      FROM running_later AS l
      FULL JOIN ${sql.table(base)} AS n ON n.queue_id = l.queue_id AND n.agent_id = l.agent_id AND n.period_start = l.day
    ),
    running_written AS (
      INSERT INTO csat_running (queue_id, agent_id, day, count, sum)
      SELECT m.queue_id, m.agent_id, m.day,
        (coalesce(m.old_count, before.count, 0) + sum(m.add_count) OVER running)::int,
        (coalesce(m.old_sum, before.sum, 0) + sum(m.add_sum) OVER running)::int
      FROM running_moved AS m
      LEFT JOIN LATERAL (
        SELECT r.count, r.sum FROM csat_running AS r
        -- Only for a day that has no row yet: the condition on m alone skips the seek for the others.
        WHERE m.old_count IS NULL AND r.queue_id = m.queue_id AND r.agent_id = m.agent_id AND r.day < m.day
        ORDER BY r.day DESC
        LIMIT 1
      ) AS before ON true
      WINDOW running AS (PARTITION BY m.queue_id, m.agent_id ORDER BY m.day ROWS UNBOUNDED PRECEDING)
      ON CONFLICT (queue_id, agent_id, day) DO UPDATE SET count = excluded.count, sum = excluded.sum
    )`;
}

/** Each pair's first and last day widened to the days of base rows `base`; most pairs are left alone, not even locked. */
function widenQueueAgents(base: string): RawBuilder<unknown> {
  return sql`queue_agent_widened AS (
      INSERT INTO csat_queue_agent (queue_id, agent_id, first_day, last_day)
      SELECT n.queue_id, n.agent_id, n.first_day, n.last_day
      FROM (${queueAgentRows(base)}) AS n
      LEFT JOIN csat_queue_agent AS qa ON qa.queue_id = n.queue_id AND qa.agent_id = n.agent_id
      WHERE qa.queue_id IS NULL OR n.first_day < qa.first_day OR n.last_day > qa.last_day
      ON CONFLICT (queue_id, agent_id) DO UPDATE
        SET first_day = least(csat_queue_agent.first_day, excluded.first_day),
            last_day = greatest(csat_queue_agent.last_day, excluded.last_day)
    )`;
}

/**
 * Adds the ratings in (watermark, bound] to every rollup they belong in and saves `bound` as the new
 * watermark, in one statement. Exact because the watermark is: every rating up to it is folded in and
 * none after it (rollups.ts), and a run commits whole or not at all.
 */
export function foldNewRatings(localDay: RawBuilder<string>, zone: string, watermark: number, bound: number, refreshedAt: string): RawBuilder<FoldCounts> {
  return sql<FoldCounts>`WITH
    new_base AS MATERIALIZED (${newBaseRows(localDay, watermark, bound)}),
    new_days AS MATERIALIZED (${dayBuckets('new_base')}),
    new_weeks_and_months AS MATERIALIZED (${weekAndMonthBuckets('new_days')}),
    new_rollup AS MATERIALIZED (${rollupRows('new_base', 'new_days', 'new_weeks_and_months')}),
    ${addToRollups('new_rollup')},
    ${addToRunning('new_base')},
    ${widenQueueAgents('new_base')},
    state_saved AS (${saveState(bound, zone, refreshedAt)})
    SELECT coalesce(sum(count), 0)::int AS ratings, count(DISTINCT period_start)::int AS days FROM new_base`;
}
