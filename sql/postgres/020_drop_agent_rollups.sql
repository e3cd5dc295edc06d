-- Agent rows (scope 'agent': an agent's days, weeks and months over all its queues) are no longer
-- stored on PostgreSQL: an agent's buckets are summed, when read, from its (agent_queue, day) rows
-- (src/db/postgres/agent-buckets-sql.ts), a few queues' days per agent. They were 600 of the ~1,030
-- rows an incremental run after 1,000 ratings upserted (200 agents, each rated in two of 10 queues),
-- and 86,000 of the 237,000 rows a full run wrote or compared at 1M ratings. The (agent_queue, day)
-- rows hold everything they were summed from: nothing is lost.
-- Locked first: an engine of an older release may still be running result runs on this database;
-- one that added an agent row between the DELETE and the new CHECK would fail this migration (and
-- taking the lock only at the ALTER could deadlock with such a run). Its next run fails the CHECK.
LOCK TABLE csat_rollup IN ACCESS EXCLUSIVE MODE;
DELETE FROM csat_rollup WHERE scope = 'agent';
ALTER TABLE csat_rollup DROP CONSTRAINT csat_rollup_scope_check;
ALTER TABLE csat_rollup ADD CONSTRAINT csat_rollup_scope_check CHECK (scope IN ('queue', 'agent_queue'));
