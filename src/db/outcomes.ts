import type { Kysely } from 'kysely';
import type { Database, NewSurveyOutcome, SurveyOutcome } from './schema.js';

export async function insertOutcome(db: Kysely<Database>, outcome: NewSurveyOutcome): Promise<void> {
  await db.insertInto('survey_outcome').values(outcome).execute();
}

export async function outcomesForCall(db: Kysely<Database>, callId: string): Promise<SurveyOutcome[]> {
  return db.selectFrom('survey_outcome').selectAll().where('call_id', '=', callId).orderBy('id').execute();
}
