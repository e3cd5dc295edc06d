-- When each caller number was last offered a survey, for resurvey_after_hours: a caller is not
-- surveyed again within a queue's window. The number is never stored: caller_hash is the lowercase
-- hex HMAC-SHA256 of CALLERID(num) under [survey] caller_hash_key_env's key. One row per number,
-- written by one upsert that succeeds only when the previous survey is older than the window (two
-- engines taking the same caller at once: one of them wins). Each write also deletes rows older
-- than the longest window in queues.toml, so the table holds about the callers surveyed within it.
CREATE TABLE survey_caller (
  caller_hash text        COLLATE "C" NOT NULL PRIMARY KEY CHECK (char_length(caller_hash) = 64),
  surveyed_at timestamptz NOT NULL
);

CREATE INDEX survey_caller_surveyed ON survey_caller (surveyed_at);
