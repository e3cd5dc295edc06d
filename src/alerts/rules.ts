// Which alert rules an answer fires, and the delivery each one becomes: a row for the outbox, written
// in the same transaction as the answer (so an alert exists exactly when its answer does). Pure: the
// session hands in the call and the answers; nothing here touches a database or the network.
import type { AlertRule } from '../config/schema.js';
import type { AlertsConfig } from '../config/alerts.js';

export const ALERT_FIRED = 'alert.fired';

/** One delivery to put in the outbox (src/db/alert-outbox.ts inserts it). */
export interface FiredAlert {
  /** Stable for one rule, call and question: a retried write of the same answer adds nothing. */
  readonly idempotencyKey: string;
  readonly event: string;
  readonly destination: string;
  readonly callId: string;
  /** The JSON body, frozen now: what the receiver gets on every attempt. */
  readonly payload: string;
  readonly createdAt: string;
}

export interface AlertCall {
  readonly callId: string;
  readonly agentId: string;
  readonly queueId: string;
  readonly teamId: string | undefined;
  readonly ivr: string;
}

export interface AlertAnswer {
  readonly questionId: string;
  readonly kind: string;
  /** Undefined for a spoken comment. */
  readonly value: number | undefined;
}

type ThresholdRule = Extract<AlertRule, { type: 'answer' | 'abandoned' }>;

function crosses(rule: ThresholdRule, answer: AlertAnswer): boolean {
  if (answer.value === undefined) return false;
  if (rule.kind !== undefined ? answer.kind !== rule.kind : answer.questionId !== rule.question) return false;
  if (rule.at_most !== undefined) return answer.value <= rule.at_most;
  if (rule.at_least !== undefined) return answer.value >= rule.at_least;
  return answer.value === rule.equals;
}

function watches(config: AlertsConfig, rule: AlertRule, call: AlertCall): boolean {
  // A rule whose destination is not configured never fires (the config check refuses it; a reload may race).
  return config.destinations.has(rule.destination) && (!rule.queues || rule.queues.includes(call.queueId));
}

/** The alerts `answer` fires, given the answers the call gave before it (in order). */
export function alertsFor(config: AlertsConfig, call: AlertCall, answer: AlertAnswer, earlier: readonly AlertAnswer[], firedAt: Date): FiredAlert[] {
  const fired: FiredAlert[] = [];
  for (const rule of config.rules) {
    if (rule.type === 'abandoned' || !watches(config, rule, call)) continue;
    if (rule.type === 'comment' ? answer.kind !== 'comment' : !crosses(rule, answer)) continue;
    fired.push(firedAlert(config, rule, call, answer.questionId, answer, [...earlier, answer], firedAt));
  }
  return fired;
}

/**
 * The alerts a survey abandoned by the caller fires: rules of type "abandoned" whose threshold the
 * call's first answer crossed (csat <= 2, then the caller hung up before the end).
 */
export function abandonedAlertsFor(config: AlertsConfig, call: AlertCall, answers: readonly AlertAnswer[], firedAt: Date): FiredAlert[] {
  const first = answers[0];
  if (!first) return [];
  const fired: FiredAlert[] = [];
  for (const rule of config.rules) {
    if (rule.type !== 'abandoned' || !watches(config, rule, call) || !crosses(rule, first)) continue;
    fired.push(firedAlert(config, rule, call, 'abandoned', first, answers, firedAt));
  }
  return fired;
}

function firedAlert(config: AlertsConfig, rule: AlertRule, call: AlertCall, keyPart: string, answer: AlertAnswer, answers: readonly AlertAnswer[], firedAt: Date): FiredAlert {
  // Stable for one rule, call and question: a retried write of the same answer adds nothing.
  const idempotencyKey = `${ALERT_FIRED}:${rule.name}:${call.callId}:${keyPart}`;
  const recordingPath = `/cc/csat/${encodeURIComponent(call.callId)}/recording`;
  const body = {
    event: ALERT_FIRED,
    id: idempotencyKey,
    fired_at: firedAt.toISOString(),
    rule: { name: rule.name, type: rule.type },
    call: { call_id: call.callId, agent_id: call.agentId, queue_id: call.queueId, team_id: call.teamId ?? null, ivr: call.ivr },
    answer: answerOut(answer),
    answers: answers.map(answerOut),
    // Every answer list may hold a comment; the link lists the call's recordings (scope csat:recordings).
    recording_url: answers.some((given) => given.kind === 'comment') ? `${config.publicUrl ?? ''}${recordingPath}` : null,
  };
  return { idempotencyKey, event: ALERT_FIRED, destination: rule.destination, callId: call.callId, payload: JSON.stringify(body), createdAt: firedAt.toISOString() };
}

function answerOut(answer: AlertAnswer) {
  return { question_id: answer.questionId, kind: answer.kind, value: answer.value ?? null };
}
