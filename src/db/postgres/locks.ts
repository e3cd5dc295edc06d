// cc-csat's advisory locks, in the two-key space: pg_advisory_lock(int4, int4) shows in pg_locks as
// classid / objid (objsubid 2), apart from any single-bigint advisory locks another application takes.
//
//   classid 1667462241 = 0x63637361, 'ccsa' in ASCII: every cc-csat lock.
//   objid 1  migrations        session lock, held while one engine applies migrations
//   objid 2  result-service run transaction lock (pg_advisory_xact_lock): one run at a time
//   objid 3  leadership        session lock on the leader's own connection, for as long as it leads
//
// To see who holds them: SELECT pid, objid, granted FROM pg_locks
//   WHERE locktype = 'advisory' AND classid = 1667462241 AND objsubid = 2;

export const CC_CSAT_LOCK_CLASS = 0x63637361;

export const LOCK = {
  migrations: 1,
  resultRun: 2,
  leadership: 3,
} as const;
