// Owns one survey's loop: runs steps in order (or by `next`), hands each answer a step collected to
// the call's session to store before moving on, and says how the run ended. Hangup at any moment
// surfaces as the abort of ctx.signal and is a normal ending, not an error.
import type { Ivr, Step } from '../config/schema.js';
import type { CollectedAnswer, ConsentBy, RecordedAnswer, StepContext, StepResult } from './context.js';
import { AnsweredBeforeAbort } from './answered-before-abort.js';
import { runStep } from './registry.js';

export type RunEnd =
  | { readonly kind: 'finished'; readonly lastStep: string }
  | { readonly kind: 'exhausted'; readonly reason: 'no_input' | 'invalid'; readonly lastStep: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly lastStep: string }
  | { readonly kind: 'aborted'; readonly reason: unknown; readonly lastStep: string };

// A `next` cycle in config is legal (a menu that repeats) but must not spin forever.
const MAX_STEPS_PER_SURVEY = 64;

/** The one place a call's answers go; the runner never stores anything itself. */
export interface RunSession {
  /** Stores the answer (committed before it resolves) and adds it to ctx.answers; never rejects. */
  record(answer: CollectedAnswer): Promise<RecordedAnswer>;
  /** The caller skipped a question with its skip key. */
  skipped?(question: string): void;
  /** The caller's answer to a consent step. */
  consent?(decision: { readonly accepted: boolean; readonly by: ConsentBy }): void;
  /** The step about to run (its id goes into log lines and the outcome row). */
  enterStep?(step: Step): void;
}

export async function runIvr(ivr: Ivr, ctx: StepContext, session: RunSession): Promise<RunEnd> {
  const indexById = new Map(ivr.step.map((step, index) => [step.id, index]));
  const go = (id: string | undefined): number | undefined => (id === undefined ? undefined : indexById.get(id));
  let index: number | undefined = 0;
  let lastStep = ivr.step[0]!.id;
  let exhausted: 'no_input' | 'invalid' | undefined;
  // A failure that still lets the caller hear its on_failure step (goodbye) before the survey ends.
  let failure: string | undefined;
  try {
    for (let executed = 0; index !== undefined && index < ivr.step.length; executed++) {
      if (executed >= MAX_STEPS_PER_SURVEY) {
        return { kind: 'failed', reason: `more than ${MAX_STEPS_PER_SURVEY} steps: a next loop in ${ivr.file}?`, lastStep };
      }
      ctx.signal.throwIfAborted();
      const step: Step = ivr.step[index]!;
      lastStep = step.id;
      session.enterStep?.(step);
      const result: StepResult = await runStep(step, ctx);
      const following: number | undefined = index + 1 < ivr.step.length ? index + 1 : undefined;
      switch (result.kind) {
        case 'next':
          index = result.next === undefined ? following : go(result.next);
          break;
        case 'answered': {
          const recorded = await session.record(result.answer);
          if (recorded.stored) {
            index = result.next === undefined ? following : go(result.next);
          } else {
            if (result.onFailure === undefined) return { kind: 'failed', reason: recorded.reason, lastStep };
            failure = recorded.reason;
            index = go(result.onFailure);
          }
          break;
        }
        case 'skipped':
          session.skipped?.(result.question);
          index = result.next === undefined ? following : go(result.next);
          break;
        case 'consent':
          session.consent?.(result);
          // A declined survey without on_decline simply ends: the caller is hung up, never left waiting.
          index = result.accepted ? (result.next === undefined ? following : go(result.next)) : go(result.next);
          break;
        case 'exhausted':
          exhausted = result.reason;
          // Without on_failure the survey simply ends; the caller is hung up below, never left waiting.
          index = go(result.goto);
          break;
        case 'failed':
          if (result.goto === undefined) return { kind: 'failed', reason: result.reason, lastStep };
          failure = result.reason;
          index = go(result.goto);
          break;
        case 'hangup':
          index = undefined;
          break;
      }
    }
    if (failure !== undefined) return { kind: 'failed', reason: failure, lastStep };
    return exhausted ? { kind: 'exhausted', reason: exhausted, lastStep } : { kind: 'finished', lastStep };
  } catch (err) {
    // A step cut short by the hang-up may still have collected an answer (a comment Asterisk kept).
    if (err instanceof AnsweredBeforeAbort) await session.record(err.answer);
    if (ctx.signal.aborted) return { kind: 'aborted', reason: ctx.signal.reason, lastStep };
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { lastStep });
  }
}
