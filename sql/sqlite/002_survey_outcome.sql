-- One row per survey offered (or declined) by the IVR controller; response rate is computed from it.
CREATE TABLE survey_outcome (
  id          INTEGER PRIMARY KEY,
  call_id     TEXT,
  channel_id  TEXT    NOT NULL,
  agent_id    TEXT,
  queue_id    TEXT,
  ivr         TEXT,
  outcome     TEXT    NOT NULL CHECK (outcome IN ('completed', 'no_input', 'invalid', 'abandoned', 'skipped', 'failed')),
  reason      TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_step   TEXT,
  score       INTEGER CHECK (score BETWEEN 1 AND 5),
  started_at  TEXT    NOT NULL,
  ended_at    TEXT    NOT NULL
);

CREATE INDEX survey_outcome_queue_started ON survey_outcome (queue_id, started_at);

CREATE INDEX survey_outcome_agent_started ON survey_outcome (agent_id, started_at);

CREATE INDEX survey_outcome_call ON survey_outcome (call_id);
