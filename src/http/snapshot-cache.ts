// Statistics answers cached per rollup snapshot. Rollups only change inside a result-service run,
// which stamps result_state.refreshed_at in the same transaction, so an answer for a given
// (request, refreshed_at) never changes: the cache is exact, never stale. A run by another process
// (cc-csat aggregate) changes the stamp too, because the stamp is read from the database.

export class SnapshotCache {
  private readonly entries = new Map<string, { version: string; body: string }>();

  constructor(private readonly maxEntries = 1000) {}

  get(key: string, version: string | null): string | undefined {
    if (version === null) return undefined;
    const entry = this.entries.get(key);
    if (!entry || entry.version !== version) return undefined;
    // Map order is insertion order: re-inserting keeps the least recently used first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.body;
  }

  set(key: string, version: string | null, body: string): void {
    if (version === null) return;
    this.entries.delete(key);
    this.entries.set(key, { version, body });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
