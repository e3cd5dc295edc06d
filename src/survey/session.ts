// One caller's survey while it runs: the answers it collected (each stored the moment it is given,
// before the survey moves on), the prompts offered, the step it is at. The IVR runner hands every
// answer here; nothing else stores one.
import type { CallAlerts } from '../alerts/call-alerts.js';
import type { FiredAlert } from '../alerts/rules.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Step } from '../config/schema.js';
import type { NewAnswer, NewRating, Rating } from '../db/schema.js';
import { asStorageError } from '../db/storage-error.js';
import type { CollectedAnswer, ConsentBy, KeyedAnswer, RecordedAnswer } from '../ivr/context.js';
import type { DigitBuffer } from '../ivr/digits.js';
import type { RunSession } from '../ivr/runner.js';
import type { Logger } from '../log.js';
import type { AnswerStore, RecordAnswerResult } from '../storage/ports.js';
import type { SurveyObserver } from './controller.js';

const RATING_WRITE_ATTEMPTS = 3;
const RATING_RETRY_PAUSE_MS = 100;

export interface SurveySessionOptions {
  readonly identity: { readonly callId: string; readonly agentId: string; readonly queueId: string };
  /** The IVR's name, recorded with every answer. */
  readonly ivr: string;
  readonly answers: AnswerStore;
  /** Keys as they arrive: the time from the key to the commit is measured from its last push. */
  readonly digits: DigitBuffer;
  readonly log: Logger;
  readonly now: () => Date;
  readonly observer?: SurveyObserver | undefined;
  /** The caller's language (an IETF-style code such as "en" or "fr"), recorded with every answer. */
  readonly language?: string | undefined;
  /** Alert rules: what an answer fires goes to the outbox in the answer's own transaction. */
  readonly alerts?: CallAlerts | undefined;
}

export class SurveySession implements RunSession {
  /** Stored answers, in the order given. */
  readonly answers: CollectedAnswer[] = [];
  attempts = 0;
  /** The headline answer: the call's cc_csat row (or the rating found standing); undefined until then. */
  rating: KeyedAnswer | undefined;
  /** Why the stored rating is not this caller's key (the API rated the call first), for the outcome row. */
  storedNote: string | undefined;
  currentStep: string;
  /** The caller's answer to a consent step, if the survey has one and they answered it. */
  consentGiven: 'accepted' | 'declined' | undefined;
  consentBy: ConsentBy | undefined;
  /** Questions the caller skipped with their skip key. */
  skippedQuestions = 0;
  /** The type of the step running now: a hang-up during a question abandons it, one during thank-you does not. */
  currentStepType: Step['type'] | undefined;
  // One child logger per step, made when the step changes: steps log rarely, but often per step.
  private stepLogger: { step: string; log: Logger } | undefined;

  constructor(
    private readonly options: SurveySessionOptions,
    firstStep: string,
  ) {
    this.currentStep = firstStep;
  }

  get stepLog(): Logger {
    if (this.stepLogger?.step !== this.currentStep) this.stepLogger = { step: this.currentStep, log: this.options.log.child({ step: this.currentStep }) };
    return this.stepLogger.log;
  }

  enterStep(step: Step): void {
    this.currentStep = step.id;
    this.currentStepType = step.type;
  }

  skipped(question: string): void {
    this.skippedQuestions++;
    this.options.log.info({ step: this.currentStep, question }, 'question skipped by the caller');
  }

  consent(decision: { readonly accepted: boolean; readonly by: ConsentBy }): void {
    this.consentGiven = decision.accepted ? 'accepted' : 'declined';
    this.consentBy = decision.by;
    this.options.log.info({ step: this.currentStep, consent: this.consentGiven, by: decision.by }, decision.accepted ? 'survey accepted' : 'survey declined');
  }

  countAttempt(): void {
    this.attempts++;
  }

