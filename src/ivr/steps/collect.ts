import type { StepOf } from '../../config/schema.js';
import { ChannelGoneError } from '../../telephony/port.js';
import type { StepContext, StepResult } from '../context.js';
import { playMedia } from '../media.js';

type Failure = 'no_input' | 'invalid';

/**
 * Prompt, then wait `timeout_ms` (counted from the prompt's end) for one key. A key pressed during an
 * interruptible prompt stops it and counts. After an invalid key or silence, the invalid/no-input
 * prompt plays followed by the question again, up to max_retries more times.
 */
export async function runCollect(step: StepOf<'collect'>, ctx: StepContext): Promise<StepResult> {
  let lastFailure: Failure | undefined;
  for (let attempt = 0; attempt <= step.max_retries; attempt++) {
    ctx.countAttempt();
    const preface = lastFailure === 'invalid' ? step.invalid_prompt : lastFailure === 'no_input' ? step.no_input_prompt : undefined;
    const media = [...(preface ?? []), ...step.prompt];
    const played = await playMedia(ctx, media, { interruptible: step.interruptible });
    if (played.kind === 'failed' && ctx.digits.size === 0) {
      // Asterisk fails a playback on a channel it is hanging up (a shutdown asks softly, with no
      // hard request after): the call ended, the prompt was fine.
      if (ctx.channel.hangupRequested) throw new ChannelGoneError(ctx.channel.id, 'hangup requested while the question played');
      // The caller heard no question; waiting for a key would leave them in silence.
      return { kind: 'failed', reason: `prompt failed to play: ${media.join(',')}` };
    }
    const digit = await ctx.digits.next(step.timeout_ms, ctx.signal);
    if (digit === undefined) {
      lastFailure = 'no_input';
      ctx.log.info({ attempt: attempt + 1 }, 'no key pressed before timeout');
      continue;
    }
    const score = step.digits.includes(digit) ? step.scores[digit] : undefined;
    if (score === undefined) {
      lastFailure = 'invalid';
      // Keys pressed right after the wrong one stay buffered: a caller correcting a slip is answered at once.
      ctx.log.info({ attempt: attempt + 1, digit }, 'invalid key');
      continue;
    }
    return { kind: 'answered', answer: { question: step.id, digit, value: score }, next: step.next, onFailure: step.on_failure };
  }
  return { kind: 'exhausted', reason: lastFailure ?? 'no_input', goto: step.on_failure };
}
