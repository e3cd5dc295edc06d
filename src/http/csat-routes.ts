// /cc/csat: ratings in (POST, one per call) and statistics out (from the result service's rollups).
import { isUtf8 } from 'node:buffer';
import express, { Router, type Request, type Response } from 'express';
import { withCsatFigures } from '../results/survey-stats-shape.js';
import type { ZoneCalendar } from '../results/zone.js';
import type { AnswerStore, RatingStore, StatsStore } from '../storage/ports.js';
import { callAnswersOut } from './answer-output.js';
import { agentBinding, notOwnAgent, requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { HttpError } from './errors.js';
import { parse } from './parse-input.js';
import { snapshotAnswerer } from './snapshot-cache.js';
import { statsKey, statsRangeOf } from './stats-range.js';
import { AgentParams, CallIdParams, QueueParams, RatingBody, StatsQuery } from './schemas.js';

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

const LISTED_QUEUES = 20;

export function unknownQueue(queueId: string, known: ReadonlySet<string>): HttpError {
  const names = [...known].sort();
  const listed = names.slice(0, LISTED_QUEUES).map((name) => `"${name}"`).join(', ') + (names.length > LISTED_QUEUES ? `, ... (${names.length} in all)` : '');
  const message = `unknown queue "${queueId}": not in queues.toml (known: ${listed || 'none'})`;
  return new HttpError(400, `invalid body: queue_id: ${message}`, { issues: [{ path: 'queue_id', message }] });
}

/**
 * Read only after the key is checked: an unauthenticated client gets its 401 without the server
 * buffering, inflating or parsing what it sent. Bytes that are not UTF-8 are refused, not replaced.
 */
export const jsonBody = express.json({
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

  const statsRange = (req: Request) =>
    statsRangeOf(parse(StatsQuery, req.query, 'query'), { zone: deps.zone, now: deps.now(), defaultDays: deps.defaultDays });

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

  const answerFromSnapshot = snapshotAnswerer(deps.stats);

  router.get('/cc/csat/agent/:agent_id', read, async (req, res) => {
    const { agent_id } = parse(AgentParams, req.params, 'path');
    const bound = agentBinding(res);
    if (bound !== undefined && bound !== agent_id) throw notOwnAgent(res);
    const range = statsRange(req);
    await answerFromSnapshot(res, statsKey('agent', agent_id, range), async (asOf) => withCsatFigures(await deps.stats.agentStats(agent_id, range, deps.minRatingsToRank, asOf)));
  });

  router.get('/cc/csat/queue/:queue_id', read, async (req, res) => {
    const { queue_id } = parse(QueueParams, req.params, 'path');
    // A queue's figures and ranking are about other agents too.
    if (agentBinding(res) !== undefined) throw notOwnAgent(res);
    const range = statsRange(req);
    await answerFromSnapshot(res, statsKey('queue', queue_id, range), async (asOf) => {
      const stats = await deps.stats.queueStats(queue_id, range, deps.minRatingsToRank, asOf);
      // A queue unknown to config and never rated is most likely a typo in the URL (the 404 is not cached).
      if (!deps.knownQueues.has(queue_id) && stats.count === 0 && stats.agent_ranking.length === 0 && !(await deps.stats.queueEverRated(queue_id))) {
        throw new HttpError(404, `unknown queue "${queue_id}"`);
      }
      return withCsatFigures(stats);
    });
  });

  router.get('/cc/csat/:call_id', read, async (req, res) => {
    const { call_id } = parse(CallIdParams, req.params, 'path');
    const [rating, answers] = await Promise.all([deps.ratings.findByCallId(call_id), deps.answers.forCalls([call_id])]);
    const bound = agentBinding(res);
    // Another agent's call is answered exactly as a call never rated: an agent key learns nothing of it.
    const owner = rating?.agent_id ?? answers[0]?.agent_id;
    if ((!rating && answers.length === 0) || (bound !== undefined && owner !== bound)) throw new HttpError(404, `no rating and no answer for call ${call_id}`);
    const shown = callAnswersOut(answers);
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
