-- Rollups built by the result service; the API reads these, never scans of cc_csat.
-- scope: 'agent' (queue_id = ''), 'queue' (agent_id = ''), 'agent_queue'.
-- period_start: the local date (results.timezone) a day, ISO week (Monday) or month starts on.
CREATE TABLE csat_rollup (
  scope        TEXT    NOT NULL CHECK (scope IN ('agent', 'queue', 'agent_queue')),
  period       TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month')),
  queue_id     TEXT    NOT NULL,
  agent_id     TEXT    NOT NULL,
  period_start TEXT    NOT NULL,
  count        INTEGER NOT NULL,
  sum          INTEGER NOT NULL,
  n1           INTEGER NOT NULL,
  n2           INTEGER NOT NULL,
  n3           INTEGER NOT NULL,
  n4           INTEGER NOT NULL,
  n5           INTEGER NOT NULL,
  -- Key order serves the reads: a queue's days, and its agents over a date range, are contiguous.
  PRIMARY KEY (scope, period, queue_id, period_start, agent_id)
) WITHOUT ROWID;

CREATE INDEX csat_rollup_agent ON csat_rollup (scope, period, agent_id, period_start);

CREATE INDEX csat_rollup_period_start ON csat_rollup (period, period_start);

-- Incremental refresh looks up the ratings of the touched local days by time.
CREATE INDEX cc_csat_created ON cc_csat (created_at);

-- Result service bookkeeping: watermark (last cc_csat.id folded in), timezone, refreshed_at.
CREATE TABLE result_state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
