// The connections to Asterisk's HTTP server are shared by every caller. When Asterisk is slow they
// run out, and a request that waits for one behind dozens of others can outlive its timeout. Then a
// caller who is already answering a question hears a prompt cut short and is hung up. So requests
// carry a priority: those of surveys already running are sent first, and work for callers not yet
// admitted (reading their variables, sending them back to the dialplan, adopting them after a
// reconnect) never holds more than its own share of the pool, nor less than one connection.

export type RequestPriority = 'survey' | 'background';

interface Waiter {
  readonly priority: RequestPriority;
  grant(): void;
}

export class RequestPool {
  private active = 0;
  private activeBackground = 0;
  private readonly waiting: Record<RequestPriority, Waiter[]> = { survey: [], background: [] };

  /**
   * @param limit requests sent at once; the HTTP agent has as many sockets, so it never queues itself.
   * @param backgroundLimit of those, how many may be background work; the rest is kept for surveys.
   */
  constructor(
    private readonly limit: number,
    private readonly backgroundLimit: number,
  ) {}

  /** A release function if the request may be sent now, without waiting; undefined if it must queue. */
  tryAcquire(priority: RequestPriority): (() => void) | undefined {
    return this.mayStart(priority) ? this.start(priority) : undefined;
  }

  /**
   * Resolves with a release function once the request may be sent. Rejects with `signal.reason`
   * if the signal aborts first; the request then never reaches Asterisk.
   */
  acquire(priority: RequestPriority, signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.mayStart(priority)) return Promise.resolve(this.start(priority));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.start(priority));
        },
      };
      const onAbort = (): void => {
        const queue = this.waiting[priority];
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting[priority].push(waiter);
    });
  }

  private mayStart(priority: RequestPriority): boolean {
    if (this.active >= this.limit) return false;
    return priority === 'survey' || this.activeBackground < this.backgroundLimit;
  }

  private start(priority: RequestPriority): () => void {
    this.active++;
    if (priority === 'background') this.activeBackground++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (priority === 'background') this.activeBackground--;
      this.grantWaiting();
    };
  }

  private grantWaiting(): void {
    // Background work keeps at least one connection: a caller refused a survey must still be sent
    // back to the dialplan, not left in silence behind an endless queue of survey requests.
    const background = this.waiting.background;
    if (this.activeBackground === 0 && background.length > 0 && this.active < this.limit) background.shift()!.grant();
    for (const priority of ['survey', 'background'] as const) {
      const queue = this.waiting[priority];
      while (queue.length > 0 && this.mayStart(priority)) queue.shift()!.grant();
    }
  }
}
