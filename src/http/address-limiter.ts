// Requests per client address per minute, for the public rating-link endpoints (no API key there).
// Fixed one-minute windows, and at most `maxAddresses` addresses counted per window: beyond that the
// rest share one count, so a flood from many addresses costs bounded memory (and limits itself).
const OVERFLOW = '*';
const WINDOW_MS = 60_000;

export class AddressLimiter {
  private window = -1;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly maxAddresses = 10_000,
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /** 0 when `address` may go ahead (the request is counted); else the seconds until it may retry. */
  take(address: string): number {
    const now = this.nowMs();
    const window = Math.floor(now / WINDOW_MS);
    if (window !== this.window) {
      this.window = window;
      this.counts.clear();
    }
    const key = this.counts.has(address) || this.counts.size < this.maxAddresses ? address : OVERFLOW;
    const used = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, used);
    return used > this.perMinute ? Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000)) : 0;
  }

  /** Addresses counted in this window (bounded by maxAddresses + 1). */
  get size(): number {
    return this.counts.size;
  }
}
