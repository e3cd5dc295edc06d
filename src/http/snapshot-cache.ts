// Statistics answers cached per rollup snapshot. Rollups only change inside a result-service run,
// which stamps result_state.refreshed_at in the same transaction, so an answer for a given
// (request, refreshed_at) never changes: the cache is exact, never stale. A run by another process
// (cc-csat aggregate) changes the stamp too, because the stamp is read from the database.
import { createHash, randomBytes } from 'node:crypto';
import type { Response } from 'express';
import type { StatsStore } from '../storage/ports.js';

export interface CachedAnswer {
  /** Encoded once: Express sends a Buffer as is, where a string is re-encoded on every request. */
  readonly body: Buffer;
  /** Weak ETag, computed once per answer. */
  readonly etag: string;
}

// An answer is a function of (request key, snapshot version) within one process: engine.toml's
// settings (min_ratings_to_rank) are fixed at boot, and what a reload changes (a team's members) is
// part of the key. So its ETag can hash that short identity instead of the whole body; the boot salt
// keeps a restarted engine with other config from matching.
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

export interface SnapshotCacheLimits {
  /** Answers kept at most; default 1000. */
  readonly maxEntries?: number;
  /** Bytes kept at most (bodies and keys); default 32 MB. A larger answer is served, never kept. */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_ENTRIES = 1000;
// A count alone is no bound: a thousand year-long daily trends of every question is half a gigabyte.
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** Roughly what an entry holds: its body, its ETag, and its key (UTF-16 in the Map). */
const sizeOf = (key: string, answer: CachedAnswer): number => answer.body.length + answer.etag.length + 2 * key.length;

export class SnapshotCache {
  private readonly entries = new Map<string, { version: string; answer: CachedAnswer; size: number }>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private totalBytes = 0;

  constructor(limits: SnapshotCacheLimits = {}) {
    this.maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Bytes the kept answers take, as counted against maxBytes. */
  get bytes(): number {
    return this.totalBytes;
  }

  get size(): number {
    return this.entries.size;
  }

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
    this.remove(key);
    const size = sizeOf(key, answer);
    if (size > this.maxBytes) return;
    this.entries.set(key, { version, answer, size });
    this.totalBytes += size;
    while (this.entries.size > this.maxEntries || this.totalBytes > this.maxBytes) this.remove(this.entries.keys().next().value!);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.size;
  }
}

// Reads of one answer tried again when a result-service run committed in the middle of them.
const SNAPSHOT_ATTEMPTS = 3;

export type SnapshotAnswerer = (res: Response, key: string, compute: (asOf: string | null) => Promise<unknown>) => Promise<void>;

/**
 * Serves the answer for `key` at the current rollup snapshot, computing and caching it once. The
 * reads are not one transaction: a run that commits while they go on moves the snapshot version,
 * and the answer is computed again (runs are minutes apart: a second try all but always reads clean).
 * `key` must name everything the answer depends on besides the snapshot (a team's members, say).
 */
export function snapshotAnswerer(stats: Pick<StatsStore, 'snapshot'>, cache = new SnapshotCache()): SnapshotAnswerer {
  return async (res, key, compute) => {
    let snapshot = await stats.snapshot();
    let answer = cache.get(key, snapshot.version);
    for (let attempt = 1; answer === undefined; attempt++) {
      const body = JSON.stringify(await compute(snapshot.asOf));
      const after = await stats.snapshot();
      // A run every few milliseconds for a whole answer is not a real load; give up on a clean read then.
      if (after.version !== snapshot.version && attempt < SNAPSHOT_ATTEMPTS) {
        snapshot = after;
        answer = cache.get(key, snapshot.version);
        continue;
      }
      const clean = after.version === snapshot.version;
      // Only a clean read is named by its snapshot (ETag) and cached; the last try is served as read.
      answer = answerOf(body, clean && snapshot.version !== null ? `${snapshot.version}\u0000${key}` : undefined);
      if (clean) cache.set(key, snapshot.version, answer);
    }
    // With the ETag set, Express answers a matching If-None-Match with 304 (a polling dashboard).
    res.set('ETag', answer.etag).type('application/json; charset=utf-8').send(answer.body);
  };
}
