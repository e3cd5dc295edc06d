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
] as const;
type OutcomeValues = Omit<NewSurveyOutcome, 'id'>;

// Every survey ends with this one: compiled once (see precompiled.ts).
const insertOutcomeQuery = new Precompiled<OutcomeValues, never>(
  (db, o) =>
    db.insertInto('survey_outcome').values({
      call_id: o.call_id,
      channel_id: o.channel_id,
      agent_id: o.agent_id,
      queue_id: o.queue_id,
      ivr: o.ivr,
      outcome: o.outcome,
      reason: o.reason,
      attempts: o.attempts,
      last_step: o.last_step,
      score: o.score,
      started_at: o.started_at,
      ended_at: o.ended_at,
    }),
  OUTCOME_COLUMNS,
);

export async function insertOutcome(db: Kysely<Database>, outcome: NewSurveyOutcome): Promise<void> {
  const { id: _id, ...values } = outcome;
  await insertOutcomeQuery.execute(db, values);
}

export async function outcomesForCall(db: Kysely<Database>, callId: string): Promise<SurveyOutcome[]> {
  return db.selectFrom('survey_outcome').selectAll().where('call_id', '=', callId).orderBy('id').execute();
}
