// Repository for cc_csat: free functions taking `db` first; transactions belong to the caller.
import { sql, type Kysely } from 'kysely';
import { Precompiled } from './precompiled.js';
import type { InsertRatingResult, RatingFilter, RatingPage, RatingPosition } from '../storage/ports.js';
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
 * cc_csat narrowed by the filter. Answers, outcomes and spoken comments are matched by EXISTS on the
 * call's own rows (survey_answer's UNIQUE (call_id, question_id), survey_outcome_call): each costs an
 * index probe per candidate rating, which the agent/queue/time indexes have already narrowed.
 */
function filtered(db: Kysely<Database>, filter: RatingFilter) {
  let query = db.selectFrom('cc_csat');
  if (filter.agentId !== undefined) query = query.where('cc_csat.agent_id', '=', filter.agentId);
  if (filter.agentIds !== undefined) {
    // A team without members has no ratings (an empty IN list is not valid SQL everywhere).
    query = filter.agentIds.length === 0 ? query.where(sql<boolean>`1 = 0`) : query.where('cc_csat.agent_id', 'in', filter.agentIds);
  }
  if (filter.queueId !== undefined) query = query.where('cc_csat.queue_id', '=', filter.queueId);
  if (filter.fromIso !== undefined) query = query.where('cc_csat.created_at', '>=', filter.fromIso);
  if (filter.toIso !== undefined) query = query.where('cc_csat.created_at', '<', filter.toIso);
  const { questionId, minValue, maxValue, outcome, hasComment } = filter;
  if (questionId !== undefined) {
    query = query.where(({ exists, selectFrom }) => {
      let answer = selectFrom('survey_answer as a').select(sql<number>`1`.as('one')).whereRef('a.call_id', '=', 'cc_csat.call_id').where('a.question_id', '=', questionId);
      if (minValue !== undefined) answer = answer.where('a.value', '>=', minValue);
      if (maxValue !== undefined) answer = answer.where('a.value', '<=', maxValue);
      return exists(answer);
    });
  }
  if (outcome !== undefined) {
    query = query.where(({ exists, selectFrom }) =>
      exists(selectFrom('survey_outcome as o').select(sql<number>`1`.as('one')).whereRef('o.call_id', '=', 'cc_csat.call_id').where('o.outcome', '=', outcome)),
    );
  }
  if (hasComment !== undefined) {
    query = query.where((eb) => {
      const commented = eb.or([
        eb.and([eb('cc_csat.comment', 'is not', null), eb('cc_csat.comment', '<>', '')]),
        eb.exists(eb.selectFrom('survey_answer as c').select(sql<number>`1`.as('one')).whereRef('c.call_id', '=', 'cc_csat.call_id').where('c.kind', '=', 'comment')),
      ]);
      return hasComment ? commented : eb.not(commented);
    });
  }
  return query;
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
  const query = filtered(db, filter);
  let pageQuery = query.selectAll('cc_csat');
  if (page.after) {
    const { createdAt, id } = page.after;
    // A row value compares as one index key: (created_at, rowid) is the tail of every created_at index.
    pageQuery = pageQuery.where(sql<boolean>`(cc_csat.created_at, cc_csat.id) < (${createdAt}, ${id})`);
  }
  const [items, counted] = await Promise.all([
    pageQuery.orderBy('cc_csat.created_at', 'desc').orderBy('cc_csat.id', 'desc').limit(page.limit).offset(page.offset).execute(),
    query.select(({ fn }) => fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(counted.total) };
}

/** Oldest first, those after `after` ((created_at, id) keyset, the same index as listRatings, read forwards), at most `limit`. */
export async function exportRatingsPage(db: Kysely<Database>, filter: RatingFilter, after: RatingPosition | undefined, limit: number): Promise<Rating[]> {
  return exportPageQuery(db, filter, after, limit).execute();
}

/** The query of one export page (bench/export.bench.ts shows its plan). */
export function exportPageQuery(db: Kysely<Database>, filter: RatingFilter, after: RatingPosition | undefined, limit: number) {
  let query = filtered(db, filter).selectAll('cc_csat');
  if (after) query = query.where(sql<boolean>`(cc_csat.created_at, cc_csat.id) > (${after.createdAt}, ${after.id})`);
  return query.orderBy('cc_csat.created_at', 'asc').orderBy('cc_csat.id', 'asc').limit(limit);
}
