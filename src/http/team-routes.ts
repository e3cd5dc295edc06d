// GET /cc/csat/teams and /cc/csat/team/:team_id: teams as config/teams.toml names them now, and a
// team's statistics from its current members' rollups (membership is not historized: a reload moves
// an agent's whole past with them).
import { Router } from 'express';
import type { TeamsSource } from '../config/teams.js';
import { teamStats } from '../results/survey-stats-shape.js';
import type { ZoneCalendar } from '../results/zone.js';
import type { StatsStore, SurveyStatsStore } from '../storage/ports.js';
import { agentBinding, notOwnAgent, requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { HttpError } from './errors.js';
import { parse } from './parse-input.js';
import { TeamParams, StatsQuery } from './schemas.js';
import { snapshotAnswerer } from './snapshot-cache.js';
import { statsKey, statsRangeOf } from './stats-range.js';

export interface TeamRouteDeps {
  readonly teams: TeamsSource;
  readonly surveyStats: Pick<SurveyStatsStore, 'agentCsatRows'>;
  readonly stats: Pick<StatsStore, 'snapshot'>;
  readonly zone: ZoneCalendar;
  readonly minRatingsToRank: number;
  readonly defaultDays: number;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
  readonly now: () => Date;
}

export function teamRoutes(deps: TeamRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const read = requireScope(deps.keyRing, deps.limiter, 'csat:read');
  const answerFromSnapshot = snapshotAnswerer(deps.stats);

  router.get('/cc/csat/teams', read, (_req, res) => {
    // An agent key sees its own statistics only, not who works beside whom.
    if (agentBinding(res) !== undefined) throw notOwnAgent(res);
    const teams = [...deps.teams.current().values()].map((team) => ({ team_id: team.id, name: team.name, agents: team.agents }));
    res.json({ teams });
  });

  router.get('/cc/csat/team/:team_id', read, async (req, res) => {
    const { team_id } = parse(TeamParams, req.params, 'path');
    if (agentBinding(res) !== undefined) throw notOwnAgent(res);
    const range = statsRangeOf(parse(StatsQuery, req.query, 'query'), { zone: deps.zone, now: deps.now(), defaultDays: deps.defaultDays });
    const team = deps.teams.current().get(team_id);
    if (!team) throw new HttpError(404, `unknown team "${team_id}"`);
    const agents = [...new Set(team.agents)];
    // The members are part of what the answer is: a reload that changes them must not serve the cached one.
    await answerFromSnapshot(res, statsKey('team', team_id, range, team.name, ...agents), async (asOf) =>
      teamStats(team, agents.length === 0 ? [] : await deps.surveyStats.agentCsatRows(agents, range), range, deps.minRatingsToRank, asOf),
    );
  });

  return router;
}
