-- The call each caller number was last offered a survey in: the same call coming back (adopted by a
-- restarted engine, or by another engine after a takeover) is that survey, not a resurvey.
ALTER TABLE survey_caller ADD COLUMN call_id text COLLATE "C";
