import type { Logger } from '../log.js';
import type { TelephonyLoad } from '../telephony/port.js';
import { AriTimeoutError } from './errors.js';
import { LatencyWindow } from './latency-window.js';
import { RequestPool, type RequestPriority } from './request-pool.js';

import type { AriRestApi } from './rest-client.js';

export interface AriRestOptions {
  /** A request that has no answer this long after it was asked for (waiting included) fails. */
  readonly timeoutMs: number;
  /** Requests sent at once: the size of the HTTP agent's pool. */
  readonly maxConcurrent: number;
  /** Of those, how many may be background work (callers not admitted to a survey). */
  readonly maxBackground: number;
  readonly log: Logger;
}

/** Every REST call goes through here: one place for the timeout, the priority, the load figures and "not connected". */
export class AriRest {
  /** Set while connected to Asterisk; requests fail fast as "not connected" otherwise. */
  client: AriRestApi | undefined;
  /**
   * Whether the event stream is up and in sync. A request that times out while it is down met an
   * unreachable Asterisk, not a slow one: sending it again only keeps the caller waiting longer.
   */
  eventStreamUp = false;
  private readonly pool: RequestPool;
  private readonly latency = new LatencyWindow();
  /** When each request now waiting on Asterisk was sent. */
  private readonly inFlight = new Set<{ readonly sentAt: number }>();

  readonly load: TelephonyLoad = {
    requestsSlowerThan: (ms) => {
      const sentBefore = performance.now() - ms;
      let count = 0;
      for (const request of this.inFlight) if (request.sentAt <= sentBefore) count++;
      return count;
    },
    recentLatencyMs: () => this.latency.meanMs(),
  };

  constructor(private readonly options: AriRestOptions) {
    this.pool = new RequestPool(options.maxConcurrent, Math.min(options.maxBackground, options.maxConcurrent));
  }

  async call(what: string, run: (client: AriRestApi) => Promise<unknown>, priority: RequestPriority = 'background'): Promise<unknown> {
    if (!this.client) throw new Error(`ARI ${what}: not connected to Asterisk`);
    const askedAt = performance.now();
    // Usually a connection is free at once; only a request that must queue needs an abort signal.
    let release = this.pool.tryAcquire(priority);
    if (!release) {
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new AriTimeoutError(what, this.options.timeoutMs)), this.options.timeoutMs);
      try {
        release = await this.pool.acquire(priority, deadline.signal);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.send(what, run, release, this.options.timeoutMs - (performance.now() - askedAt));
  }

  private send(what: string, run: (client: AriRestApi) => Promise<unknown>, release: () => void, remainingMs: number): Promise<unknown> {
    // The connection may have been replaced while the request waited for its turn.
    const client = this.client;
    let request: Promise<unknown>;
    try {
      if (remainingMs <= 0) throw new AriTimeoutError(what, this.options.timeoutMs);
      if (!client) throw new Error(`ARI ${what}: not connected to Asterisk`);
      request = run(client);
    } catch (err) {
      release();
      return Promise.reject(err);
    }
    const sent = { sentAt: performance.now() };
    this.inFlight.add(sent);
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(new AriTimeoutError(what, this.options.timeoutMs));
      }, remainingMs);
      // The connection stays busy until Asterisk answers, even after we gave up on the request:
      // only then is its slot free, and its answer time is the truest figure of how slow Asterisk is.
      const settled = (): void => {
        clearTimeout(timer);
        release();
        this.inFlight.delete(sent);
        this.latency.record(performance.now() - sent.sentAt);
      };
      request.then(
        (value) => {
          settled();
          resolve(value);
        },
        (err: unknown) => {
          settled();
          if (timedOut) this.options.log.warn({ err: String(err), what }, 'ARI request failed after its timeout');
          reject(err);
        },
      );
    });
  }
}
