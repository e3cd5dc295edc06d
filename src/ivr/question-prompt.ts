// Asking a question (a collect step's, or a consent offer) once: the question, after the
// invalid/no-input prompt when the last try went wrong. Shared so both steps treat a prompt that
// cannot be played the same way.
import { ChannelGoneError } from '../telephony/port.js';
import type { StepContext } from './context.js';
import { playMedia } from './media.js';

export type AskFailure = 'no_input' | 'invalid';

export interface QuestionPrompts {
  readonly prompt: readonly string[];
  readonly invalid_prompt?: readonly string[] | undefined;
  readonly no_input_prompt?: readonly string[] | undefined;
  readonly interruptible: boolean;
}

/** Asked (keys may now be read), or the prompt could not be played and no key was pressed during it. */
export async function askQuestion(ctx: StepContext, prompts: QuestionPrompts, lastFailure: AskFailure | undefined): Promise<{ readonly failed?: string }> {
  const preface = lastFailure === 'invalid' ? prompts.invalid_prompt : lastFailure === 'no_input' ? prompts.no_input_prompt : undefined;
  const media = [...(preface ?? []), ...prompts.prompt];
  const played = await playMedia(ctx, media, { interruptible: prompts.interruptible });
  if (played.kind === 'failed' && ctx.digits.size === 0) {
    // Asterisk fails a playback on a channel it is hanging up (a shutdown asks softly, with no
    // hard request after): the call ended, the prompt was fine.
    if (ctx.channel.hangupRequested) throw new ChannelGoneError(ctx.channel.id, 'hangup requested while the question played');
    // The caller heard no question; waiting for a key would leave them in silence.
    return { failed: `prompt failed to play: ${media.join(',')}` };
  }
  return {};
}
