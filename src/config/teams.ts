// config/teams.toml: named groups of agents for team statistics. Membership is read, never stored:
// a team's statistics use its current members for every period (retroactive), and a reload
// (SIGHUP, file change, `cc-csat reload`) swaps the whole set at once for the API.
import { z } from 'zod';
import { identifierProblem } from '../identifiers.js';

// A team id is a path segment (/cc/csat/team/<id>): a plain word needs no escaping anywhere.
const TEAM_ID = /^[A-Za-z0-9_.-]{1,64}$/;

const TeamSchema = z.strictObject({
  id: z.string().regex(TEAM_ID, 'must be 1 to 64 letters, digits, ".", "_" or "-" (it is part of the URL /cc/csat/team/<id>)'),
  name: z.string().trim().min(1, 'must not be empty').optional(),
  // Agent ids as Asterisk's MEMBERNAME gives them; an agent never rated is simply empty in the stats.
  agents: z
    .array(
      z.string().superRefine((value, ctx) => {
        const problem = identifierProblem(value, 'agent');
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    )
    .default([]),
});

export const TeamsFileSchema = z
  .strictObject({
    team: z.array(TeamSchema).default([]),
  })
  .superRefine((file, ctx) => {
    const firstById = new Map<string, number>();
    file.team.forEach((team, index) => {
      const earlier = firstById.get(team.id);
      if (earlier === undefined) firstById.set(team.id, index);
      else ctx.addIssue({ code: 'custom', path: ['team', index, 'id'], message: `duplicate team "${team.id}" (first defined at team[${earlier}])` });
      const twice = team.agents.find((agent, i) => team.agents.indexOf(agent) !== i);
      if (twice !== undefined) ctx.addIssue({ code: 'custom', path: ['team', index, 'agents'], message: `lists agent "${twice}" twice` });
    });
  });

export interface Team {
  readonly id: string;
  /** Defaults to the id. */
  readonly name: string;
  readonly agents: readonly string[];
}

/** Teams by id, in file order. */
export function teamsOf(file: { readonly team: ReadonlyArray<z.infer<typeof TeamsFileSchema>['team'][number]> }): ReadonlyMap<string, Team> {
  return new Map(file.team.map((team) => [team.id, { id: team.id, name: team.name ?? team.id, agents: team.agents }]));
}

export interface TeamsSource {
  current(): ReadonlyMap<string, Team>;
}

/** The teams the API answers with now; a config reload replaces them. */
export class TeamsHolder implements TeamsSource {
  constructor(private teams: ReadonlyMap<string, Team>) {}

  current(): ReadonlyMap<string, Team> {
    return this.teams;
  }

  replace(next: ReadonlyMap<string, Team>): void {
    this.teams = next;
  }
}
