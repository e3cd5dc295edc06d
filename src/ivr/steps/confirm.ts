import type { StepOf } from '../../config/schema.js';
import type { StepContext, StepResult } from '../context.js';
import { playMedia } from '../media.js';

export function confirmMedia(templates: readonly string[], rating: { digit: string; score: number }): string[] {
  return templates.map((uri) => uri.replaceAll('{digit}', rating.digit).replaceAll('{score}', String(rating.score)));
}

/** Reads the caller's key back ("you pressed 4"). Without a stored rating there is nothing to confirm. */
export async function runConfirm(step: StepOf<'confirm'>, ctx: StepContext): Promise<StepResult> {
  if (!ctx.rating) {
    ctx.log.warn('confirm step reached without a collected rating; skipping it');
    return { kind: 'next', next: step.next };
  }
  const outcome = await playMedia(ctx, confirmMedia(step.media, ctx.rating), { interruptible: step.interruptible });
  if (outcome.kind === 'failed') ctx.log.warn({ media: step.media }, 'confirm playback failed; continuing');
  return { kind: 'next', next: step.next };
}
