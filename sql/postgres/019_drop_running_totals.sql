-- Running totals are no longer stored on PostgreSQL: a queue's in-memory copy
-- (src/db/postgres/stats-queue-copy.ts) builds them itself from the queue's (agent_queue, day) rows in
-- csat_rollup when it loads, and rankings (a queue's, an agent's standings) are read from the copies.
-- The table held one row per such day row, so every full run wrote every rating's pair-day twice, and
-- every incremental run moved each rated pair's totals from its first new day on. The day rows hold
-- everything the totals were computed from: nothing is lost.
DROP TABLE csat_running;
