// Repository for survey_answer: free functions taking `db` first; transactions belong to the caller.
import type { Kysely } from 'kysely';
import type { RecordAnswerResult } from '../storage/ports.js';
import { insertRating } from './ratings.js';
import type { Answer, Database, NewAnswer, NewRating } from './schema.js';

/** One answer per question of a call: a second insert for the same question never overwrites the first. */
export async function insertAnswer(db: Kysely<Database>, answer: NewAnswer): Promise<boolean> {
  const { id: _id, ...values } = answer;
  const inserted = await db
    .insertInto('survey_answer')
    .values(values)
    .onConflict((conflict) => conflict.columns(['call_id', 'question_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * The answer, and with `rating` (the survey's headline csat question) the call's cc_csat row. Run it
 * inside one transaction: either both are committed or neither.
 */
export async function insertAnswerAndRating(db: Kysely<Database>, answer: NewAnswer, rating: NewRating | undefined): Promise<RecordAnswerResult> {
  const ratingResult = rating ? await insertRating(db, rating) : undefined;
  const answerInserted = await insertAnswer(db, answer);
  return { answerInserted, ...(ratingResult ? { rating: ratingResult } : {}) };
}

/** Every answer of these calls, by call, in the order they were given. */
export async function answersForCalls(db: Kysely<Database>, callIds: readonly string[]): Promise<Answer[]> {
  if (callIds.length === 0) return [];
  return db.selectFrom('survey_answer').selectAll().where('call_id', 'in', callIds).orderBy('call_id').orderBy('id').execute();
}
