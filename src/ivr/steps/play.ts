import type { StepOf } from '../../config/schema.js';
import type { StepContext, StepResult } from '../context.js';
import { playMedia } from '../media.js';

/** Plays media. A failed file is logged and skipped: a missing thank-you must not cost a stored rating. */
export async function runPlay(step: StepOf<'play'>, ctx: StepContext): Promise<StepResult> {
  const outcome = await playMedia(ctx, step.media, { interruptible: step.interruptible });
  if (outcome.kind === 'failed') ctx.log.warn({ media: step.media }, 'playback failed (missing sound file?); continuing');
  return { kind: 'next', next: step.next };
}
