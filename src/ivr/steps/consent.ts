import type { StepOf } from '../../config/schema.js';
import { ChannelGoneError } from '../../telephony/port.js';
import type { StepContext, StepResult } from '../context.js';
import { playMedia } from '../media.js';

/**
 * "Stay on the line for a short survey: press 1 to start." The accept key starts the survey, the
 * decline key ends it; any other key is asked again (max_retries), and silence means what
 * on_silence says once the repeats are spent. A caller who hangs up here abandoned an offered survey.
 */
export async function runConsent(step: StepOf<'consent'>, ctx: StepContext): Promise<StepResult> {
  let lastFailure: 'no_input' | 'invalid' | undefined;
  for (let attempt = 0; attempt <= step.max_retries; attempt++) {
    const preface = lastFailure === 'invalid' ? step.invalid_prompt : lastFailure === 'no_input' ? step.no_input_prompt : undefined;
    const media = [...(preface ?? []), ...step.prompt];
    const played = await playMedia(ctx, media, { interruptible: step.interruptible });
    if (played.kind === 'failed' && ctx.digits.size === 0) {
      if (ctx.channel.hangupRequested) throw new ChannelGoneError(ctx.channel.id, 'hangup requested while the consent prompt played');
      return { kind: 'failed', reason: `prompt failed to play: ${media.join(',')}` };
    }
    const key = await ctx.digits.next(step.timeout_ms, ctx.signal);
    if (key === step.accept_key) return { kind: 'consent', accepted: true, by: 'key', next: step.next };
    if (key !== undefined && key === step.decline_key) return { kind: 'consent', accepted: false, by: 'key', next: step.on_decline };
    lastFailure = key === undefined ? 'no_input' : 'invalid';
    ctx.log.info({ attempt: attempt + 1, digit: key }, key === undefined ? 'no answer to the survey offer' : 'neither accept nor decline key');
  }
  const accepted = step.on_silence === 'accept';
  return { kind: 'consent', accepted, by: 'silence', next: accepted ? step.next : step.on_decline };
}
