// Requests per client address per minute, for the public rating-link endpoints (no API key there).
// Fixed one-minute windows, and at most `maxAddresses` clients counted per window: beyond that the
// oldest count is forgotten, so a flood from many addresses costs bounded memory and never locks
// out a client it has not seen (it can only evade its own limit). An IPv6 client is its
// /64 (one host has a whole /64 to pick addresses from); an IPv4-mapped IPv6 address is its IPv4.
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
    address = clientOf(address);
    const now = this.nowMs();
    const window = Math.floor(now / WINDOW_MS);
    if (window !== this.window) {
      this.window = window;
      this.counts.clear();
    }
    if (!this.counts.has(address) && this.counts.size >= this.maxAddresses) {
      // Full: the client first seen longest ago in this window is forgotten (Map keeps insertion
      // order). A flood of new addresses costs the flooder its own counts, never a newcomer its turn.
      this.counts.delete(this.counts.keys().next().value!);
    }
    const used = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, used);
    return used > this.perMinute ? Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000)) : 0;
  }

  /** Clients counted in this window (at most maxAddresses). */
  get size(): number {
    return this.counts.size;
  }
}

/** The client an address stands for: an IPv4 address, or an IPv6 address's /64. */
export function clientOf(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
