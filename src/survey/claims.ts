// This engine's leases on the calls it surveys (survey_claim): taken before a survey starts, renewed
// while it runs, given back when it ends. Several engines on one PostgreSQL, or an engine restarted
// while Asterisk still holds its callers, then never survey one call twice at once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { ClaimResult, ClaimStore } from '../storage/ports.js';

export interface SurveyClaimsOptions {
  readonly store: ClaimStore;
  /** Stable across restarts ([engine] id): a restarted engine takes back its own calls at once. */
  readonly engineId: string;
  /**
   * How long a claim holds without renewal: how long the calls of an engine that died stay with it
   * before another engine may take them over. Renewed every third of it.
   */
  readonly leaseMs: number;
  readonly log: Logger;
}

export class SurveyClaims {
  private readonly held = new Set<string>();
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;

  constructor(private readonly options: SurveyClaimsOptions) {}

  /** Granted when this engine may survey the call now; else who holds it under a live lease. */
  async claim(callId: string, channelId: string): Promise<ClaimResult> {
    const result = await this.options.store.claim({ callId, channelId, engineId: this.options.engineId, leaseMs: this.options.leaseMs });
    if (result.granted) this.held.add(callId);
    return result;
  }

  /**
   * Like claim(), but when another engine holds this very channel, waits (polling) until its lease
   * runs out, at most one lease: an engine that died, or was replaced under another id, gives its
   * callers up only then. Still held after that (another engine alive and renewing: the same channel
   * id on another server), the caller gone meanwhile, or maxWaitMs spent (the survey's own time
   * budget), it answers with the refusal.
   */
  async claimOrWait(callId: string, channelId: string, gone: AbortSignal, maxWaitMs = Number.POSITIVE_INFINITY): Promise<ClaimResult & { readonly waited: boolean }> {
    // A duration on this engine's own monotonic clock; the lease itself runs on the database's.
    const deadline = performance.now() + Math.min(maxWaitMs, this.options.leaseMs + Math.floor(this.options.leaseMs / 3));
    for (let waited = false; ; waited = true) {
      const result = await this.claim(callId, channelId);
      if (result.granted || result.holder.channelId !== channelId || result.holder.engineId === this.options.engineId) return { ...result, waited };
      if (gone.aborted || performance.now() >= deadline) return { ...result, waited };
      await sleep(Math.max(50, Math.floor(this.options.leaseMs / 5)), undefined, { signal: gone }).catch(() => undefined);
    }
  }

  /** Never rejects: a claim left behind only delays another engine by one lease. */
  async release(callId: string): Promise<void> {
    this.held.delete(callId);
    try {
      await this.options.store.release(callId, this.options.engineId);
    } catch (err) {
      this.options.log.warn({ err, call_id: callId }, 'could not release the survey claim; it expires with its lease');
    }
  }

  start(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      if (this.held.size === 0 || this.renewing) return;
      this.renewing = this.renew().finally(() => (this.renewing = undefined));
    }, Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.renewTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    await this.renewing;
  }

  private async renew(): Promise<void> {
    try {
      await this.options.store.renew(this.options.engineId, [...this.held], this.options.leaseMs);
    } catch (err) {
      // Leases run out if this goes on: another engine could then take over a caller we still talk to.
      this.options.log.error({ err, held: this.held.size }, 'could not renew survey claims');
    }
  }
}
