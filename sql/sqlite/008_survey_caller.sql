-- When each caller number was last offered a survey, for resurvey_after_hours: a caller is not
-- surveyed again within a queue's window. The number is never stored: caller_hash is the lowercase
-- hex HMAC-SHA256 of CALLERID(num) under [survey] caller_hash_key_env's key. One row per number;
-- each write also deletes rows older than the longest window in queues.toml, so the table holds
-- about the callers surveyed within that window.
CREATE TABLE survey_caller (
  caller_hash TEXT NOT NULL PRIMARY KEY CHECK (length(caller_hash) = 64),
  surveyed_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX survey_caller_surveyed ON survey_caller (surveyed_at);
