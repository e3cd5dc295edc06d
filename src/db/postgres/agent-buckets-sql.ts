// An agent's buckets on PostgreSQL, summed when read from its (agent_queue, day) rows: no agent rows
// are stored here (sql/postgres/020). An agent is rated in a few queues, so a bucket sums a few rows
// per day of it: a year by month reads ~730 day rows for an agent of two queues, one primary-key range
// per queue (csat_queue_agent names the queues and the days each pair was rated on).
//
// Parameters: $1 the period ('day', 'week', 'month'), $2 the agent ids (text[]), $3 and $4 the range:
// the buckets whose period_start is in [$3, $4], as stored rows would be. A bucket starting at $4 ends
// up to 6 days (a week) or 30 days (a month) after it; days after that belong to buckets starting past
// $4, and days on or after $3 in a bucket starting before $3 are outside too: both are filtered out by
// the bucket's own start.
const LAST_DAY = `$4::date + CASE $1::text WHEN 'week' THEN 6 WHEN 'month' THEN 30 ELSE 0 END`;
// date_trunc of a timestamp (not timestamptz): pure calendar arithmetic, the weeks and months the
// queue rows are built with (rollup-sql.ts).
const BUCKET = `CASE $1::text WHEN 'week' THEN date_trunc('week', r.period_start::timestamp)::date
      WHEN 'month' THEN date_trunc('month', r.period_start::timestamp)::date ELSE r.period_start END`;
// Counters are integer, as stored rows' were: a sum past 2^31 is an error, not a wrap.
const SUMS = ['count', 'sum', 'n1', 'n2', 'n3', 'n4', 'n5'].map((column) => `sum(d.${column})::int AS ${column}`).join(', ');

/** The agents' buckets; with `perAgent`, each agent's own (agent_id first), else one row per bucket. */
export function agentBucketsSql(perAgent: boolean): string {
  const agent = perAgent ? 'd.agent_id, ' : '';
  return `SELECT ${agent}d.bucket AS period_start, ${SUMS}
    FROM (
      SELECT r.agent_id, ${BUCKET} AS bucket, r.count, r.sum, r.n1, r.n2, r.n3, r.n4, r.n5
      FROM csat_queue_agent AS qa
      JOIN csat_rollup AS r ON r.scope = 'agent_queue' AND r.period = 'day' AND r.queue_id = qa.queue_id AND r.agent_id = qa.agent_id
        AND r.period_start BETWEEN $3::date AND ${LAST_DAY}
      WHERE qa.agent_id = ANY ($2::text[]) AND qa.last_day >= $3::date AND qa.first_day <= ${LAST_DAY}
    ) AS d
    WHERE d.bucket BETWEEN $3::date AND $4::date
    GROUP BY ${agent}d.bucket
    ORDER BY ${agent}d.bucket`;
}
