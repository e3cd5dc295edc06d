import type { Logger } from '../log.js';
import type { Ivr } from '../config/schema.js';
import type { CallChannel } from '../telephony/port.js';
import type { DigitBuffer } from './digits.js';

export interface CollectedRating {
  readonly digit: string;
  readonly score: number;
}

/** What every step handler gets. `signal` aborts on hangup, survey deadline or forced shutdown. */
export interface StepContext {
  readonly ivr: Ivr;
  readonly channel: CallChannel;
  readonly signal: AbortSignal;
  readonly digits: DigitBuffer;
  readonly log: Logger;
  /** Set once the caller's key is stored; confirm reads it back. */
  readonly rating: CollectedRating | undefined;
  /**
   * Stores the rating (cc_csat) before the survey moves on: a caller who hangs up during thank-you
   * has rated. `stored: false` when the database could not take it (the caller must not hear "you pressed").
   */
  recordRating(rating: CollectedRating): Promise<RecordedRating>;
  /** Counts prompts offered in collect steps, for the outcome row. */
  countAttempt(): void;
}

export type RecordedRating = { readonly stored: true } | { readonly stored: false; readonly reason: string };

export type StepResult =
  /** Continue at `next` (or the following step when undefined). */
  | { readonly kind: 'next'; readonly next: string | undefined }
  /** Collect ran out of retries; `goto` is its on_failure step, if any. */
  | { readonly kind: 'exhausted'; readonly reason: 'no_input' | 'invalid'; readonly goto: string | undefined }
  /**
   * The survey failed (a prompt failed to play, a rating could not be stored): outcome `failed`.
   * With `goto` (a collect's on_failure) the caller still hears that step, e.g. goodbye.
   */
  | { readonly kind: 'failed'; readonly reason: string; readonly goto?: string | undefined }
  | { readonly kind: 'hangup' };
