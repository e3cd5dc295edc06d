-- A survey with a consent step records the caller's answer to the offer: consent is 'accepted' or
-- 'declined' (NULL: no consent step, or the caller left before answering it); outcome gains 'declined'.
ALTER TABLE survey_outcome DROP CONSTRAINT survey_outcome_outcome_check;

ALTER TABLE survey_outcome ADD CONSTRAINT survey_outcome_outcome_check
  CHECK (outcome IN ('completed', 'no_input', 'invalid', 'abandoned', 'skipped', 'failed', 'declined'));

ALTER TABLE survey_outcome ADD COLUMN consent text CHECK (consent IN ('accepted', 'declined'));
