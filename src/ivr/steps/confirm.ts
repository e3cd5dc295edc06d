import type { StepOf } from '../../config/schema.js';
import type { KeyedAnswer, StepContext, StepResult } from '../context.js';
import { playMedia } from '../media.js';

export function confirmMedia(templates: readonly string[], answer: { digit: string; value: number }): string[] {
  return templates.map((uri) => uri.replaceAll('{digit}', answer.digit).replaceAll('{score}', String(answer.value)));
}

/** Reads the caller's last stored answer back ("you pressed 4"). Without one there is nothing to confirm. */
export async function runConfirm(step: StepOf<'confirm'>, ctx: StepContext): Promise<StepResult> {
  const answer = ctx.answers.findLast((given): given is KeyedAnswer => given.kind !== 'comment');
  if (!answer) {
    ctx.log.warn('confirm step reached without a stored answer; skipping it');
    return { kind: 'next', next: step.next };
  }
  const outcome = await playMedia(ctx, confirmMedia(step.media, answer), { interruptible: step.interruptible });
  if (outcome.kind === 'failed') ctx.log.warn({ media: step.media }, 'confirm playback failed; continuing');
  return { kind: 'next', next: step.next };
}
