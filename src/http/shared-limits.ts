// Per-key rate limits that hold across the engines sharing one database. Each engine keeps its own
// token bucket per key (no database round trip on a request); about every second it publishes how
// many tokens it took per key and takes the tokens the other engines took since from its own
// buckets. A fleet therefore stays within a key's limit, give or take what the other engines let
// through during one publish interval.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { KeyUsage, KeyUsageStore } from '../storage/ports.js';
import type { RateLimiter } from './auth.js';

export interface SharedRateLimitsOptions {
  readonly store: KeyUsageStore;
  readonly engineId: string;
  readonly limiter: RateLimiter;
  /** Per-minute limit of each configured key, by key name. */
  readonly limits: ReadonlyMap<string, number>;
  readonly intervalMs: number;
  readonly log: Logger;
}

/** Other engines' counts older than this are of engines gone: not read any more. */
const FORGET_AFTER_MS = 120_000;

export class SharedRateLimits {
  // A restarted engine counts from 0 again: its epoch tells the others not to read that as negative.
  private readonly epoch = randomUUID();
  private readonly published = new Map<string, number>();
  private readonly seen = new Map<string, { epoch: string; used: number }>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: SharedRateLimitsOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.syncing ??= this.sync().finally(() => (this.syncing = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.syncing;
  }

  /** Publishes this engine's counts and applies the others'. Never rejects: limits stay local meanwhile. */
  async sync(): Promise<void> {
    const { store, engineId, limiter, limits } = this.options;
    try {
      const changed: KeyUsage[] = [];
      // Every configured key, even unused (0): another engine's first sight of a count is its
      // baseline, so a count must be seen before it grows for the growth to be charged.
      for (const keyName of limits.keys()) {
        const used = limiter.takenSoFar.get(keyName) ?? 0;
        if (this.published.get(keyName) === used) continue;
        changed.push({ keyName, engineId, epoch: this.epoch, used });
      }
      await store.publish(changed);
      for (const entry of changed) this.published.set(entry.keyName, entry.used);
      for (const other of await store.othersSince(engineId, FORGET_AFTER_MS)) {
        const perMinute = limits.get(other.keyName);
        if (perMinute === undefined) continue;
        const id = `${other.engineId}\u0000${other.keyName}`;
        const before = this.seen.get(id);
        this.seen.set(id, { epoch: other.epoch, used: other.used });
        // First sight of an engine: what it took before now is history, not a burst to charge.
        if (!before) continue;
        const taken = before.epoch === other.epoch ? other.used - before.used : other.used;
        if (taken > 0) limiter.consume(other.keyName, taken, perMinute);
      }
      if (this.failing) this.options.log.info('sharing API rate limits with the other engines again');
      this.failing = false;
    } catch (err) {
      // Logged once per outage, not every second.
      if (!this.failing) this.options.log.warn({ err }, 'cannot share API rate limits with the other engines; each engine limits on its own meanwhile');
      this.failing = true;
    }
  }
}
