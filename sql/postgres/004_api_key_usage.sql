-- API requests each engine counted per key, so that a key's rate limit holds across the engines
-- sharing this database: each engine publishes its running total about every second and takes the
-- others' increase from its own token bucket. `epoch` changes when an engine restarts (its total
-- restarts at 0). (SQLite has one engine per file: its limits are its own.)
CREATE TABLE api_key_usage (
  key_name   text        COLLATE "C" NOT NULL,
  engine_id  text        COLLATE "C" NOT NULL,
  epoch      text        NOT NULL,
  used       bigint      NOT NULL CHECK (used >= 0),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (key_name, engine_id)
);
