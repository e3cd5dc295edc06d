-- Running totals are no longer stored on PostgreSQL: an agent's totals in a queue over a range are the
-- sum of its (agent_queue, day) rows in csat_rollup over that range (an index range on csat_rollup's
-- primary key), and a queue's in-memory copy (src/db/postgres/stats-queue-copy.ts) builds the running
-- totals itself from the same rows. The table held one row per such day row, so every full run wrote
-- every rating's pair-day twice, and every incremental run moved each rated pair's totals from its
-- first new day on. The day rows hold everything the totals were computed from: nothing is lost.
DROP TABLE csat_running;
