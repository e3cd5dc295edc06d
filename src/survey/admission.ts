// Shed load before a survey starts, never in the middle of one. When Asterisk is slow, every new
// survey adds its REST requests to a queue that running surveys also wait in; past a point their
// prompts time out and callers who were answering a question are hung up. A caller refused here goes
// straight back to the dialplan, which costs Asterisk one request instead of a whole survey.
import type { TelephonyLoad } from '../telephony/port.js';

export interface AdmissionBounds {
  /** Requests unanswered for longer than `maxLatencyMs` at which new callers are refused. */
  readonly maxSlowInFlight: number;
  /** Mean answer time of recent requests at which new callers are refused. */
  readonly maxLatencyMs: number;
}

export type AdmissionDecision =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      readonly exceeded: 'in_flight' | 'latency';
      readonly slowInFlight: number;
      readonly recentLatencyMs: number;
    };

export class Admission {
  constructor(
    private readonly load: () => TelephonyLoad,
    private readonly bounds: AdmissionBounds,
    /** Called once per refused caller (a metric). */
    private readonly onShed?: () => void,
  ) {}

  /** Asked once per new caller, before any request is made for it. */
  decide(): AdmissionDecision {
    const load = this.load();
    // Both signals are needed: answers that come back slowly say so only once they come back, and
    // a stalled Asterisk sends none; requests piling up unanswered say so at once.
    const slowInFlight = load.requestsSlowerThan(this.bounds.maxLatencyMs);
    const recentLatencyMs = load.recentLatencyMs();
    const exceeded =
      slowInFlight >= this.bounds.maxSlowInFlight ? 'in_flight'
      : recentLatencyMs >= this.bounds.maxLatencyMs ? 'latency'
      : undefined;
    if (!exceeded) return { admitted: true };
    this.onShed?.();
    return { admitted: false, exceeded, slowInFlight, recentLatencyMs };
  }
}
