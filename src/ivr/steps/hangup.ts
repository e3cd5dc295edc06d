import type { StepOf } from '../../config/schema.js';
import type { StepContext, StepResult } from '../context.js';

export async function runHangup(_step: StepOf<'hangup'>, ctx: StepContext): Promise<StepResult> {
  await ctx.channel.hangup();
  return { kind: 'hangup' };
}
