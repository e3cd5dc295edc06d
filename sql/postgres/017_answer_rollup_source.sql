-- answer_rollup keeps where each answer came from (survey_answer.source: 'ivr', 'link', or a
-- feedback channel), so the per-question statistics can be read for one source. Changed in place,
-- not dropped and created again: a DBA who granted the engine's role its rights on the table keeps
-- them. Emptied, and its watermark forgotten: the next result-service run refills it from
-- survey_answer, which is unchanged.
DELETE FROM answer_rollup;
ALTER TABLE answer_rollup ADD COLUMN source text COLLATE "C" NOT NULL DEFAULT 'ivr';
ALTER TABLE answer_rollup ALTER COLUMN source DROP DEFAULT;
ALTER TABLE answer_rollup DROP CONSTRAINT answer_rollup_pkey;
ALTER TABLE answer_rollup ADD CONSTRAINT answer_rollup_pkey PRIMARY KEY (scope, period, queue_id, agent_id, period_start, question_id, kind, value, source);
DELETE FROM result_state WHERE key = 'answer_watermark';
