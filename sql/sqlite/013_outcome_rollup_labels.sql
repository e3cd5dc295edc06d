-- outcome_rollup's detail becomes a closed set of labels (src/db/outcome-detail.ts) instead of the raw
-- reason text, and outcomes without a queue become queue rows of queue '' (the whole contact center's
-- funnel counts them). Forgetting the watermark makes the next result-service run refill the table
-- from survey_outcome with the new keys; survey_outcome itself is unchanged.
DELETE FROM result_state WHERE key = 'outcome_watermark';
