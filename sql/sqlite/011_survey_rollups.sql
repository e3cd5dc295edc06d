-- Per-question and funnel rollups, built by the result service in the same run (and transaction) as
-- csat_rollup: the API's question and funnel statistics read these, never scans of survey_answer or
-- survey_outcome. scope: 'agent' (queue_id = ''), 'queue' (agent_id = ''); no agent-in-queue rows.
-- period_start: the local date (results.timezone) a day, ISO week (Monday) or month starts on, as in
-- csat_rollup. Both are refilled from scratch by the first run after this migration (their
-- watermarks in result_state are missing), so answers stored before the upgrade are counted.

-- How many answers had `value` for one question (a spoken comment counts with value 0).
CREATE TABLE answer_rollup (
  scope        TEXT    NOT NULL CHECK (scope IN ('agent', 'queue')),
  period       TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month')),
  queue_id     TEXT    NOT NULL,
  agent_id     TEXT    NOT NULL,
  question_id  TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  period_start TEXT    NOT NULL,
  value        INTEGER NOT NULL,
  count        INTEGER NOT NULL,
  -- A queue's (or an agent's) buckets over a date range are one contiguous range of the key.
  PRIMARY KEY (scope, period, queue_id, agent_id, period_start, question_id, kind, value)
) WITHOUT ROWID;

-- The whole contact center over a date range (every queue's rows): a range here instead of every
-- queue's whole history. (count is left out: every fold changes it, and would rewrite the index entry.)
CREATE INDEX answer_rollup_period_start ON answer_rollup (scope, period, period_start);

-- How many surveys ended one way. detail: last_step for abandoned, no_input and invalid, otherwise
-- reason ('' when NULL); consent '' when NULL. Outcomes without an agent are left out of agent
-- scope; (since 013_outcome_rollup_labels) those without a queue are queue rows of queue ''.
CREATE TABLE outcome_rollup (
  scope        TEXT    NOT NULL CHECK (scope IN ('agent', 'queue')),
  period       TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month')),
  queue_id     TEXT    NOT NULL,
  agent_id     TEXT    NOT NULL,
  period_start TEXT    NOT NULL,
  outcome      TEXT    NOT NULL,
  detail       TEXT    NOT NULL,
  consent      TEXT    NOT NULL,
  count        INTEGER NOT NULL,
  PRIMARY KEY (scope, period, queue_id, agent_id, period_start, outcome, detail, consent)
) WITHOUT ROWID;

CREATE INDEX outcome_rollup_period_start ON outcome_rollup (scope, period, period_start);
