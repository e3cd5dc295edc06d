-- answer_rollup keeps where each answer came from (survey_answer.source: 'ivr', 'link'), so the
-- per-question statistics can be read for one source. The table is rebuilt (the key changes) and its
-- watermark forgotten: the next result-service run refills it from survey_answer, which is unchanged.
DROP TABLE answer_rollup;

CREATE TABLE answer_rollup (
  scope        text    COLLATE "C" NOT NULL CHECK (scope IN ('agent', 'queue')),
  period       text    COLLATE "C" NOT NULL CHECK (period IN ('day', 'week', 'month')),
  queue_id     text    COLLATE "C" NOT NULL,
  agent_id     text    COLLATE "C" NOT NULL,
  question_id  text    COLLATE "C" NOT NULL,
  kind         text    COLLATE "C" NOT NULL,
  period_start date    NOT NULL,
  value        integer NOT NULL,
  source       text    COLLATE "C" NOT NULL,
  count        integer NOT NULL,
  CONSTRAINT answer_rollup_pkey PRIMARY KEY (scope, period, queue_id, agent_id, period_start, question_id, kind, value, source)
) WITH (fillfactor = 90);

CREATE INDEX answer_rollup_period_start ON answer_rollup (scope, period, period_start);

DELETE FROM result_state WHERE key = 'answer_watermark';
