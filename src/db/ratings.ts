// Repository for cc_csat: free functions taking `db` first; transactions belong to the caller.
import { sql, type Kysely } from 'kysely';
import { Precompiled } from './precompiled.js';
import type { InsertRatingResult, RatingFilter, RatingPage } from '../storage/ports.js';
import type { Database, NewRating, Rating } from './schema.js';


const RATING_COLUMNS = ['call_id', 'agent_id', 'queue_id', 'score', 'comment', 'created_at'] as const;
type RatingValues = Omit<NewRating, 'id'>;

// Every survey runs these two: compiled once (see precompiled.ts).
const insertRatingQuery = new Precompiled<RatingValues, Rating>(
  (db, rating) =>
    db
      .insertInto('cc_csat')
      .values(rating)
      .onConflict((conflict) => conflict.column('call_id').doNothing())
      .returningAll(),
  RATING_COLUMNS,
);
const ratingByCallIdQuery = new Precompiled<{ call_id: string }, Rating>(
  (db, { call_id }) => db.selectFrom('cc_csat').selectAll().where('call_id', '=', call_id),
  ['call_id'],
);

/**
 * One rating per call: a second insert for the same call_id never overwrites the first,
 * and tells the caller which rating already stands.
 */
export async function insertRating(db: Kysely<Database>, rating: NewRating): Promise<InsertRatingResult> {
  const { id: _id, ...values } = rating;
  const inserted = (await insertRatingQuery.execute(db, values)).rows[0];
  if (inserted) return { inserted: true, rating: inserted };
  const existing = await findRatingByCallId(db, rating.call_id);
  if (!existing) throw new Error(`rating for call ${rating.call_id} conflicted but cannot be read back`);
  return { inserted: false, existing };
}

export async function findRatingByCallId(db: Kysely<Database>, callId: string): Promise<Rating | undefined> {
  return (await ratingByCallIdQuery.execute(db, { call_id: callId })).rows[0];
}

/**
 * Individual ratings, newest first, with the total matching the filter. A page starts `offset` rows
 * in, or right after `after` (keyset: an index seek however deep the page is).
 */
export async function listRatings(
  db: Kysely<Database>,
  filter: RatingFilter,
  page: RatingPage,
): Promise<{ items: Rating[]; total: number }> {
  let query = db.selectFrom('cc_csat');
  if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
  if (filter.queueId !== undefined) query = query.where('queue_id', '=', filter.queueId);
  if (filter.fromIso !== undefined) query = query.where('created_at', '>=', filter.fromIso);
  if (filter.toIso !== undefined) query = query.where('created_at', '<', filter.toIso);
  let pageQuery = query.selectAll();
  if (page.after) {
    const { createdAt, id } = page.after;
    // A row value compares as one index key: (created_at, rowid) is the tail of every created_at index.
    pageQuery = pageQuery.where(sql<boolean>`(created_at, id) < (${createdAt}, ${id})`);
  }
  const [items, counted] = await Promise.all([
    pageQuery.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    query.select(({ fn }) => fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: counted.total };
}
