-- One row per rated call. call_id is UNIQUE: a call is rated once, whichever path (IVR or API) came first.
-- created_at is UTC ISO-8601 with milliseconds ("2026-11-20T14:03:07.123Z") so text order is time order.
CREATE TABLE cc_csat (
  id         INTEGER PRIMARY KEY,
  call_id    TEXT    NOT NULL UNIQUE CHECK (length(call_id) BETWEEN 1 AND 128),
  agent_id   TEXT    NOT NULL,
  queue_id   TEXT    NOT NULL,
  score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment    TEXT,
  created_at TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
);

CREATE INDEX cc_csat_agent_created ON cc_csat (agent_id, created_at);

CREATE INDEX cc_csat_queue_created ON cc_csat (queue_id, created_at);
