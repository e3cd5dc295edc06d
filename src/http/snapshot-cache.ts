// Statistics answers cached per rollup snapshot. Rollups only change inside a result-service run,
// which stamps result_state.refreshed_at in the same transaction, so an answer for a given
// (request, refreshed_at) never changes: the cache is exact, never stale. A run by another process
// (cc-csat aggregate) changes the stamp too, because the stamp is read from the database.
import { createHash, randomBytes } from 'node:crypto';

export interface CachedAnswer {
  /** Encoded once: Express sends a Buffer as is, where a string is re-encoded on every request. */
  readonly body: Buffer;
  /** Weak ETag, computed once per answer. */
  readonly etag: string;
}

// An answer is a function of (request key, snapshot version) within one process: its config (known
// queues, min_ratings_to_rank) is fixed at boot. So its ETag can hash that short identity instead
// of the whole body; the boot salt keeps a restarted engine with other config from matching.
const bootSalt = randomBytes(8).toString('hex');

/** `identity` names the answer exactly (key and snapshot version); without one the body is hashed. */
export function answerOf(body: string, identity?: string): CachedAnswer {
  const digest = createHash('sha1')
    .update(identity === undefined ? body : `${bootSalt}\u0000${identity}`)
    .digest('base64')
    .slice(0, 27);
  const encoded = Buffer.from(body);
  return { body: encoded, etag: `W/"${encoded.length.toString(16)}-${digest}"` };
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
