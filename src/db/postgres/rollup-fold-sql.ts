// An incremental run's one statement on PostgreSQL: the ratings in (watermark, bound] folded into every
// rollup and queue membership, and the new watermark saved, in one round trip. The ratings are read
// once (an index range on the primary key) and everything else follows from their base rows: no
// second read of cc_csat.
//
// Every write reaches its rows through the primary keys, one index descent each: the cost follows the
// rows the new ratings touch (a few hundred for a thousand ratings), whatever the size of the tables.
import { sql, type RawBuilder } from 'kysely';
import { COUNTERS, ROLLUP_KEY, list, newBaseRows, queueAgentRows, queueDayBuckets, rollupRows, saveState, weekAndMonthBuckets } from './rollup-sql.js';

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
    new_days AS MATERIALIZED (${queueDayBuckets('new_base')}),
    new_weeks_and_months AS MATERIALIZED (${weekAndMonthBuckets('new_days')}),
    new_rollup AS MATERIALIZED (${rollupRows('new_base', 'new_days', 'new_weeks_and_months')}),
    ${addToRollups('new_rollup')},
    ${widenQueueAgents('new_base')},
    state_saved AS (${saveState(bound, zone, refreshedAt)})
    SELECT coalesce(sum(count), 0)::int AS ratings, count(DISTINCT period_start)::int AS days FROM new_base`;
}
