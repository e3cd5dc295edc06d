// Deterministic rating data for the statistics suites, and its bulk insert, on either database.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import type { SeedRating } from './reference-stats.js';

export const SEED_AGENTS = ['ana', 'bo', 'cy', 'di', 'ed'] as const;
export const SEED_QUEUES = ['sales-queue', 'support-queue'] as const;

export async function seed(db: Kysely<Database>, ratings: readonly SeedRating[]): Promise<void> {
  for (let i = 0; i < ratings.length; i += 500) {
    await db.insertInto('cc_csat').values(ratings.slice(i, i + 500).map((r) => ({ ...r, comment: null }))).execute();
  }
}

/** A small deterministic generator, so a failure reproduces. */
function prng(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function randomRatings(count: number, startMs: number, spanDays: number, seedValue: number, prefix: string): SeedRating[] {
  const random = prng(seedValue);
  return Array.from({ length: count }, (_, i) => ({
    call_id: `${prefix}-${i}`,
    agent_id: SEED_AGENTS[Math.floor(random() * SEED_AGENTS.length)]!,
    queue_id: SEED_QUEUES[Math.floor(random() * SEED_QUEUES.length)]!,
    score: 1 + Math.floor(random() * 5),
    created_at: new Date(startMs + Math.floor(random() * spanDays * 86_400_000)).toISOString(),
  }));
}
