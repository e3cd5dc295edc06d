// How a survey ended, in survey_outcome terms, and the one place that writes that row. Every offered
// or declined survey leaves exactly one row; a row that cannot be written is logged, never thrown.
import type { Ivr } from '../config/schema.js';
import type { SurveyOutcomeKind } from '../db/schema.js';
import type { ConsentBy } from '../ivr/context.js';
import type { RunEnd } from '../ivr/runner.js';
import type { Logger } from '../log.js';
import type { OutcomeFollowUps, OutcomeStore } from '../storage/ports.js';
import { ChannelGoneError, ChannelTakenOverError, type CallChannel } from '../telephony/port.js';
import type { CallIdentity } from './identify.js';

/** The survey ran past its IVR's max_duration_ms. */
export class SurveyDeadlineError extends Error {
  constructor(maxDurationMs: number) {
    super(`survey exceeded max_duration_ms (${maxDurationMs} ms)`);
    this.name = 'SurveyDeadlineError';
  }
}

export class ShutdownDeadlineError extends Error {
  constructor() {
    super('shutdown deadline reached');
    this.name = 'ShutdownDeadlineError';
  }
}

const DECLINE_REASONS: { readonly [By in ConsentBy]: string } = {
  key: 'declined_by_key',
  silence: 'no_answer_to_offer',
  invalid_keys: 'no_valid_answer_to_offer',
};

/** What the survey's session knew when it ended. */
export interface SessionFacts {
  /** The headline csat answer is stored (the call's cc_csat row). */
  readonly rated: boolean;
  /** Answers stored, headline included. */
  readonly answered: number;
  readonly skipped: number;
  readonly consent: 'accepted' | 'declined' | undefined;
  readonly consentBy: ConsentBy | undefined;
  /** A question (collect, record or consent) was running when the survey ended. */
  readonly inQuestion: boolean;
}

export function classifyEnd(end: RunEnd, facts: SessionFacts, ivr: Ivr): { outcome: SurveyOutcomeKind; reason?: string } {
  if (facts.consent === 'declined') return { outcome: 'declined', reason: DECLINE_REASONS[facts.consentBy ?? 'key'] };
  // A stored headline rating makes the survey complete, whatever happened after (hangup during
  // thank-you or during a later question: those answers are kept too).
  if (facts.rated) return { outcome: 'completed' };
  const gaveSomething = facts.answered > 0 || facts.skipped > 0;
  switch (end.kind) {
    case 'finished':
      // Every question it reached was answered or skipped (the headline too, with its skip key, or a
      // branch went past it): the caller responded, so the survey is complete.
      if (gaveSomething) return { outcome: 'completed', ...(ivr.headline !== undefined ? { reason: 'headline_not_answered' } : {}) };
      return { outcome: 'failed', reason: `IVR ${ivr.name} ended without collecting ${ivr.headline === undefined ? 'an answer' : 'a rating'}` };
    case 'exhausted':
      // A later question's retries ran out after earlier answers or skips: complete, as far as it went.
      if (gaveSomething) return { outcome: 'completed', ...(ivr.headline !== undefined ? { reason: 'headline_not_answered' } : {}) };
      return { outcome: end.reason };
    case 'failed':
      return { outcome: 'failed', reason: end.reason };
    case 'aborted':
      // Still on the line, but its events go to whoever took the ARI application: not the caller's doing.
      if (end.reason instanceof ChannelTakenOverError) return { outcome: 'failed', reason: 'ari_application_replaced' };
      if (end.reason instanceof ChannelGoneError) {
        // Hung up on during its thank-you after answers (none of them the headline): completed.
        if (gaveSomething && !facts.inQuestion) return { outcome: 'completed', ...(ivr.headline !== undefined ? { reason: 'headline_not_answered' } : {}) };
        return { outcome: 'abandoned', reason: 'caller_hung_up' };
      }
      if (end.reason instanceof ShutdownDeadlineError) return { outcome: 'failed', reason: 'shutdown_deadline' };
      if (end.reason instanceof SurveyDeadlineError) return { outcome: 'failed', reason: end.reason.message };
      return { outcome: 'failed', reason: String(end.reason) };
  }
}

export interface OutcomeRow {
  readonly channel: CallChannel;
  readonly identity: CallIdentity | undefined;
  readonly startedAt: Date;
  readonly outcome: SurveyOutcomeKind;
  readonly reason?: string | undefined;
  readonly ivr?: string;
  readonly attempts?: number;
  readonly lastStep?: string;
  readonly score?: number | undefined;
  readonly consent?: 'accepted' | 'declined' | undefined;
  /** Whether the IVR ran (a live survey ended), for the observer. */
  readonly wasLive: boolean;
  /** Alerts the ending fired and a rating link: stored with the outcome row or not at all. */
  readonly followUps?: OutcomeFollowUps | undefined;
}

export class OutcomeRecorder {
  constructor(
    private readonly deps: {
      readonly outcomes: OutcomeStore;
      readonly log: Logger;
      readonly now: () => Date;
      readonly onRecorded?: ((outcome: SurveyOutcomeKind, wasLive: boolean, reason: string | undefined) => void) | undefined;
    },
  ) {}

  async record(row: OutcomeRow): Promise<void> {
    try {
      await this.deps.outcomes.insert({
        call_id: row.identity?.callId ?? null,
        channel_id: row.channel.id,
        agent_id: row.identity?.agentId ?? null,
        queue_id: row.identity?.queueId ?? null,
        ivr: row.ivr ?? null,
        outcome: row.outcome,
        reason: row.reason ?? null,
        attempts: row.attempts ?? 0,
        last_step: row.lastStep ?? null,
        score: row.score ?? null,
        started_at: row.startedAt.toISOString(),
        ended_at: this.deps.now().toISOString(),
        server: row.channel.server,
        consent: row.consent ?? null,
      }, row.followUps);
    } catch (err) {
      this.deps.log.error({ err, channel_id: row.channel.id, server: row.channel.server, outcome: row.outcome }, 'could not record survey outcome');
    }
    this.deps.onRecorded?.(row.outcome, row.wasLive, row.reason);
  }
}
