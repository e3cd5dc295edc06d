import { randomBytes } from 'node:crypto';
import type { StepOf } from '../../config/schema.js';
import { ChannelGoneError, type Recording, type RecordingEnd } from '../../telephony/port.js';
import { AnsweredBeforeAbort } from '../answered-before-abort.js';
import type { RecordedComment, StepContext, StepResult } from '../context.js';
import { playMedia } from '../media.js';

/**
 * A spoken comment: the prompt, then Asterisk records (beep first) until the terminate key, silence,
 * max_seconds or the caller hanging up. Whatever Asterisk kept is the answer, a hang-up included:
 * the abort is caught for this recording only, and the answer travels with the rethrown abort
 * (AnsweredBeforeAbort) so that the runner stores it. A comment shorter than min_seconds is deleted
 * from Asterisk and the question counts as skipped.
 */
export async function runRecord(step: StepOf<'record'>, ctx: StepContext): Promise<StepResult> {
  if (step.prompt) {
    const played = await playMedia(ctx, step.prompt, { interruptible: false });
    if (played.kind === 'failed') {
      if (ctx.channel.hangupRequested) throw new ChannelGoneError(ctx.channel.id, 'hangup requested while the comment prompt played');
      // The caller was never asked: a recording now would be of silence.
      return { kind: 'failed', reason: `prompt failed to play: ${step.prompt.join(',')}`, goto: step.on_failure };
    }
  }
  ctx.signal.throwIfAborted();
  const name = recordingName(ctx.channel.id, step.id);
  let recording: Recording;
  try {
    if (!ctx.channel.record) throw new Error('this channel cannot record');
    recording = await ctx.channel.record({
      name,
      format: step.format,
      maxSeconds: step.max_seconds,
      maxSilenceSeconds: step.silence_seconds,
      beep: step.beep,
      terminateOn: step.terminate_key,
    });
  } catch (err) {
    if (err instanceof ChannelGoneError || ctx.signal.aborted) throw err;
    const reason = `recording could not start: ${err instanceof Error ? err.message : String(err)}`;
    ctx.log.error({ recording: name, err: reason }, 'comment could not be recorded');
    return { kind: 'failed', reason, goto: step.on_failure };
  }
  const end = await endOrAbort(recording, ctx.signal);
  if (end === 'aborted') {
    // A deadline or a shutdown leaves the caller on the line: end the recording, keeping what was said.
    // After a hang-up Asterisk ends it itself.
    if (!ctx.channel.gone.aborted) await recording.stop().catch((err: unknown) => ctx.log.warn({ recording: name, err: String(err) }, 'could not stop the recording'));
    const kept = await keep(step, recording, await recording.finished, ctx);
    if (kept.kind === 'answer') throw new AnsweredBeforeAbort(kept.answer, ctx.signal.reason);
    throw ctx.signal.reason;
  }
  // The terminate key reaches the survey as a key press too: it must not answer a later question.
  ctx.digits.clear();
  const kept = await keep(step, recording, end, ctx);
  switch (kept.kind) {
    case 'answer':
      return { kind: 'answered', answer: kept.answer, next: step.next, onFailure: step.on_failure };
    case 'too_short':
      return { kind: 'skipped', question: step.id, next: step.on_empty ?? step.next };
    case 'failed':
      return { kind: 'failed', reason: kept.reason, goto: step.on_failure };
  }
}

type Kept = { readonly kind: 'answer'; readonly answer: RecordedComment } | { readonly kind: 'too_short' } | { readonly kind: 'failed'; readonly reason: string };

async function keep(step: StepOf<'record'>, recording: Recording, end: RecordingEnd, ctx: StepContext): Promise<Kept> {
  if (end.kind === 'failed') {
    ctx.log.error({ recording: recording.name, cause: end.cause }, 'comment recording failed in Asterisk');
    return { kind: 'failed', reason: `recording failed: ${end.cause}` };
  }
  if (end.durationMs < step.min_seconds * 1000) {
    try {
      await recording.discard();
    } catch (err) {
      // The retention sweep never sees it (no row): say which file is left behind.
      ctx.log.warn({ recording: recording.name, err: err instanceof Error ? err.message : String(err) }, 'could not delete a too-short comment from Asterisk');
    }
    ctx.log.info({ recording: recording.name, recording_ms: end.durationMs, min_seconds: step.min_seconds }, 'comment shorter than min_seconds: discarded, nothing stored');
    return { kind: 'too_short' };
  }
  return {
    kind: 'answer',
    answer: {
      question: step.id,
      kind: 'comment',
      recording: { name: recording.name, durationMs: end.durationMs, format: recording.format, server: ctx.channel.server },
    },
  };
}

/** The recording's end, or 'aborted' the moment the survey is (the recording itself goes on ending). */
async function endOrAbort(recording: Recording, signal: AbortSignal): Promise<RecordingEnd | 'aborted'> {
  if (signal.aborted) return 'aborted';
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      recording.finished,
      new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * `csat-<channel>-<question>-<random>`: unique (ifExists=fail refuses a name in use), made of
 * [A-Za-z0-9_-] only (it becomes a file name on Asterisk and a URL segment), and never holding a
 * caller's number (the channel id is Asterisk's unique id, not the caller id).
 */
export function recordingName(channelId: string, question: string): string {
  const channel = channelId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  return `csat-${channel}-${question.slice(0, 32)}-${randomBytes(4).toString('hex')}`;
}
