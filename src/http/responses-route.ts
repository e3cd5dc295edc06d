// GET /cc/csat/responses: the drilldown, individual rated calls newest first with their answers,
// filtered by who took the call, when, what was answered, how the survey ended and whether the caller
// left a comment. Pages by offset, or after a cursor (keyset) however deep.
import { Router, type Response } from 'express';
import { addDays, type ZoneCalendar } from '../results/zone.js';
import type { AnswerStore, RatingFilter, RatingStore } from '../storage/ports.js';
import { agentBinding, notOwnAgent, requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { callAnswersOut } from './answer-output.js';
import { answersByCall } from './answers-by-call.js';
import { HttpError } from './errors.js';
import { parse } from './parse-input.js';
import { ResponsesQuery } from './schemas.js';

/** A team as the drilldown needs it: its current members. */
export interface TeamMembers {
  readonly name: string;
  readonly agents: readonly string[];
}

export interface ResponsesRouteDeps {
  readonly ratings: Pick<RatingStore, 'list'>;
  readonly answers: Pick<AnswerStore, 'forCalls'>;
  readonly zone: ZoneCalendar;
  /** The teams now (config/teams.toml; a reload replaces them). */
  readonly teams: () => ReadonlyMap<string, TeamMembers>;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
}

/** The agents whose calls a subject covers: a team's members, or undefined (no team asked). */
export function teamAgents(teamId: string | undefined, teams: ReadonlyMap<string, TeamMembers>): readonly string[] | undefined {
  if (teamId === undefined) return undefined;
  const team = teams.get(teamId);
  if (!team) {
    const message = `unknown team "${teamId}": not in teams.toml`;
    throw new HttpError(400, `invalid query: team_id: ${message}`, { issues: [{ path: 'team_id', message }] });
  }
  return team.agents;
}

/**
 * An agent key reads its own agent's calls only: the agent filter is forced to it, and naming another
 * agent, a queue or a team is refused (the contract's rule for every agent-scoped route).
 */
export function ownAgentOnly(res: Response, asked: { agent_id?: string | undefined; queue_id?: string | undefined; team_id?: string | undefined }): string | undefined {
  const agent = agentBinding(res);
  if (agent === undefined) return asked.agent_id;
  if ((asked.agent_id !== undefined && asked.agent_id !== agent) || asked.queue_id !== undefined || asked.team_id !== undefined) throw notOwnAgent(res);
  return agent;
}

export function responsesRoutes(deps: ResponsesRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const read = requireScope(deps.keyRing, deps.limiter, 'csat:read');

  router.get('/cc/csat/responses', read, async (req, res) => {
    const query = parse(ResponsesQuery, req.query, 'query');
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) {
      throw new HttpError(400, 'invalid query: cursor: not a valid cursor (pass next_cursor of the previous page as it is)', {
        issues: [{ path: 'cursor', message: 'not a valid cursor' }],
      });
    }
    const agentId = ownAgentOnly(res, query);
    const filter: RatingFilter = {
      agentId,
      agentIds: teamAgents(query.team_id, deps.teams()),
      queueId: query.queue_id,
      fromIso: query.from === undefined ? undefined : new Date(deps.zone.startOfDay(query.from)).toISOString(),
      toIso: query.to === undefined ? undefined : new Date(deps.zone.startOfDay(addDays(query.to, 1))).toISOString(),
      questionId: query.question_id,
      minValue: query.min_value,
      maxValue: query.max_value,
      outcome: query.outcome,
      hasComment: query.has_comment,
    };
    const page = await deps.ratings.list(filter, { limit: query.limit, offset: query.offset, after });
    const last = page.items.at(-1);
    const next_cursor = last && page.items.length === query.limit ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
    // One read for the whole page's answers (a page is at most `limit` calls).
    const answers = answersByCall(await deps.answers.forCalls(page.items.map((item) => item.call_id)));
    const items = page.items.map((item) => ({ ...item, answers: callAnswersOut(answers.get(item.call_id) ?? []) }));
    res.json({ items, total: page.total, limit: query.limit, offset: query.offset, next_cursor });
  });

  return router;
}
