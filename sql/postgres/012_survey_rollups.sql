-- Per-question and funnel rollups, built by the result service in the same run (and transaction) as
-- csat_rollup: the API's question and funnel statistics read these, never scans of survey_answer or
-- survey_outcome. scope: 'agent' (queue_id = ''), 'queue' (agent_id = ''); no agent-in-queue rows.
-- period_start: the local date (results.timezone) a day, ISO week (Monday) or month starts on, as in
-- csat_rollup. Both are refilled from scratch by the first run after this migration (their
-- watermarks in result_state are missing), so answers stored before the upgrade are counted.
-- fillfactor: incremental runs add to count in place (count is in no key: HOT updates). Every text
-- key column is COLLATE "C": a byte comparison per key column and index descent, where the database's
-- default collation costs a locale comparison (measured: a rebuild's inserts ~30% slower).

-- How many answers had `value` for one question (a spoken comment counts with value 0).
CREATE TABLE answer_rollup (
  scope        text    COLLATE "C" NOT NULL CHECK (scope IN ('agent', 'queue')),
  period       text    COLLATE "C" NOT NULL CHECK (period IN ('day', 'week', 'month')),
  queue_id     text    COLLATE "C" NOT NULL,
  agent_id     text    COLLATE "C" NOT NULL,
  question_id  text    COLLATE "C" NOT NULL,
  kind         text    COLLATE "C" NOT NULL,
  period_start date    NOT NULL,
  value        integer NOT NULL,
  count        integer NOT NULL,
  -- A queue's (or an agent's) buckets over a date range are one contiguous range of the key.
  CONSTRAINT answer_rollup_pkey PRIMARY KEY (scope, period, queue_id, agent_id, period_start, question_id, kind, value)
) WITH (fillfactor = 90);

-- The whole contact center over a date range (every queue's rows): a range here instead of every
-- queue's whole history.
CREATE INDEX answer_rollup_period_start ON answer_rollup (scope, period, period_start);

-- How many surveys ended one way. detail: last_step for abandoned, no_input and invalid, otherwise
-- reason ('' when NULL); consent '' when NULL. Outcomes without an agent are left out of agent
-- scope; (since 014_outcome_rollup_labels) those without a queue are queue rows of queue ''.
CREATE TABLE outcome_rollup (
  scope        text    COLLATE "C" NOT NULL CHECK (scope IN ('agent', 'queue')),
  period       text    COLLATE "C" NOT NULL CHECK (period IN ('day', 'week', 'month')),
  queue_id     text    COLLATE "C" NOT NULL,
  agent_id     text    COLLATE "C" NOT NULL,
  period_start date    NOT NULL,
  outcome      text    COLLATE "C" NOT NULL,
  detail       text    COLLATE "C" NOT NULL,
  consent      text    COLLATE "C" NOT NULL,
  count        integer NOT NULL,
  CONSTRAINT outcome_rollup_pkey PRIMARY KEY (scope, period, queue_id, agent_id, period_start, outcome, detail, consent)
) WITH (fillfactor = 90);

CREATE INDEX outcome_rollup_period_start ON outcome_rollup (scope, period, period_start);
