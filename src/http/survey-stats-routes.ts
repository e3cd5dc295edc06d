// GET /cc/csat/questions and /cc/csat/funnel: every survey question's answers and how surveys ended,
// for a queue, an agent, a team (its current members) or the whole contact center.
import { createHash } from 'node:crypto';
import { Router, type Response } from 'express';
import { valueBounds } from '../config/questions.js';
import type { Ivr } from '../config/schema.js';
import type { TeamsSource } from '../config/teams.js';
import { funnel, questionStats, type ScaleRanges } from '../results/survey-stats-shape.js';
import type { ZoneCalendar } from '../results/zone.js';
import type { StatsStore, SurveyStatsStore, SurveySubject } from '../storage/ports.js';
import { agentBinding, notOwnAgent, requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { HttpError } from './errors.js';
import { parse } from './parse-input.js';
import { FunnelQuery, QuestionsQuery } from './schemas.js';
import { snapshotAnswerer } from './snapshot-cache.js';
import { statsKey, statsRangeOf } from './stats-range.js';

export interface SurveyStatsRouteDeps {
  readonly teams: TeamsSource;
  readonly surveyStats: SurveyStatsStore;
  readonly stats: Pick<StatsStore, 'snapshot'>;
  readonly zone: ZoneCalendar;
  readonly defaultDays: number;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
  readonly now: () => Date;
  /** The IVRs as loaded now (they follow reloads): a scale question's distribution lists its configured values. */
  readonly ivrs: () => ReadonlyMap<string, Ivr>;
}

/** Scale questions' configured values by question id (over every IVR asking it), and a tag naming that set. */
function scaleRangesOf(ivrs: ReadonlyMap<string, Ivr>): { ranges: ScaleRanges; tag: string } {
  const ranges = new Map<string, { min: number; max: number }>();
  for (const ivr of ivrs.values()) {
    for (const step of ivr.step) {
      if (step.type !== 'collect' || step.kind !== 'scale') continue;
      const bounds = valueBounds(step);
      const known = ranges.get(step.id);
      ranges.set(step.id, known ? { min: Math.min(known.min, bounds.min), max: Math.max(known.max, bounds.max) } : bounds);
    }
  }
  const listed = [...ranges].sort(([a], [b]) => (a < b ? -1 : 1));
  return { ranges, tag: createHash('sha1').update(JSON.stringify(listed)).digest('base64') };
}

interface SubjectQuery {
  readonly queue_id?: string | undefined;
  readonly agent_id?: string | undefined;
  readonly team_id?: string | undefined;
}

/** Whose rows to read, what the answer echoes, and the cache key part naming them. */
interface Resolved {
  readonly subject: SurveySubject;
  readonly echo: { queue_id?: string; agent_id?: string; team_id?: string };
  readonly key: string[];
  /** A team without members: nothing to read. */
  readonly empty: boolean;
}

export function surveyStatsRoutes(deps: SurveyStatsRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const read = requireScope(deps.keyRing, deps.limiter, 'csat:read');
  const answerFromSnapshot = snapshotAnswerer(deps.stats);
  // Worked out once per loaded set of IVRs (a reload swaps the map).
  let scales: { ivrs: ReadonlyMap<string, Ivr>; ranges: ScaleRanges; tag: string } | undefined;
  const currentScales = (): { ranges: ScaleRanges; tag: string } => {
    const ivrs = deps.ivrs();
    if (scales?.ivrs !== ivrs) scales = { ivrs, ...scaleRangesOf(ivrs) };
    return scales;
  };

  const resolve = (res: Response, query: SubjectQuery): Resolved => {
    const agent = agentBinding(res);
    // An agent key reads its own agent's figures, and must say so: a wider question is refused, not narrowed silently.
    if (agent !== undefined && query.agent_id !== agent) throw notOwnAgent(res);
    if (query.queue_id !== undefined) return { subject: { queueId: query.queue_id }, echo: { queue_id: query.queue_id }, key: ['queue', query.queue_id], empty: false };
    if (query.agent_id !== undefined) return { subject: { agentIds: [query.agent_id] }, echo: { agent_id: query.agent_id }, key: ['agent', query.agent_id], empty: false };
    if (query.team_id !== undefined) {
      const team = deps.teams.current().get(query.team_id);
      if (!team) throw new HttpError(404, `unknown team "${query.team_id}"`);
      const agents = [...new Set(team.agents)];
      return { subject: { agentIds: agents }, echo: { team_id: team.id }, key: ['team', team.id, ...agents], empty: agents.length === 0 };
    }
    return { subject: {}, echo: {}, key: ['all'], empty: false };
  };

  router.get('/cc/csat/questions', read, async (req, res) => {
    const query = parse(QuestionsQuery, req.query, 'query');
    const who = resolve(res, query);
    const range = statsRangeOf(query, { zone: deps.zone, now: deps.now(), defaultDays: deps.defaultDays });
    const { ranges, tag } = currentScales();
    // The configured scales are part of the answer: a reload that changes one must not serve the cached one.
    await answerFromSnapshot(res, statsKey('questions', query.question_id ?? '', range, tag, query.source ?? '', ...who.key), async (asOf) => {
      const rows = who.empty ? [] : await deps.surveyStats.answerRows(who.subject, range, query.question_id, query.source);
      return { ...who.echo, ...(query.source !== undefined && { source: query.source }), period: range.period, from: range.from, to: range.to, as_of: asOf, questions: questionStats(rows, range, ranges) };
    });
  });

  router.get('/cc/csat/funnel', read, async (req, res) => {
    const query = parse(FunnelQuery, req.query, 'query');
    const who = resolve(res, query);
    const range = statsRangeOf(query, { zone: deps.zone, now: deps.now(), defaultDays: deps.defaultDays });
    await answerFromSnapshot(res, statsKey('funnel', '', range, ...who.key), async (asOf) => {
      const rows = who.empty ? [] : await deps.surveyStats.outcomeRows(who.subject, range);
      return { ...who.echo, period: range.period, from: range.from, to: range.to, as_of: asOf, ...funnel(rows, range) };
    });
  });

  return router;
}
