-- answer_rollup keeps where each answer came from (survey_answer.source: 'ivr', 'link', or a
-- feedback channel), so the per-question statistics can be read for one source. The table is
-- rebuilt (a key column cannot be added in place) and its watermark forgotten: the next result-service run refills it from
-- survey_answer, which is unchanged.
DROP TABLE answer_rollup;

CREATE TABLE answer_rollup (
  scope        TEXT    NOT NULL CHECK (scope IN ('agent', 'queue')),
  period       TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month')),
  queue_id     TEXT    NOT NULL,
  agent_id     TEXT    NOT NULL,
  question_id  TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  period_start TEXT    NOT NULL,
  value        INTEGER NOT NULL,
  source       TEXT    NOT NULL,
  count        INTEGER NOT NULL,
  -- A queue's (or an agent's) buckets over a date range are one contiguous range of the key.
  PRIMARY KEY (scope, period, queue_id, agent_id, period_start, question_id, kind, value, source)
) WITHOUT ROWID;

CREATE INDEX answer_rollup_period_start ON answer_rollup (scope, period, period_start);

DELETE FROM result_state WHERE key = 'answer_watermark';
