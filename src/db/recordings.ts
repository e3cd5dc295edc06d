// Repository for the recordings of spoken comments (survey_answer rows of kind comment): free
// functions taking `db` first; the retention sweep reads the expired ones and marks each deleted.
import type { Kysely } from 'kysely';
import type { RecordingPosition, StoredRecording } from '../storage/ports.js';
import type { Database } from './schema.js';

/** Recordings still kept that were made before `beforeIso`, oldest first, at most `limit`, after `after` (a page's last). */
export async function expiredRecordings(db: Kysely<Database>, beforeIso: string, limit: number, after?: RecordingPosition): Promise<StoredRecording[]> {
  let query = db.selectFrom('survey_answer');
  if (after) query = query.where((eb) => eb.or([eb('answered_at', '>', after.answeredAt), eb.and([eb('answered_at', '=', after.answeredAt), eb('id', '>', after.id)])]));
  const rows = await query
    .select(['id', 'call_id', 'question_id', 'recording', 'recording_server', 'answered_at'])
    .where('recording', 'is not', null)
    .where('recording_deleted_at', 'is', null)
    .where('answered_at', '<', beforeIso)
    .orderBy('answered_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ id: row.id, callId: row.call_id, questionId: row.question_id, name: row.recording!, server: row.recording_server, answeredAt: row.answered_at }));
}

/** Marks a recording deleted from Asterisk; the answer row and its name stay. */
export async function markRecordingDeleted(db: Kysely<Database>, id: number, atIso: string): Promise<void> {
  await db.updateTable('survey_answer').set({ recording_deleted_at: atIso }).where('id', '=', id).where('recording_deleted_at', 'is', null).execute();
}
