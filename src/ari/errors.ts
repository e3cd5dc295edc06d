// ari-client turns an HTTP error into `new Error(<response body>)`, dropping the status code.
// Asterisk's bodies are JSON {"message": "..."}; the message is all we can classify by.

export function ariErrorMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  try {
    const parsed = JSON.parse(raw) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not a JSON body: a transport error such as ECONNREFUSED
  }
  return raw;
}

/** 404 "Channel not found" after hangup, or 409/412 once the channel left Stasis or is hanging up. */
export function isChannelGone(err: unknown): boolean {
  return /channel not found|not in a stasis application|not in stasis|channel in invalid state/i.test(ariErrorMessage(err));
}

export function isPlaybackGone(err: unknown): boolean {
  return /playback not found/i.test(ariErrorMessage(err));
}

/**
 * Asterisk 22 does not check that a playbackId is free: a second `play` with the same id answers
 * 201 and queues the media again. Should a version refuse it ("already in use/exists"), the id
 * is taken by our own first attempt, and that counts as the playback having started.
 */
export function isPlaybackIdTaken(err: unknown): boolean {
  return /playback.*already (exists|in use)/i.test(ariErrorMessage(err));
}

export function isVariableMissing(err: unknown): boolean {
  return /variable was not found|variable not found/i.test(ariErrorMessage(err));
}

export class AriTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`ARI ${what} got no answer within ${ms} ms`);
    this.name = 'AriTimeoutError';
  }
}

/** Bounds a REST call: swagger-client has no timeout, and a hung Asterisk must not hang a survey. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string, onLateError: (err: unknown) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new AriTimeoutError(what, ms));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // The request may still fail after we gave up on it; report it instead of leaving it unhandled.
    if (timedOut) promise.catch(onLateError);
  }
}
