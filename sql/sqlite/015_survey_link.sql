-- Rating links (issue 14): a caller who hung up (or stayed silent) before rating gets a link by SMS
-- or email, through the alert outbox's webhook. One link per call. The token itself is never stored:
-- token_sha256 is its SHA-256 (hex), so a copy of the database rates nothing. The link's row is written
-- in the survey outcome's transaction, with its survey.link delivery.
-- status: pending (created, not yet delivered), sent (the receiver took it), completed (rated). An
-- expired link is one past expires_at that was not completed (reported so, not rewritten).
-- question_id/ivr: the IVR's headline question, which a rating by link answers.
CREATE TABLE survey_link (
  id           INTEGER PRIMARY KEY,
  token_sha256 TEXT    NOT NULL UNIQUE,
  call_id      TEXT    NOT NULL UNIQUE,
  agent_id     TEXT    NOT NULL,
  queue_id     TEXT    NOT NULL,
  ivr          TEXT    NOT NULL,
  question_id  TEXT    NOT NULL,
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'completed')),
  created_at   TEXT    NOT NULL,
  expires_at   TEXT    NOT NULL,
  sent_at      TEXT,
  completed_at TEXT
);

-- Where an answer came from: 'ivr' (keys on the call) or 'link' (a rating link). Every answer so far
-- was the IVR's.
ALTER TABLE survey_answer ADD COLUMN source TEXT NOT NULL DEFAULT 'ivr';
