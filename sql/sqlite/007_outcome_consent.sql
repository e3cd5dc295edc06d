-- A survey with a consent step records the caller's answer to the offer: consent is 'accepted' or
-- 'declined' (NULL: no consent step, or the caller left before answering it); outcome gains
-- 'declined'. SQLite cannot change a CHECK in place: the table is rebuilt with its rows and indexes.
CREATE TABLE survey_outcome_new (
  id          INTEGER PRIMARY KEY,
  call_id     TEXT,
  channel_id  TEXT    NOT NULL,
  agent_id    TEXT,
  queue_id    TEXT,
  ivr         TEXT,
  outcome     TEXT    NOT NULL CHECK (outcome IN ('completed', 'no_input', 'invalid', 'abandoned', 'skipped', 'failed', 'declined')),
  reason      TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_step   TEXT,
  score       INTEGER CHECK (score BETWEEN 1 AND 5),
  started_at  TEXT    NOT NULL,
  ended_at    TEXT    NOT NULL,
  server      TEXT,
  consent     TEXT    CHECK (consent IN ('accepted', 'declined'))
);

INSERT INTO survey_outcome_new (id, call_id, channel_id, agent_id, queue_id, ivr, outcome, reason, attempts, last_step, score, started_at, ended_at, server)
SELECT id, call_id, channel_id, agent_id, queue_id, ivr, outcome, reason, attempts, last_step, score, started_at, ended_at, server FROM survey_outcome;

DROP TABLE survey_outcome;

ALTER TABLE survey_outcome_new RENAME TO survey_outcome;

CREATE INDEX survey_outcome_queue_started ON survey_outcome (queue_id, started_at);

CREATE INDEX survey_outcome_agent_started ON survey_outcome (agent_id, started_at);

CREATE INDEX survey_outcome_call ON survey_outcome (call_id);
