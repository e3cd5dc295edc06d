-- Tells every engine's statistics reader when a result-service run commits (src/db/postgres/
-- stats-state-watch.ts): an engine keeps the rollup snapshot it last read until this notification
-- arrives, instead of reading result_state again for every API request. Statement level: one
-- notification per run (identical notifications of one transaction are folded), sent at its commit.
-- The body stays on one line: migrations are split at a semicolon that ends a line.
CREATE FUNCTION cc_csat_result_state_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('cc_csat_result_state', ''); RETURN NULL; END $$;

CREATE TRIGGER result_state_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON result_state
  FOR EACH STATEMENT EXECUTE FUNCTION cc_csat_result_state_notify();
