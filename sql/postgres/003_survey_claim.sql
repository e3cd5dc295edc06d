-- Which engine runs the survey of a call, while it runs: several engines, or a restarted one, must
-- never survey the same call twice at once. A claim is a lease the owner renews while the survey
-- lives; a claim whose lease ran out (its engine died) can be taken over. The row is deleted when the
-- survey ends. (SQLite has one engine per file and needs no claims.)
CREATE TABLE survey_claim (
  call_id     text        COLLATE "C" NOT NULL PRIMARY KEY,
  channel_id  text        COLLATE "C" NOT NULL,
  engine_id   text        COLLATE "C" NOT NULL,
  claimed_at  timestamptz NOT NULL,
  lease_until timestamptz NOT NULL
);

CREATE INDEX survey_claim_engine ON survey_claim (engine_id);
