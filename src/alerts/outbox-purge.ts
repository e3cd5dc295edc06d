// Deletes delivered alerts older than [alerts] keep_delivered_days, in small batches, on every engine
// (a DELETE of rows already gone deletes nothing, so engines sharing a database need no leader).
// Pending and dead rows are never purged: those are the ones an operator still has to see; but a
// rating link's that expired undelivered loses its caller number and token.
import type { Logger } from '../log.js';
import type { AlertOutboxStore } from '../storage/ports.js';

/** Rows per statement: short writes, so a live caller's rating never waits long behind one. */
const BATCH = 500;
/** Batches per sweep at most: a first sweep over a backlog of months finishes over the next sweeps. */
const MAX_BATCHES = 20;
const SWEEP_EVERY_MS = 3_600_000;

export interface AlertOutboxPurgeOptions {
  readonly store: Pick<AlertOutboxStore, 'purgeDelivered' | 'redactExpiredLinks'>;
  readonly keepDeliveredMs: number;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  readonly now?: () => Date;
  readonly everyMs?: number;
}

export class AlertOutboxPurge {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: AlertOutboxPurgeOptions) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    const tick = (): void => void this.sweep().catch((err: unknown) => this.options.log.warn({ err }, 'alert outbox purge failed; the next sweep retries'));
    tick();
    this.timer = setInterval(tick, this.options.everyMs ?? SWEEP_EVERY_MS);
    this.timer.unref();
  }

  /** One sweep; returns how many rows it deleted. */
  sweep(): Promise<number> {
    this.sweeping ??= this.deleteOld().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => undefined);
  }

  private async deleteOld(): Promise<number> {
    const now = this.now();
    // Rating links that expired undelivered (dead, or pending for a destination gone from the
    // config): the caller number and the token go; the row stays for the operator.
    let redacted = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const count = await this.options.store.redactExpiredLinks(now.toISOString(), BATCH);
      redacted += count;
      if (count < BATCH) break;
    }
    if (redacted > 0) this.options.log.info({ redacted }, 'expired rating-link deliveries redacted');
    const before = new Date(now.getTime() - this.options.keepDeliveredMs).toISOString();
    let deleted = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const count = await this.options.store.purgeDelivered(before, BATCH);
      deleted += count;
      if (count < BATCH) break;
    }
    if (deleted > 0) this.options.log.info({ deleted, delivered_before: before }, 'delivered alerts purged');
    return deleted;
  }
}
