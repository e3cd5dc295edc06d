-- csat_rollup_day served the first incremental runs, which recomputed the local days new ratings
-- touched. Runs now fold the new ratings into their rows by primary key (src/db/postgres/
-- rollup-fold-sql.ts) and no query reads it: it only cost every run's writes and a first run's build.
DROP INDEX IF EXISTS csat_rollup_day;
