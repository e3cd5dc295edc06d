// Plays a list of media URIs as one ARI playback, with barge-in, hangup and a guard timer
// for playbacks that never finish (Asterisk answers 201 to a bad media scheme and then stays silent).
import type { PlaybackEnd } from '../telephony/port.js';
import type { StepContext } from './context.js';

export type PlayOutcome =
  | { readonly kind: 'finished' }
  | { readonly kind: 'failed' }
  | { readonly kind: 'interrupted'; readonly digit: string }
  | { readonly kind: 'guard_timeout' };

export async function playMedia(
  ctx: StepContext,
  media: readonly string[],
  options: { readonly interruptible: boolean },
): Promise<PlayOutcome> {
  ctx.signal.throwIfAborted();
  const playback = await ctx.channel.play(media, ctx.language);
  const stopUnlessGone = async (): Promise<never> => {
    // On hangup Asterisk ends the playback itself (PlaybackFinished "failed") and a stop would only 404;
    // on a deadline or forced shutdown the caller is still there and must not keep hearing the prompt.
    if (!ctx.channel.gone.aborted) await playback.stop();
    throw ctx.signal.reason;
  };
  if (ctx.signal.aborted) return stopUnlessGone();
  const barge = options.interruptible ? ctx.digits.peek() : undefined;
  // A plain timer and listener: this runs for every prompt of every caller, and an aborted
  // AbortController or timers/promises sleep builds an error object with a stack trace each time.
  let guardTimer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guardOrAbort = new Promise<{ kind: 'guard' } | { kind: 'abort' }>((resolve) => {
    guardTimer = setTimeout(() => resolve({ kind: 'guard' }), ctx.ivr.playback_guard_ms);
    onAbort = () => resolve({ kind: 'abort' });
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const winner = await Promise.race<
      { kind: 'end'; end: PlaybackEnd } | { kind: 'digit'; digit: string } | { kind: 'guard' } | { kind: 'abort' }
    >([
      playback.finished.then((end) => ({ kind: 'end', end })),
      ...(barge ? [barge.promise.then((digit) => ({ kind: 'digit' as const, digit }))] : []),
      guardOrAbort,
    ]);
    switch (winner.kind) {
      case 'end':
        if (!options.interruptible) ctx.digits.clear();
        return winner.end === 'failed' ? { kind: 'failed' } : { kind: 'finished' };
      case 'digit':
        try {
          await playback.stop();
        } catch (err) {
          // The key is what the caller meant, whether or not the prompt could be cut short: even when
          // the caller hung up right after it (the stop fails on a channel going away), the key stays
          // buffered and the step takes it, so it is stored before the survey ends.
          if (ctx.signal.aborted) return { kind: 'interrupted', digit: winner.digit };
          ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not stop the prompt after a key; the key counts');
        }
        return { kind: 'interrupted', digit: winner.digit };
      case 'guard':
        ctx.log.warn({ media, guardMs: ctx.ivr.playback_guard_ms }, 'playback never finished; stopped by guard timer');
        await playback.stop();
        return { kind: 'guard_timeout' };
      case 'abort':
        return await stopUnlessGone();
    }
    return winner satisfies never;
  } finally {
    barge?.cancel();
    clearTimeout(guardTimer);
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
  }
}
