import type { Kysely } from 'kysely';
import { Precompiled } from './precompiled.js';
import type { Database, NewSurveyOutcome, SurveyOutcome } from './schema.js';

const OUTCOME_COLUMNS = [
  'call_id',
  'channel_id',
  'agent_id',
  'queue_id',
  'ivr',
  'outcome',
  'reason',
  'attempts',
  'last_step',
  'score',
  'started_at',
  'ended_at',
  'server',
  'consent',
] as const;
type OutcomeValues = Omit<NewSurveyOutcome, 'id'>;

// Every survey ends with this one: compiled once (see precompiled.ts).
const insertOutcomeQuery = new Precompiled<OutcomeValues, never>(
  (db, outcome) => db.insertInto('survey_outcome').values(outcome),
  OUTCOME_COLUMNS,
);

export async function insertOutcome(db: Kysely<Database>, outcome: NewSurveyOutcome): Promise<void> {
  const { id: _id, ...values } = outcome;
  await insertOutcomeQuery.execute(db, values);
}

export async function outcomesForCall(db: Kysely<Database>, callId: string): Promise<SurveyOutcome[]> {
  return db.selectFrom('survey_outcome').selectAll().where('call_id', '=', callId).orderBy('id').execute();
}
