// One caller's survey while it runs: the answers it collected (each stored the moment it is given,
// before the survey moves on), the prompts offered, the step it is at. The IVR runner hands every
// answer here; nothing else stores one.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Step } from '../config/schema.js';
import type { NewRating, Rating } from '../db/schema.js';
import { asStorageError } from '../db/storage-error.js';
import type { CollectedAnswer, RecordedAnswer } from '../ivr/context.js';
import type { DigitBuffer } from '../ivr/digits.js';
import type { RunSession } from '../ivr/runner.js';
import type { Logger } from '../log.js';
import type { InsertRatingResult, RatingStore } from '../storage/ports.js';
import type { SurveyObserver } from './controller.js';

const RATING_WRITE_ATTEMPTS = 3;
const RATING_RETRY_PAUSE_MS = 100;

export interface SurveySessionOptions {
  readonly identity: { readonly callId: string; readonly agentId: string; readonly queueId: string };
  readonly ratings: RatingStore;
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
  /** The rating (cc_csat) this survey stored or found standing; undefined until then. */
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

  countAttempts(attempts: number): void {
    this.attempts += attempts;
  }

  async record(answer: CollectedAnswer): Promise<RecordedAnswer> {
    const { identity, observer, digits, log, now } = this.options;
    let result: InsertRatingResult;
    try {
      result = await this.storeRating({
        call_id: identity.callId,
        agent_id: identity.agentId,
        queue_id: identity.queueId,
        score: answer.value,
        comment: null,
        created_at: now().toISOString(),
      });
    } catch (err) {
      const reason = `rating not stored: ${err instanceof Error ? err.message : String(err)}`;
      // With no row, this line is where the caller's answer survives: it carries the digit.
      this.stepLog.error({ digit: answer.digit, score: answer.value, err: reason }, 'rating could not be stored; the caller hears goodbye');
      return { stored: false, reason };
    }
    this.rating = answer;
    this.answers.push(answer);
    if (result.inserted) {
      observer?.ratingStored?.(answer.value, performance.now() - digits.lastPushedAt);
      log.info({ step: this.currentStep, digit: answer.digit, score: answer.value }, 'rating stored');
    } else {
      // Another path (the API) rated this call while the caller was listening; the first rating stands.
      this.storedNote = `call already rated with score ${result.existing.score}; kept the first rating`;
      this.stepLog.warn({ digit: answer.digit, score: answer.value, kept: result.existing.score }, this.storedNote);
    }
    return { stored: true };
  }

  /**
   * Commits the rating or throws. A lock is already waited out by the gate; a failure that may pass
   * (disk full for a moment, an I/O error) gets a few more tries while the caller waits for "you pressed".
   */
  private async storeRating(rating: NewRating): Promise<InsertRatingResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.options.ratings.insert(rating, 'IVR rating');
        // A retry after a connection lost with its commit: the row standing is this very rating.
        if (!result.inserted && attempt > 1 && sameRating(result.existing, rating)) return { inserted: true, rating: result.existing };
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
