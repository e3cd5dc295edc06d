-- Every answer a caller gives, one row per question of a survey, written the moment it is given: a
-- caller who hangs up after question 2 of 4 keeps answers 1 and 2. The headline csat answer is also
-- the call's cc_csat row, written in the same transaction. `kind` says how to read `value`: csat 1-5,
-- nps 0-10, ces 1-7, yes_no 1 (yes) or 0 (no), scale within its question's range; a spoken comment
-- has no value but a recording (Asterisk's stored recording name, its length and format).
CREATE TABLE survey_answer (
  id               INTEGER PRIMARY KEY,
  call_id          TEXT    NOT NULL CHECK (length(call_id) BETWEEN 1 AND 128),
  question_id      TEXT    NOT NULL CHECK (length(question_id) BETWEEN 1 AND 64),
  kind             TEXT    NOT NULL CHECK (kind IN ('csat', 'nps', 'ces', 'yes_no', 'scale', 'comment')),
  value            INTEGER,
  digits           TEXT,
  recording        TEXT,
  recording_ms     INTEGER CHECK (recording_ms >= 0),
  recording_format TEXT,
  language         TEXT,
  agent_id         TEXT    NOT NULL,
  queue_id         TEXT    NOT NULL,
  ivr              TEXT    NOT NULL,
  answered_at      TEXT    NOT NULL,
  CHECK ((kind = 'comment') = (value IS NULL)),
  CHECK ((kind = 'comment') = (recording IS NOT NULL)),
  UNIQUE (call_id, question_id)
);

CREATE INDEX survey_answer_queue_answered ON survey_answer (queue_id, answered_at);

CREATE INDEX survey_answer_agent_answered ON survey_answer (agent_id, answered_at);
