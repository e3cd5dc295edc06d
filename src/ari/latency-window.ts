// How long Asterisk has recently taken to answer REST requests: the mean over the last second, kept in
// 100 ms buckets so it costs the same at 10 or 10,000 requests a second. Old answers drop out by
// themselves: once Asterisk has recovered (or gone quiet) the figure no longer says "slow".

const WINDOW_MS = 1000;
const BUCKET_MS = 100;
const BUCKETS = WINDOW_MS / BUCKET_MS;
// One slow answer on a quiet system is not overload.
const MIN_SAMPLES = 5;

interface Bucket {
  slot: number;
  sum: number;
  count: number;
}

export class LatencyWindow {
  private readonly buckets: Bucket[] = Array.from({ length: BUCKETS }, () => ({ slot: -1, sum: 0, count: 0 }));

  constructor(private readonly now: () => number = () => performance.now()) {}

  record(ms: number): void {
    const slot = Math.floor(this.now() / BUCKET_MS);
    const bucket = this.buckets[slot % BUCKETS]!;
    if (bucket.slot !== slot) {
      bucket.slot = slot;
      bucket.sum = 0;
      bucket.count = 0;
    }
    bucket.sum += ms;
    bucket.count++;
  }

  /** Mean answer time over the window, or 0 when too few requests were answered to tell. */
  meanMs(): number {
    const current = Math.floor(this.now() / BUCKET_MS);
    let sum = 0;
    let count = 0;
    for (const bucket of this.buckets) {
      if (bucket.slot <= current - BUCKETS) continue;
      sum += bucket.sum;
      count += bucket.count;
    }
    return count < MIN_SAMPLES ? 0 : sum / count;
  }
}
