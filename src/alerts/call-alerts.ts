// One call's alert rules: the call's facts bound once (agent, queue, team, IVR), so the session asks
// only "what does this answer fire?" when it stores one.
import type { AlertsConfig } from '../config/alerts.js';
import type { Team } from '../config/teams.js';
import type { CollectedAnswer } from '../ivr/context.js';
import { abandonedAlertsFor, alertsFor, type AlertAnswer, type AlertCall, type FiredAlert } from './rules.js';

export class CallAlerts {
  constructor(
    private readonly config: AlertsConfig,
    private readonly call: AlertCall,
  ) {}

  /** The outbox rows `answer` fires, given the answers stored before it. */
  fire(answer: CollectedAnswer, earlier: readonly CollectedAnswer[], at: Date): FiredAlert[] {
    return alertsFor(this.config, this.call, alertAnswerOf(answer), earlier.map(alertAnswerOf), at);
  }

  /** The outbox rows a survey the caller abandoned fires, given the answers it stored. */
  abandoned(answers: readonly CollectedAnswer[], at: Date): FiredAlert[] {
    return abandonedAlertsFor(this.config, this.call, answers.map(alertAnswerOf), at);
  }
}

/** The first team (in teams.toml order) the agent is in. */
export function teamOf(teams: ReadonlyMap<string, Team>, agentId: string): string | undefined {
  for (const team of teams.values()) if (team.agents.includes(agentId)) return team.id;
  return undefined;
}

function alertAnswerOf(answer: CollectedAnswer): AlertAnswer {
  return { questionId: answer.question, kind: answer.kind, value: answer.kind === 'comment' ? undefined : answer.value };
}
