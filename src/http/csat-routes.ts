// /cc/csat: ratings in (POST, one per call) and statistics out (from the result service's rollups).
import { isUtf8 } from 'node:buffer';
import express, { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import { alignRange } from '../results/stats-shape.js';
import { addDays, daysBetween, type ZoneCalendar } from '../results/zone.js';
import type { Answer } from '../db/schema.js';
import type { AnswerStore, RatingStore, StatsStore } from '../storage/ports.js';
import { requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { HttpError, validationError } from './errors.js';
import { answerOf, SnapshotCache } from './snapshot-cache.js';
import { AgentParams, CallIdParams, QueueParams, RatingBody, ResponsesQuery, StatsQuery } from './schemas.js';

export interface CsatRouteDeps {
  readonly ratings: RatingStore;
  readonly answers: Pick<AnswerStore, 'forCalls'>;
  readonly stats: StatsStore;
  readonly zone: ZoneCalendar;
  readonly knownQueues: ReadonlySet<string>;
  /** [api] allow_unknown_queues: accept ratings for queues not in queues.toml. */
  readonly allowUnknownQueues: boolean;
  readonly minRatingsToRank: number;
  readonly defaultDays: number;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
  readonly now: () => Date;
  /** Called after a rating is stored through the API (metrics). */
  readonly onRatingStored?: (score: number) => void;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.infer<S> {
  if (where === 'query') {
    const repeated = Object.entries(value as Record<string, unknown>).find(([, given]) => Array.isArray(given));
    if (repeated) {
      const message = `${repeated[0]} is given more than once`;
      throw new HttpError(400, `invalid query: ${message}`, { issues: [{ path: repeated[0], message }] });
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

/** An answer as the API shows it: the call's own ids and the row id are already in the enclosing item. */
function answerOut(answer: Answer) {
  return {
    question_id: answer.question_id,
    kind: answer.kind,
    value: answer.value,
    digits: answer.digits,
    language: answer.language,
    answered_at: answer.answered_at,
    recording: answer.recording === null ? null : { name: answer.recording, duration_ms: answer.recording_ms ?? 0, format: answer.recording_format },
  };
}

/** Answers grouped by call, each call's in the order given. */
function byCall(answers: readonly Answer[]): Map<string, ReturnType<typeof answerOut>[]> {
  const grouped = new Map<string, ReturnType<typeof answerOut>[]>();
  for (const answer of answers) {
    let list = grouped.get(answer.call_id);
    if (!list) grouped.set(answer.call_id, (list = []));
    list.push(answerOut(answer));
  }
  return grouped;
}

const LISTED_QUEUES = 20;
// Reads of one answer tried again when a result-service run committed in the middle of them.
const SNAPSHOT_ATTEMPTS = 3;

function unknownQueue(queueId: string, known: ReadonlySet<string>): HttpError {
  const names = [...known].sort();
  const listed = names.slice(0, LISTED_QUEUES).map((name) => `"${name}"`).join(', ') + (names.length > LISTED_QUEUES ? `, ... (${names.length} in all)` : '');
  const message = `unknown queue "${queueId}": not in queues.toml (known: ${listed || 'none'})`;
  return new HttpError(400, `invalid body: queue_id: ${message}`, { issues: [{ path: 'queue_id', message }] });
}

// Longest span a single answer may cover: a day-by-day trend of two years, or ten years by week/month.
const MAX_DAYS = { day: 731, week: 3660, month: 3660 } as const;

/**
 * Read only after the key is checked: an unauthenticated client gets its 401 without the server
 * buffering, inflating or parsing what it sent. Bytes that are not UTF-8 are refused, not replaced.
 */
const jsonBody = express.json({
  limit: '16kb',
  strict: true,
  verify: (_req, _res, bytes) => {
    if (!isUtf8(bytes)) throw new HttpError(400, 'request body is not valid UTF-8');
  },
});

export function csatRoutes(deps: CsatRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const read = requireScope(deps.keyRing, deps.limiter, 'csat:read');
  const write = requireScope(deps.keyRing, deps.limiter, 'csat:write');

  const statsRange = (req: Request) => {
    const query = parse(StatsQuery, req.query, 'query');
    const today = deps.zone.currentDate(deps.now().getTime());
    const to = query.to ?? today;
    const from = query.from ?? addDays(to, -((query.days ?? deps.defaultDays) - 1));
    if (from > to) throw new HttpError(400, `invalid query: from ${from} is after to ${to}`, { issues: [{ path: 'from', message: 'from is after to' }] });
    const span = daysBetween(from, to) + 1;
    if (span > MAX_DAYS[query.period]) {
      throw new HttpError(400, `invalid query: ${span} days is more than ${MAX_DAYS[query.period]} for period=${query.period}`, {
        issues: [{ path: 'from', message: `range is at most ${MAX_DAYS[query.period]} days for period=${query.period}` }],
      });
    }
    return alignRange(query.period, from, to);
  };

  router.post('/cc/csat/:call_id', write, jsonBody, async (req, res) => {
    const { call_id } = parse(CallIdParams, req.params, 'path');
    if (!req.is('application/json')) throw new HttpError(415, 'Content-Type must be application/json');
    const body = parse(RatingBody, req.body, 'body');
    if (!deps.allowUnknownQueues && !deps.knownQueues.has(body.queue_id)) throw unknownQueue(body.queue_id, deps.knownQueues);
    const rating = {
      call_id,
      agent_id: body.agent_id,
      queue_id: body.queue_id,
      score: body.score,
      comment: body.comment ?? null,
      created_at: deps.now().toISOString(),
    };
    // Resolves only once the row is committed: the 201 below is never said for a write that may vanish.
    const result = await deps.ratings.insert(rating, 'API rating');
    if (!result.inserted) {
      throw new HttpError(409, `call ${call_id} is already rated`, { existing: result.existing });
    }
    deps.onRatingStored?.(result.rating.score);
    res.status(201).location(`/cc/csat/${encodeURIComponent(call_id)}`).json(result.rating);
  });

  router.get('/cc/csat/responses', read, async (req, res) => {
    const query = parse(ResponsesQuery, req.query, 'query');
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) {
      throw new HttpError(400, 'invalid query: cursor: not a valid cursor (pass next_cursor of the previous page as it is)', {
        issues: [{ path: 'cursor', message: 'not a valid cursor' }],
      });
    }
    const page = await deps.ratings.list(
      {
        agentId: query.agent_id,
        queueId: query.queue_id,
        fromIso: query.from === undefined ? undefined : new Date(deps.zone.startOfDay(query.from)).toISOString(),
        toIso: query.to === undefined ? undefined : new Date(deps.zone.startOfDay(addDays(query.to, 1))).toISOString(),
      },
      { limit: query.limit, offset: query.offset, after },
    );
    const last = page.items.at(-1);
    const next_cursor = last && page.items.length === query.limit ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
    // One read for the whole page's answers (a page is at most `limit` calls).
    const answers = byCall(await deps.answers.forCalls(page.items.map((item) => item.call_id)));
    const items = page.items.map((item) => ({ ...item, answers: answers.get(item.call_id) ?? [] }));
    res.json({ items, total: page.total, limit: query.limit, offset: query.offset, next_cursor });
  });

  const cache = new SnapshotCache();
  /**
   * Serves the answer for `key` at the current rollup snapshot, computing and caching it once. The
   * reads are not one transaction: a run that commits while they go on moves the snapshot version,
   * and the answer is computed again (runs are minutes apart: a second try all but always reads clean).
   */
  const answerFromSnapshot = async (res: Response, key: string, compute: (asOf: string | null) => Promise<unknown>): Promise<void> => {
    let snapshot = await deps.stats.snapshot();
    let answer = cache.get(key, snapshot.version);
    for (let attempt = 1; answer === undefined; attempt++) {
      const body = JSON.stringify(await compute(snapshot.asOf));
      const after = await deps.stats.snapshot();
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
  const statsKey = (kind: string, id: string, range: { period: string; from: string; to: string }): string =>
    [kind, id, range.period, range.from, range.to].join('\u0000');

  router.get('/cc/csat/agent/:agent_id', read, async (req, res) => {
    const { agent_id } = parse(AgentParams, req.params, 'path');
    const range = statsRange(req);
    await answerFromSnapshot(res, statsKey('agent', agent_id, range), (asOf) => deps.stats.agentStats(agent_id, range, deps.minRatingsToRank, asOf));
  });

  router.get('/cc/csat/queue/:queue_id', read, async (req, res) => {
    const { queue_id } = parse(QueueParams, req.params, 'path');
    const range = statsRange(req);
    await answerFromSnapshot(res, statsKey('queue', queue_id, range), async (asOf) => {
      const stats = await deps.stats.queueStats(queue_id, range, deps.minRatingsToRank, asOf);
      // A queue unknown to config and never rated is most likely a typo in the URL (the 404 is not cached).
      if (!deps.knownQueues.has(queue_id) && stats.count === 0 && stats.agent_ranking.length === 0 && !(await deps.stats.queueEverRated(queue_id))) {
        throw new HttpError(404, `unknown queue "${queue_id}"`);
      }
      return stats;
    });
  });

  router.get('/cc/csat/:call_id', read, async (req, res) => {
    const { call_id } = parse(CallIdParams, req.params, 'path');
    const [rating, answers] = await Promise.all([deps.ratings.findByCallId(call_id), deps.answers.forCalls([call_id])]);
    if (!rating && answers.length === 0) throw new HttpError(404, `no rating and no answer for call ${call_id}`);
    const shown = answers.map(answerOut);
    if (rating) {
      res.json({ ...rating, answers: shown });
      return;
    }
    // Answered without a headline csat question (an NPS-only survey): no cc_csat row.
    const { agent_id, queue_id } = answers[0]!;
    res.json({ id: null, call_id, agent_id, queue_id, score: null, comment: null, created_at: null, answers: shown });
  });

  return router;
}
