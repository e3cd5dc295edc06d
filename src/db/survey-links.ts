// Repository for survey_link, the rating links sent to callers who left before rating: free
// functions taking `db` first; transactions belong to the caller (the storages own them).
import type { Kysely } from 'kysely';
import { REDACTED_LINKS_MARK, redactedLinkPayload, SURVEY_LINK } from '../links/link-fallback.js';
import type { LinkedAnswer, LinkRatingResult, NewAlert, SurveyLink } from '../storage/ports.js';
import { insertAlerts } from './alert-outbox.js';
import { insertAnswer } from './answers.js';
import { insertRating } from './ratings.js';
import type { Database, NewSurveyLink } from './schema.js';

/** One link per call: a second ending of the same call (an adopted survey) keeps the first link. */
export async function insertSurveyLink(db: Kysely<Database>, link: NewSurveyLink): Promise<void> {
  await db.insertInto('survey_link').values(link).onConflict((conflict) => conflict.column('call_id').doNothing()).execute();
}

export async function findSurveyLink(db: Kysely<Database>, tokenSha256: string, now: string): Promise<SurveyLink | undefined> {
  const row = await db.selectFrom('survey_link').select(['call_id', 'agent_id', 'queue_id', 'status', 'expires_at']).where('token_sha256', '=', tokenSha256).executeTakeFirst();
  if (!row) return undefined;
  const link = { callId: row.call_id, agentId: row.agent_id, queueId: row.queue_id, expiresAt: row.expires_at };
  if (row.status === 'completed') return { ...link, status: 'completed' };
  if (row.expires_at <= now) return { ...link, status: 'expired' };
  // Rated another way meanwhile (the IVR after all, the API): no form to fill in for nothing.
  if (await callRated(db, row.call_id)) return { ...link, status: 'already_rated' };
  return { ...link, status: row.status };
}

async function callRated(db: Kysely<Database>, callId: string): Promise<boolean> {
  return (await db.selectFrom('cc_csat').select('id').where('call_id', '=', callId).executeTakeFirst()) !== undefined;
}

/** Whether a survey.link delivery is still worth sending: the call is not rated and its link not used. */
export async function linkStillWanted(db: Kysely<Database>, callId: string): Promise<boolean> {
  if (await callRated(db, callId)) return false;
  const link = await db.selectFrom('survey_link').select('status').where('call_id', '=', callId).executeTakeFirst();
  return link !== undefined && link.status !== 'completed';
}

/**
 * Rates by link inside the caller's transaction: the call's cc_csat row and headline answer (source
 * 'link'), and the link completed. Writes nothing unless the result is 'rated' (every other answer
 * is found before the first write, or is the cc_csat insert that did nothing).
 */
export async function rateByLink(
  db: Kysely<Database>,
  tokenSha256: string,
  rating: { readonly score: number; readonly feedback: string | null },
  at: string,
  fire?: (rated: LinkedAnswer) => readonly NewAlert[],
): Promise<LinkRatingResult> {
  const link = await db.selectFrom('survey_link').selectAll().where('token_sha256', '=', tokenSha256).executeTakeFirst();
  if (!link) return { kind: 'unknown' };
  if (link.status === 'completed') return { kind: 'used' };
  if (link.expires_at <= at) return { kind: 'expired' };
  const stored = await insertRating(db, { call_id: link.call_id, agent_id: link.agent_id, queue_id: link.queue_id, score: rating.score, comment: rating.feedback, created_at: at });
  if (!stored.inserted) {
    // The insert waited for another request's commit (PostgreSQL): the same link used at the same
    // moment is "used", a rating from elsewhere "already rated".
    const now = await db.selectFrom('survey_link').select('status').where('id', '=', link.id).executeTakeFirst();
    return now?.status === 'completed' ? { kind: 'used' } : { kind: 'already_rated' };
  }
  await insertAnswer(db, {
    call_id: link.call_id,
    question_id: link.question_id,
    kind: 'csat',
    value: rating.score,
    digits: null,
    recording: null,
    recording_ms: null,
    recording_format: null,
    recording_server: null,
    language: null,
    agent_id: link.agent_id,
    queue_id: link.queue_id,
    ivr: link.ivr,
    answered_at: at,
    source: 'link',
  });
  // The alert rules see a link's answer as they see the IVR's: a low score by link alerts too.
  await insertAlerts(db, fire?.({ callId: link.call_id, agentId: link.agent_id, queueId: link.queue_id, ivr: link.ivr, questionId: link.question_id, score: rating.score }) ?? []);
  // Single use: the cc_csat row above is the call's only one, so a second use of the link (even at
  // the same moment, on PostgreSQL) found it standing and answered "used" before reaching here.
  await db.updateTable('survey_link').set({ status: 'completed', completed_at: at }).where('id', '=', link.id).execute();
  return { kind: 'rated', score: rating.score, callId: link.call_id, agentId: link.agent_id, queueId: link.queue_id };
}

/**
 * After the outbox delivered alert `alertId`: a survey.link delivery marks its link sent and keeps
 * only a redacted payload (the token and the caller number were the receiver's to see).
 */
export async function afterAlertDelivered(db: Kysely<Database>, alertId: number, at: string): Promise<void> {
  const row = await db.selectFrom('alert_outbox').select(['event', 'call_id', 'payload']).where('id', '=', alertId).executeTakeFirst();
  if (!row || row.event !== SURVEY_LINK || row.call_id === null) return;
  await db.updateTable('alert_outbox').set({ payload: redactedLinkPayload(row.payload) }).where('id', '=', alertId).execute();
  await db.updateTable('survey_link').set({ status: 'sent', sent_at: at }).where('call_id', '=', row.call_id).where('status', '=', 'pending').execute();
}

/**
 * Redacts up to `limit` survey.link deliveries that can no longer be of use, pending or dead, whose
 * link expired before `now`: the caller number and the token are kept only while the link can still
 * be sent. Returns how many.
 */
export async function redactExpiredLinkDeliveries(db: Kysely<Database>, now: string, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('alert_outbox')
    .select(['id', 'payload'])
    .where('event', '=', SURVEY_LINK)
    .where('status', '!=', 'delivered')
    .where('payload', 'not like', `%${REDACTED_LINKS_MARK}%`)
    .where('call_id', 'in', (eb) => eb.selectFrom('survey_link').select('call_id').where('expires_at', '<=', now))
    .orderBy('id')
    .limit(limit)
    .execute();
  for (const row of rows) await db.updateTable('alert_outbox').set({ payload: redactedLinkPayload(row.payload) }).where('id', '=', row.id).execute();
  return rows.length;
}
