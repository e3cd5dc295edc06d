-- Which Asterisk server ([[ari]] name in engine.toml) ran the survey (see sql/sqlite/005_outcome_server.sql).
-- NULL for rows written before this migration and for `cc-csat simulate`, which runs on no server.
ALTER TABLE survey_outcome ADD COLUMN server text COLLATE "C";
