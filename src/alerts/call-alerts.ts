// One call's alert rules: the call's facts bound once (agent, queue, team, IVR), so the session asks
// only "what does this answer fire?" when it stores one.
import type { AlertsConfig } from '../config/alerts.js';
import type { TeamsSource } from '../config/teams.js';
import type { CollectedAnswer } from '../ivr/context.js';
import { abandonedAlertsFor, alertsFor, type AlertAnswer, type AlertCall, type FiredAlert } from './rules.js';

/** The alert rules, and where the team in an alert is read (teams.toml as loaded now). */
export interface AlertRules {
  readonly config: AlertsConfig;
  readonly teams?: TeamsSource | undefined;
}

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

/** The first team (in teams.toml order) the agent is in; none without teams. */
export function teamOf(rules: AlertRules | undefined, agentId: string): string | undefined {
  for (const team of rules?.teams?.current().values() ?? []) if (team.agents.includes(agentId)) return team.id;
  return undefined;
}

/**
 * What one answer stored on its own fires (a rating by link, feedback from another channel): no
 * earlier answers of a survey to weigh. None without rules.
 */
export function loneAnswerAlerts(rules: AlertRules | undefined, call: Omit<AlertCall, 'teamId'>, answer: AlertAnswer, at: Date): FiredAlert[] {
  if (!rules || rules.config.rules.length === 0) return [];
  return alertsFor(rules.config, { ...call, teamId: teamOf(rules, call.agentId) }, answer, [], at);
}

function alertAnswerOf(answer: CollectedAnswer): AlertAnswer {
  return { questionId: answer.question, kind: answer.kind, value: answer.kind === 'comment' ? undefined : answer.value };
}
