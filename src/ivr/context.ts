import type { Logger } from '../log.js';
import type { Ivr } from '../config/schema.js';
import type { CallChannel, PlayOptions } from '../telephony/port.js';
import type { DigitBuffer } from './digits.js';

/** The kinds of keyed question (each with its own range; see src/config/questions.ts). */
export type QuestionKind = 'csat' | 'nps' | 'ces' | 'yes_no' | 'scale';

/** What a caller answered to one question: the key(s) pressed and the value they stand for. */
export interface KeyedAnswer {
  /** The id of the step that asked (the question's stable id in storage and API). */
  readonly question: string;
  readonly kind: QuestionKind;
  /** The keys as pressed, without a terminating "#" ("10" for an NPS ten). */
  readonly digit: string;
  readonly value: number;
  /** The survey's headline csat question: its answer is also the call's cc_csat row. */
  readonly headline: boolean;
}

/** A spoken comment: Asterisk's stored recording, what the caller said before hanging up included. */
export interface RecordedComment {
  readonly question: string;
  readonly kind: 'comment';
  readonly recording: {
    readonly name: string;
    readonly durationMs: number;
    readonly format: string;
    /** The telephony server holding it ([[ari]] name; null under `cc-csat simulate`). */
    readonly server?: string | null | undefined;
  };
}

export type CollectedAnswer = KeyedAnswer | RecordedComment;

/** How a caller answered a consent step: its accept or decline key, silence, or only other keys. */
export type ConsentBy = 'key' | 'silence' | 'invalid_keys';

/** What every step handler gets. `signal` aborts on hangup, survey deadline or forced shutdown. */
export interface StepContext {
  readonly ivr: Ivr;
  readonly channel: CallChannel;
  readonly signal: AbortSignal;
  readonly digits: DigitBuffer;
  readonly log: Logger;
  /**
   * The caller's language and the queue's default, for every prompt (src/ivr/media.ts). Absent: no
   * language is asked for, Asterisk plays in the channel's own.
   */
  readonly language?: PlayOptions | undefined;
  /** The answers stored so far, in the order given (confirm reads the last keyed one back). */
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
  /**
   * The caller accepted or declined the survey (`by` a key, or by silence as on_silence says); the
   * session records it, the survey goes on at `next` (on a decline: on_decline, or the end).
   */
  | { readonly kind: 'consent'; readonly accepted: boolean; readonly by: ConsentBy; readonly next: string | undefined }
  /** The caller pressed the question's skip key: nothing is stored, the survey goes on at `next`. */
  | { readonly kind: 'skipped'; readonly question: string; readonly next: string | undefined }
  /** Collect ran out of retries; `goto` is its on_failure step, if any. */
  | { readonly kind: 'exhausted'; readonly reason: 'no_input' | 'invalid'; readonly goto: string | undefined }
  /**
   * The survey failed (a prompt failed to play): outcome `failed`. With `goto` (a collect's
   * on_failure) the caller still hears that step, e.g. goodbye.
   */
  | { readonly kind: 'failed'; readonly reason: string; readonly goto?: string | undefined }
  | { readonly kind: 'hangup' };
