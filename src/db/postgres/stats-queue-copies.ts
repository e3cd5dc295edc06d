// The queue copies (stats-queue-copy.ts) of one rollup version: the last one this process loaded.
// Every result-service run moves the version, so a run makes each queue's next answer load its copy
// again (one statement, ~15-25 ms for a queue of 15,000 agent days on the benchmark host); until
// the next run every window of that queue is answered from memory. Older versions are dropped: an
// engine holds at most one copy per queue, of at most MAX_HELD queues (the least recently asked go
// first), and none of a queue without rollups: a client asking for ids nobody uses grows nothing.
import type { PoolClient } from 'pg';
import type { Snapshot } from '../../storage/ports.js';
import { loadQueueCopy, type QueueCopy } from './stats-queue-copy.js';

export interface VersionedCopy {
  readonly snapshot: Snapshot;
  readonly copy: QueueCopy;
}

/** Queues whose copies are held at once (~1 MB each at a year of 20 agents' daily totals). */
const MAX_HELD = 32;

export class QueueCopies {
  private version: string | null = null;
  private readonly held = new Map<string, QueueCopy>();
  // Requests that miss the same queue at once share one load.
  private readonly loading = new Map<string, Promise<VersionedCopy>>();

  /** `read` runs a statement on a pooled connection (the statistics store's own reads). */
  constructor(private readonly read: <T>(work: (client: PoolClient) => Promise<T>) => Promise<T>) {}

  /** The copy of `queueId` at `version`, when this process holds it. */
  at(queueId: string, version: string | null): QueueCopy | undefined {
    if (version === null || version !== this.version) return undefined;
    const copy = this.held.get(queueId);
    if (copy) {
      // Most recently asked last: a Map keeps insertion order, so the first key is the one to drop.
      this.held.delete(queueId);
      this.held.set(queueId, copy);
    }
    return copy;
  }

  /** How many queue copies are held (for tests and the memory bound). */
  get size(): number {
    return this.held.size;
  }

  /** Reads the queue's copy as the rollups are now, and the version it is. */
  load(queueId: string): Promise<VersionedCopy> {
    let pending = this.loading.get(queueId);
    if (!pending) {
      pending = this.read((client) => loadQueueCopy(client, queueId))
        .then((loaded) => {
          this.hold(queueId, loaded);
          return loaded;
        })
        .finally(() => this.loading.delete(queueId));
      this.loading.set(queueId, pending);
    }
    return pending;
  }

  private hold(queueId: string, { snapshot, copy }: VersionedCopy): void {
    // Before any run the tables may still be written to without a version to tell: nothing is kept.
    if (snapshot.version === null) return;
    if (snapshot.version !== this.version) {
      this.version = snapshot.version;
      this.held.clear();
    }
    if (copy.empty) return;
    this.held.delete(queueId);
    this.held.set(queueId, copy);
    if (this.held.size > MAX_HELD) this.held.delete(this.held.keys().next().value!);
  }
}
