// /readyz needs no key: however many ask at once, the database is probed once at a time and at most
// once per interval, so a flood of probes can never take the connections that ratings need.
export class ProbeCache {
  private last: { at: number; answer: string } | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(
    private readonly probe: () => Promise<string>,
    private readonly maxAgeMs: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  answer(): Promise<string> {
    if (this.last && this.nowMs() - this.last.at < this.maxAgeMs) return Promise.resolve(this.last.answer);
    this.inFlight ??= this.probe()
      .then((answer) => {
        this.last = { at: this.nowMs(), answer };
        return answer;
      })
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }
}