  async record(answer: CollectedAnswer): Promise<RecordedAnswer> {
    const { identity, observer, digits, log, now, ivr } = this.options;
    const answeredAt = now().toISOString();
    const keyed = answer.kind === 'comment' ? undefined : answer;
    // Only the IVR's headline csat question writes the call's cc_csat row, which the API, rollups
    // and statistics read; a survey without one (NPS only) stores answers alone.
    const headline = keyed?.headline === true && this.rating === undefined;
    const row: NewAnswer = {
      call_id: identity.callId,
      question_id: answer.question,
      kind: answer.kind,
      value: keyed ? keyed.value : null,
      digits: keyed ? keyed.digit : null,
      recording: answer.kind === 'comment' ? answer.recording.name : null,
      recording_ms: answer.kind === 'comment' ? answer.recording.durationMs : null,
      recording_format: answer.kind === 'comment' ? answer.recording.format : null,
      recording_server: answer.kind === 'comment' ? (answer.recording.server ?? null) : null,
      language: this.options.language ?? null,
      agent_id: identity.agentId,
      queue_id: identity.queueId,
      ivr,
      answered_at: answeredAt,
    };
    const rating: NewRating | undefined =
      headline && keyed
        ? { call_id: identity.callId, agent_id: identity.agentId, queue_id: identity.queueId, score: keyed.value, comment: null, created_at: answeredAt }
        : undefined;
    const logged = keyed ? { question: answer.question, digit: keyed.digit, value: keyed.value } : { question: answer.question, recording_ms: row.recording_ms };
    // Fired now, against the answers before this one; stored with it or not at all.
    const alerts = this.options.alerts?.fire(answer, this.answers, new Date(answeredAt)) ?? [];
    let result: RecordAnswerResult;
    try {
      result = await this.store(row, rating, alerts);
    } catch (err) {
      const reason = `${headline ? 'rating' : 'answer'} not stored: ${err instanceof Error ? err.message : String(err)}`;
      // With no row, this line is where the caller's answer survives: it carries the digit.
      this.stepLog.error({ ...logged, err: reason }, 'answer could not be stored; the caller hears goodbye');
      return { stored: false, reason };
    }
    this.answers.push(answer);
    if (!result.rating || !keyed) {
      log.info({ step: this.currentStep, ...logged }, 'answer stored');
      return { stored: true };
    }
    this.rating = keyed;
    if (result.rating.inserted) {
      observer?.ratingStored?.(keyed.value, performance.now() - digits.lastPushedAt);
      log.info({ step: this.currentStep, digit: keyed.digit, score: keyed.value }, 'rating stored');
    } else {
      // Another path (the API) rated this call while the caller was listening; the first rating stands.
      this.storedNote = `call already rated with score ${result.rating.existing.score}; kept the first rating`;
      this.stepLog.warn({ digit: keyed.digit, score: keyed.value, kept: result.rating.existing.score }, this.storedNote);
    }
    return { stored: true };
  }

  /**
   * Commits the answer (and its rating) or throws. A lock is already waited out by the gate; a
   * failure that may pass (disk full for a moment, an I/O error) gets a few more tries while the
   * caller waits for "you pressed".
   */
  private async store(answer: NewAnswer, rating: NewRating | undefined, alerts: readonly FiredAlert[]): Promise<RecordAnswerResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.options.answers.record(answer, rating, alerts);
        // A retry after a connection lost with its commit: the row standing is this very rating.
        if (rating && result.rating && !result.rating.inserted && attempt > 1 && sameRating(result.rating.existing, rating)) {
          return { ...result, rating: { inserted: true, rating: result.rating.existing } };
        }
        return result;
      } catch (err) {
        const failure = asStorageError(err);
        // A lock or a statement already waited its whole limit: a caller must not wait it twice.
        if (!failure || failure.failure === 'locked' || failure.failure === 'timeout' || attempt >= RATING_WRITE_ATTEMPTS) throw err;
        await sleep(RATING_RETRY_PAUSE_MS * attempt);
      }
    }
  }
}

function sameRating(stored: Rating, attempted: NewRating): boolean {
  return (
    stored.agent_id === attempted.agent_id &&
    stored.queue_id === attempted.queue_id &&
    stored.score === attempted.score &&
    stored.created_at === attempted.created_at
  );
}
