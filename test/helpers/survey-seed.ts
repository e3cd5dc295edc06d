// Rated calls with answers, spoken comments and outcomes, written straight into the tables (either
// database) for the drilldown and export suites. Deterministic: the tests select from the same rows
// with plain array filters, independently of the SQL under test.
import type { Kysely } from 'kysely';
import type { Database, NewAnswer, NewSurveyOutcome, SurveyOutcomeKind } from '../../src/db/schema.js';

export interface SeededAnswer {
  readonly question_id: string;
  readonly kind: 'csat' | 'nps' | 'comment';
  readonly value: number | null;
  readonly recording: string | null;
  readonly deleted: boolean;
}

export interface SeededCall {
  readonly call_id: string;
  readonly agent_id: string;
  readonly queue_id: string;
  readonly score: number;
  readonly comment: string | null;
  readonly created_at: string;
  readonly answers: readonly SeededAnswer[];
  readonly outcomes: readonly SurveyOutcomeKind[];
}

export interface SeedShape {
  readonly count: number;
  readonly agents: readonly string[];
  readonly queues: readonly string[];
  /** The first call's created_at; each next one a few hours later. */
  readonly startMs: number;
  readonly stepMs: number;
  readonly prefix: string;
  readonly comment?: (i: number) => string | null;
}

/** Call i: agent i mod agents, queue (i / 2) mod queues; an nps answer on even calls; a spoken comment on every 7th. */
export function surveyCalls(shape: SeedShape): SeededCall[] {
  return Array.from({ length: shape.count }, (_, i) => {
    const score = 1 + ((i * 7) % 5);
    const answers: SeededAnswer[] = [{ question_id: 'ask', kind: 'csat', value: score, recording: null, deleted: false }];
    if (i % 2 === 0) answers.push({ question_id: 'nps', kind: 'nps', value: (i * 3) % 11, recording: null, deleted: false });
    if (i % 7 === 0) answers.push({ question_id: 'voice', kind: 'comment', value: null, recording: `rec-${shape.prefix}-${i}`, deleted: i % 14 === 0 });
    if (i === 21) answers.push({ question_id: 'voice2', kind: 'comment', value: null, recording: `rec-${shape.prefix}-${i}-b`, deleted: false });
    const outcomes: SurveyOutcomeKind[] = i % 8 === 3 ? ['failed'] : [];
    outcomes.push(i % 6 === 5 ? 'abandoned' : 'completed');
    return {
      call_id: `${shape.prefix}-${i}`,
      agent_id: shape.agents[i % shape.agents.length]!,
      queue_id: shape.queues[Math.floor(i / 2) % shape.queues.length]!,
      score,
      comment: shape.comment ? shape.comment(i) : i % 5 === 0 ? `typed comment ${i}` : i % 5 === 1 ? '' : null,
      // Minutes apart too, so that no two calls share an instant.
      created_at: new Date(shape.startMs + i * shape.stepMs + (i % 3) * 60_000).toISOString(),
      answers,
      outcomes,
    };
  });
}

/** Writes the calls (cc_csat in list order, so ids grow with i), their answers and outcomes. */
export async function seedSurveyCalls(db: Kysely<Database>, calls: readonly SeededCall[]): Promise<void> {
  for (let i = 0; i < calls.length; i += 500) {
    const batch = calls.slice(i, i + 500);
    await db
      .insertInto('cc_csat')
      .values(batch.map(({ call_id, agent_id, queue_id, score, comment, created_at }) => ({ call_id, agent_id, queue_id, score, comment, created_at })))
      .execute();
    const answers: NewAnswer[] = batch.flatMap((call) =>
      call.answers.map((answer) => ({
        call_id: call.call_id,
        question_id: answer.question_id,
        kind: answer.kind,
        value: answer.value,
        digits: answer.value === null ? null : String(answer.value),
        recording: answer.recording,
        recording_ms: answer.recording === null ? null : 4200,
        recording_format: answer.recording === null ? null : 'wav',
        recording_server: null,
        recording_deleted_at: answer.deleted ? call.created_at : null,
        language: 'en',
        agent_id: call.agent_id,
        queue_id: call.queue_id,
        ivr: 'survey',
        answered_at: call.created_at,
      })),
    );
    for (let j = 0; j < answers.length; j += 500) await db.insertInto('survey_answer').values(answers.slice(j, j + 500)).execute();
    const outcomes: NewSurveyOutcome[] = batch.flatMap((call) =>
      call.outcomes.map((outcome) => ({
        call_id: call.call_id,
        channel_id: `chan-${call.call_id}-${outcome}`,
        agent_id: call.agent_id,
        queue_id: call.queue_id,
        ivr: 'survey',
        outcome,
        reason: null,
        attempts: 1,
        last_step: null,
        score: outcome === 'completed' ? call.score : null,
        started_at: call.created_at,
        ended_at: call.created_at,
        server: null,
        consent: null,
      })),
    );
    for (let j = 0; j < outcomes.length; j += 500) await db.insertInto('survey_outcome').values(outcomes.slice(j, j + 500)).execute();
  }
}
