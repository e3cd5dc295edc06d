-- Spoken comments: which Asterisk server holds each recording (the API streams it from there and the
-- result service deletes it there), and when the result service deleted it (recording_retention_days).
-- The row and its recording name stay: the answer was given, only its audio is gone.
ALTER TABLE survey_answer ADD COLUMN recording_server TEXT;

ALTER TABLE survey_answer ADD COLUMN recording_deleted_at TEXT;

-- The retention sweep reads only recordings still kept, oldest first.
CREATE INDEX survey_answer_recording_kept ON survey_answer (answered_at) WHERE recording IS NOT NULL AND recording_deleted_at IS NULL;
