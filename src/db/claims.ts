// Repository for survey_claim (PostgreSQL: engines sharing a database): free functions taking `db` first.
import { sql, type Kysely } from 'kysely';
import type { ClaimResult, SurveyClaimRequest } from '../storage/ports.js';
import type { Database } from './schema.js';

// The database's clock: engines on several hosts compare leases they did not write themselves.
function leaseFromNow(leaseMs: number) {
  return sql<string>`now() + ${Math.max(0, Math.round(leaseMs))} * interval '1 millisecond'`;
}

/**
 * Takes the call for this engine and channel, unless a live lease of another engine or another
 * channel holds it. One statement, so two engines racing for a call cannot both win.
 */
export async function claimCall(db: Kysely<Database>, request: SurveyClaimRequest): Promise<ClaimResult> {
  const row = await db
    .insertInto('survey_claim')
    .values({
      call_id: request.callId,
      channel_id: request.channelId,
      engine_id: request.engineId,
      claimed_at: sql`now()`,
      lease_until: leaseFromNow(request.leaseMs),
    })
    .onConflict((conflict) =>
      conflict.column('call_id').doUpdateSet((eb) => ({
        channel_id: eb.ref('excluded.channel_id'),
        engine_id: eb.ref('excluded.engine_id'),
        claimed_at: eb.ref('excluded.claimed_at'),
        lease_until: eb.ref('excluded.lease_until'),
      })).where((eb) =>
        eb.or([
          // This engine again, for the same channel (a resync re-announcing a survey it runs).
          eb.and([eb('survey_claim.engine_id', '=', eb.ref('excluded.engine_id')), eb('survey_claim.channel_id', '=', eb.ref('excluded.channel_id'))]),
          // The owner stopped renewing: it died, or lost its database.
          eb('survey_claim.lease_until', '<', eb.ref('excluded.claimed_at')),
        ]),
      ),
    )
    .returning('engine_id')
    .executeTakeFirst();
  if (row) return { granted: true };
  const holder = await db.selectFrom('survey_claim').select(['engine_id', 'channel_id']).where('call_id', '=', request.callId).executeTakeFirst();
  // Released between the two statements: the call is free, ask again.
  if (!holder) return claimCall(db, request);
  return { granted: false, holder: { engineId: holder.engine_id, channelId: holder.channel_id } };
}

/**
 * Extends this engine's leases on the calls it still surveys; claims a crash left behind (callers
 * who hung up before a restart) are not renewed, so they run out.
 */
export async function renewClaims(db: Kysely<Database>, engineId: string, callIds: readonly string[], leaseMs: number): Promise<number> {
  if (callIds.length === 0) return 0;
  const result = await db
    .updateTable('survey_claim')
    .set({ lease_until: leaseFromNow(leaseMs) })
    .where('engine_id', '=', engineId)
    .where('call_id', 'in', callIds)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function releaseClaim(db: Kysely<Database>, callId: string, engineId: string): Promise<void> {
  await db.deleteFrom('survey_claim').where('call_id', '=', callId).where('engine_id', '=', engineId).execute();
}
