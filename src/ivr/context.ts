import type { Logger } from '../log.js';
import type { Ivr } from '../config/schema.js';
import type { CallChannel } from '../telephony/port.js';
import type { DigitBuffer } from './digits.js';

/** What a caller answered to one question: the key(s) pressed and the value they stand for. */
export interface CollectedAnswer {
  /** The id of the step that asked. */
  readonly question: string;
  readonly digit: string;
  readonly value: number;
}

/** What every step handler gets. `signal` aborts on hangup, survey deadline or forced shutdown. */
export interface StepContext {
  readonly ivr: Ivr;
  readonly channel: CallChannel;
  readonly signal: AbortSignal;
  readonly digits: DigitBuffer;
  readonly log: Logger;
  /** The answers stored so far, in the order given (confirm reads the last one back). */
  readonly answers: readonly CollectedAnswer[];
  /**
   * Counts a prompt offered in a collect step (the question and each repeat), for the outcome row.
   * Counted as it is offered, not returned with the step's result: a caller who hangs up during the
   * question was asked once.
   */
  countAttempt(): void;
}

/** How the session took an answer: stored, or why not (the caller must then not hear "you pressed"). */
export type RecordedAnswer = { readonly stored: true } | { readonly stored: false; readonly reason: string };

export type StepResult =
  /** Continue at `next` (or the following step when undefined). */
  | { readonly kind: 'next'; readonly next: string | undefined }
  /**
   * The caller answered. The session stores it before the survey moves on (a caller who hangs up
   * during thank-you has rated); if it cannot, the survey fails and goes to `onFailure` if any.
   */
  | { readonly kind: 'answered'; readonly answer: CollectedAnswer; readonly next: string | undefined; readonly onFailure: string | undefined }
  /** Collect ran out of retries; `goto` is its on_failure step, if any. */
  | { readonly kind: 'exhausted'; readonly reason: 'no_input' | 'invalid'; readonly goto: string | undefined }
  /**
   * The survey failed (a prompt failed to play): outcome `failed`. With `goto` (a collect's
   * on_failure) the caller still hears that step, e.g. goodbye.
   */
  | { readonly kind: 'failed'; readonly reason: string; readonly goto?: string | undefined }
  | { readonly kind: 'hangup' };
