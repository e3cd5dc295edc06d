// The rollup snapshot a caller has just read, trusted until the current tick of the event loop ends.
//
// The API reads snapshot(), then an answer, then snapshot() again (src/http/csat-routes.ts): three
// round trips to PostgreSQL when each asked the server. But between a read's result arriving and the
// end of that tick only microtasks run: the rest of the same request's await chain (cache lookup,
// computing an answer from memory, the second snapshot()). No other request's code can run there (it
// would need I/O of its own, which is delivered in another tick), and no run can commit in between
// that this process could have seen. So within the tick the version just read is as good as a fresh
// read, and is forgotten at the end of it (a nextTick callback runs only once the microtask queue is
// empty). Every caller outside such a chain (a later request, a test) reads the server again.
import type { Snapshot } from '../../storage/ports.js';

export class TickSnapshot {
  private held: { readonly snapshot: Snapshot; readonly token: object } | undefined;

  /** The snapshot remembered in this tick, if any. */
  get(): Snapshot | undefined {
    return this.held?.snapshot;
  }

  /** Remembers `snapshot` (read from the server, or what an answer was computed at) for the rest of this tick. */
  remember(snapshot: Snapshot): void {
    const token = {};
    this.held = { snapshot, token };
    process.nextTick(() => {
      if (this.held?.token === token) this.held = undefined;
    });
  }
}
