-- Which Asterisk server ([[ari]] name in engine.toml) ran the survey: one engine may serve several.
-- NULL for rows written before this migration and for `cc-csat simulate`, which runs on no server.
ALTER TABLE survey_outcome ADD COLUMN server TEXT;
