// One caller's survey while it runs: the answers it collected (each stored the moment it is given,
// before the survey moves on), the prompts offered, the step it is at. The IVR runner hands every
// answer here; nothing else stores one.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Step } from '../config/schema.js';
import type { NewAnswer, NewRating, Rating } from '../db/schema.js';
import { asStorageError } from '../db/storage-error.js';
import type { CollectedAnswer, RecordedAnswer } from '../ivr/context.js';
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
}

export class SurveySession implements RunSession {
  /** Stored answers, in the order given. */
  readonly answers: CollectedAnswer[] = [];
  attempts = 0;
  /** The headline answer: the call's cc_csat row (or the rating found standing); undefined until then. */
  rating: CollectedAnswer | undefined;
  /** Why the stored rating is not this caller's key (the API rated the call first), for the outcome row. */
  storedNote: string | undefined;
  currentStep: string;
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
  }

  countAttempt(): void {
    this.attempts++;
  }

  async record(answer: CollectedAnswer): Promise<RecordedAnswer> {
    const { identity, observer, digits, log, now, ivr } = this.options;
    const answeredAt = now().toISOString();
    // The survey's first csat answer is its headline: the call's cc_csat row, which the API,
    // rollups and statistics read.
    const headline = this.rating === undefined;
    const row: NewAnswer = {
      call_id: identity.callId,
      question_id: answer.question,
      kind: 'csat',
      value: answer.value,
      digits: answer.digit,
      recording: null,
      recording_ms: null,
      recording_format: null,
      language: null,
      agent_id: identity.agentId,
      queue_id: identity.queueId,
      ivr,
      answered_at: answeredAt,
    };
    const rating: NewRating | undefined = headline
      ? { call_id: identity.callId, agent_id: identity.agentId, queue_id: identity.queueId, score: answer.value, comment: null, created_at: answeredAt }
      : undefined;
    let result: RecordAnswerResult;
    try {
      result = await this.store(row, rating);
    } catch (err) {
      const reason = `${headline ? 'rating' : 'answer'} not stored: ${err instanceof Error ? err.message : String(err)}`;
      // With no row, this line is where the caller's answer survives: it carries the digit.
      this.stepLog.error({ digit: answer.digit, score: answer.value, err: reason }, 'answer could not be stored; the caller hears goodbye');
      return { stored: false, reason };
    }
    this.answers.push(answer);
    if (!result.rating) {
      log.info({ step: this.currentStep, digit: answer.digit, value: answer.value }, 'answer stored');
      return { stored: true };
    }
    this.rating = answer;
    if (result.rating.inserted) {
      observer?.ratingStored?.(answer.value, performance.now() - digits.lastPushedAt);
      log.info({ step: this.currentStep, digit: answer.digit, score: answer.value }, 'rating stored');
    } else {
      // Another path (the API) rated this call while the caller was listening; the first rating stands.
      this.storedNote = `call already rated with score ${result.rating.existing.score}; kept the first rating`;
      this.stepLog.warn({ digit: answer.digit, score: answer.value, kept: result.rating.existing.score }, this.storedNote);
    }
    return { stored: true };
  }

  /**
   * Commits the answer (and its rating) or throws. A lock is already waited out by the gate; a
   * failure that may pass (disk full for a moment, an I/O error) gets a few more tries while the
   * caller waits for "you pressed".
   */
  private async store(answer: NewAnswer, rating: NewRating | undefined): Promise<RecordAnswerResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.options.answers.record(answer, rating);
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
