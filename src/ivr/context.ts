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
  /** Stores the rating (cc_csat) before the survey moves on: a caller who hangs up during thank-you has rated. */
  recordRating(rating: CollectedRating): Promise<void>;
  /** Counts prompts offered in collect steps, for the outcome row. */
  countAttempt(): void;
}

export type StepResult =
  /** Continue at `next` (or the following step when undefined). */
  | { readonly kind: 'next'; readonly next: string | undefined }
  /** Collect ran out of retries; `goto` is its on_failure step, if any. */
  | { readonly kind: 'exhausted'; readonly reason: 'no_input' | 'invalid'; readonly goto: string | undefined }
  /** The survey cannot go on (a prompt failed to play); the caller is let go politely. */
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'hangup' };
