// Statistics answers cached per rollup snapshot. Rollups only change inside a result-service run,
// which stamps result_state.refreshed_at in the same transaction, so an answer for a given
// (request, refreshed_at) never changes: the cache is exact, never stale. A run by another process
// (cc-csat aggregate) changes the stamp too, because the stamp is read from the database.
import { createHash } from 'node:crypto';

export interface CachedAnswer {
  readonly body: string;
  /** Express's weak ETag format, computed once per answer instead of hashing the body per request. */
  readonly etag: string;
}

export function answerOf(body: string): CachedAnswer {
  return { body, etag: `W/"${Buffer.byteLength(body).toString(16)}-${createHash('sha1').update(body).digest('base64').slice(0, 27)}"` };
}

export class SnapshotCache {
  private readonly entries = new Map<string, { version: string; answer: CachedAnswer }>();

  constructor(private readonly maxEntries = 1000) {}

  get(key: string, version: string | null): CachedAnswer | undefined {
    if (version === null) return undefined;
    const entry = this.entries.get(key);
    if (!entry || entry.version !== version) return undefined;
    // Map order is insertion order: re-inserting keeps the least recently used first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.answer;
  }

  set(key: string, version: string | null, answer: CachedAnswer): void {
    if (version === null) return;
    this.entries.delete(key);
    this.entries.set(key, { version, answer });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
