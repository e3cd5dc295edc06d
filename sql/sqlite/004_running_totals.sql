-- Agent rankings over any date range from two rows per agent, instead of summing every day,
-- week and month bucket in the range (about 12 rows per agent for 30 days).
--
-- csat_running: per queue and agent, the running total of ratings up to and including each local
-- day (results.timezone) on which that agent was rated in that queue. An agent's totals over
-- [from, to] are (last row on or before `to`) minus (last row before `from`).
CREATE TABLE csat_running (
  queue_id TEXT    NOT NULL,
  agent_id TEXT    NOT NULL,
  day      TEXT    NOT NULL,
  count    INTEGER NOT NULL,
  sum      INTEGER NOT NULL,
  PRIMARY KEY (queue_id, agent_id, day)
) WITHOUT ROWID;

-- Who was ever rated in which queue, and over which local days: the agents a ranking looks up.
CREATE TABLE csat_queue_agent (
  queue_id  TEXT NOT NULL,
  agent_id  TEXT NOT NULL,
  first_day TEXT NOT NULL,
  last_day  TEXT NOT NULL,
  PRIMARY KEY (queue_id, agent_id)
) WITHOUT ROWID;

CREATE INDEX csat_queue_agent_agent ON csat_queue_agent (agent_id);

-- Filled from the existing day rollups, so rankings are right from the first request after the
-- upgrade, without waiting for a full rebuild.
INSERT INTO csat_running (queue_id, agent_id, day, count, sum)
  SELECT queue_id, agent_id, period_start, sum(count) OVER running, sum(sum) OVER running
  FROM csat_rollup
  WHERE scope = 'agent_queue' AND period = 'day'
  WINDOW running AS (PARTITION BY queue_id, agent_id ORDER BY period_start ROWS UNBOUNDED PRECEDING);

INSERT INTO csat_queue_agent (queue_id, agent_id, first_day, last_day)
  SELECT queue_id, agent_id, min(period_start), max(period_start)
  FROM csat_rollup
  WHERE scope = 'agent_queue' AND period = 'day'
  GROUP BY queue_id, agent_id;

-- Agent-in-queue weeks and months only served rankings; the running totals replace them.
DELETE FROM csat_rollup WHERE scope = 'agent_queue' AND period <> 'day';
