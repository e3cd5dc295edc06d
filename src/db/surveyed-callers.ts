// Repository for survey_caller (resurvey_after_hours): free functions taking `db` first;
// transactions belong to the caller.
import type { Kysely } from 'kysely';
import type { SurveyedCallerRequest } from '../storage/ports.js';
import type { Database } from './schema.js';

/** Rows deleted per write at most: a write never turns into a long purge after a quiet week. */
const PRUNE_BATCH = 100;

/**
 * Records the caller as surveyed at `at` unless their last survey is less than `windowMs` before it:
 * one upsert whose update only happens when the stored survey is old enough, so engines racing for
 * the same number cannot both win (PostgreSQL re-checks the condition on the row it waited for).
 */
export async function markCallerSurveyed(db: Kysely<Database>, request: SurveyedCallerRequest): Promise<boolean> {
  const at = request.at.getTime();
  const oldEnough = new Date(at - request.windowMs).toISOString();
  const row = await db
    .insertInto('survey_caller')
    .values({ caller_hash: request.callerHash, surveyed_at: new Date(at).toISOString(), call_id: request.callId })
    .onConflict((conflict) =>
      conflict
        .column('caller_hash')
        .doUpdateSet((eb) => ({ surveyed_at: eb.ref('excluded.surveyed_at'), call_id: eb.ref('excluded.call_id') }))
        // The same call again (adopted after a restart or a takeover) is the survey it was offered.
        .where((eb) => eb.or([eb('survey_caller.surveyed_at', '<=', oldEnough), eb('survey_caller.call_id', '=', eb.ref('excluded.call_id'))])),
    )
    .returning('caller_hash')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Deletes up to PRUNE_BATCH rows older than `keepMs` before `at` (no queue's window reaches them).
 * `skipLocked` (PostgreSQL): rows another engine is deleting right now are left to it, not waited for.
 */
export async function pruneSurveyedCallers(db: Kysely<Database>, at: Date, keepMs: number, options: { skipLocked: boolean }): Promise<number> {
  const before = new Date(at.getTime() - keepMs).toISOString();
  let expired = db.selectFrom('survey_caller').select('caller_hash').where('surveyed_at', '<', before).limit(PRUNE_BATCH);
  if (options.skipLocked) expired = expired.forUpdate().skipLocked();
  const result = await db.deleteFrom('survey_caller').where('caller_hash', 'in', expired).executeTakeFirst();
  return Number(result.numDeletedRows);
}
