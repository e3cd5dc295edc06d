// Buffers DTMF from the moment the survey owns the channel, so a key pressed early
// (barge-in, or before the prompt even started) is never lost.

export class DigitBuffer {
  private readonly queue: string[] = [];
  private waiter: ((digit: string) => void) | undefined;
  /** performance.now() when the latest key arrived: the start of the DTMF-to-stored latency. */
  lastPushedAt = 0;

  push(digit: string): void {
    const ignored = this.ignored;
    if (ignored) {
      this.ignored = undefined;
      if (ignored.key === digit && performance.now() <= ignored.until) return;
    }
    this.lastPushedAt = performance.now();
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(digit);
    } else {
      this.queue.push(digit);
    }
  }

  take(): string | undefined {
    return this.queue.shift();
  }

  // A key to drop if it comes before a deadline (performance.now()): see ignoreSoon.
  private ignored: { key: string; until: number } | undefined;

  /**
   * Drops `key` if it is the next key and comes within `ms`, buffered already or not: the "#" a
   * caller adds after a number that was already complete ("10#") must not become the first key of
   * the next question.
   */
  ignoreSoon(key: string, ms: number): void {
    if (this.queue.length > 0) {
      if (this.queue[0] === key) this.queue.shift();
      return;
    }
    this.ignored = { key, until: performance.now() + ms };
  }

  get size(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
  }

  /**
   * The next key, or undefined after `timeoutMs`. Rejects with the signal's reason on abort;
   * the timer is always cleared.
   */
  async next(timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
    const buffered = this.take();
    if (buffered !== undefined) return buffered;
    signal.throwIfAborted();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await new Promise<string | undefined>((resolve, reject) => {
        this.waiter = resolve;
        timer = setTimeout(() => resolve(undefined), timeoutMs);
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      this.waiter = undefined;
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Resolves with the next key without consuming it (for barge-in), or never; cancel with the returned function. */
  peek(): { promise: Promise<string>; cancel: () => void } {
    const queued = this.queue[0];
    if (queued !== undefined) return { promise: Promise.resolve(queued), cancel: () => {} };
    let cancelled = false;
    const promise = new Promise<string>((resolve) => {
      this.waiter = (digit) => {
        // Barge-in must not eat the key: it stays queued for the collect step that follows.
        this.queue.push(digit);
        if (!cancelled) resolve(digit);
      };
    });
    return {
      promise,
      cancel: () => {
        cancelled = true;
        this.waiter = undefined;
      },
    };
  }
}
