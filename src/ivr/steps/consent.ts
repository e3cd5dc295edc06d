import type { StepOf } from '../../config/schema.js';
import type { StepContext, StepResult } from '../context.js';
import { askQuestion, type AskFailure } from '../question-prompt.js';

const ACCEPT_KEY_REPEAT_MS = 1_000;

/**
 * "Stay on the line for a short survey: press 1 to start." The accept key starts the survey, the
 * decline key ends it; any other key is asked again (max_retries), and silence means what
 * on_silence says once the repeats are spent. A caller who hangs up here abandoned an offered survey.
 */
export async function runConsent(step: StepOf<'consent'>, ctx: StepContext): Promise<StepResult> {
  let lastFailure: AskFailure | undefined;
  for (let attempt = 0; attempt <= step.max_retries; attempt++) {
    const asked = await askQuestion(ctx, step, lastFailure);
    if (asked.failed !== undefined) return { kind: 'failed', reason: asked.failed };
    const key = await ctx.digits.next(step.timeout_ms, ctx.signal);
    if (key === step.accept_key) {
      // "1" starts the survey and often means "very satisfied" too: a second press (impatience, a
      // bouncing key) must not answer a question the caller has not heard. Keys already pressed are
      // dropped, and so is the accept key again within a second.
      ctx.digits.clear();
      ctx.digits.ignoreSoon(step.accept_key, ACCEPT_KEY_REPEAT_MS);
      return { kind: 'consent', accepted: true, by: 'key', next: step.next };
    }
    if (key !== undefined && key === step.decline_key) return { kind: 'consent', accepted: false, by: 'key', next: step.on_decline };
    lastFailure = key === undefined ? 'no_input' : 'invalid';
    ctx.log.info({ attempt: attempt + 1, digit: key }, key === undefined ? 'no answer to the survey offer' : 'neither accept nor decline key');
  }
  // Keys that were neither accept nor decline are not silence: a caller pressing 9 to refuse is not
  // taken into the survey because silence would mean yes.
  if (lastFailure === 'invalid') return { kind: 'consent', accepted: false, by: 'invalid_keys', next: step.on_decline };
  const accepted = step.on_silence === 'accept';
  return { kind: 'consent', accepted, by: 'silence', next: accepted ? step.next : step.on_decline };
}
