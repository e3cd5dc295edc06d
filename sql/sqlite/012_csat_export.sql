-- Every export of ratings (GET /cc/csat/export): who took which rows, when, and how it ended. The row
-- is written 'running' before the first byte leaves and updated when the export ends (completed,
-- aborted: the client went away, failed: the database or the server did). A row left 'running' with
-- an old started_at is an export the engine never finished: it stopped (crash, restart) mid-export.
-- filters is the export's query as JSON text (format aside): the range, the subject, include_comments.
CREATE TABLE csat_export (
  id          INTEGER PRIMARY KEY,
  key_name    TEXT    NOT NULL,
  format      TEXT    NOT NULL CHECK (format IN ('csv', 'ndjson')),
  filters     TEXT    NOT NULL,
  rows        INTEGER NOT NULL DEFAULT 0 CHECK (rows >= 0),
  status      TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'aborted', 'failed')),
  started_at  TEXT    NOT NULL,
  finished_at TEXT
);

-- The drilldown's has_comment filter looks for a call's spoken comment: without this, "calls without
-- a comment" makes PostgreSQL scan every answer for kind = 'comment'. Comments are few: a small index.
CREATE INDEX survey_answer_comment_call ON survey_answer (call_id) WHERE kind = 'comment';
