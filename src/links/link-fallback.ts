// Which survey endings get a rating link, and the two rows that make one: the survey_link row (its
// token hashed) and the survey.link delivery for the outbox, both written in the outcome's
// transaction. Pure: the controller hands in the call and how the survey ended.
import type { LinkFallbackConfig } from '../config/schema.js';
import type { SurveyOutcomeKind } from '../db/schema.js';
import type { NewSurveyLink } from '../db/schema.js';
import type { NewAlert } from '../storage/ports.js';
import { newLinkToken, tokenSha256 } from './tokens.js';

export const SURVEY_LINK = 'survey.link';
/** E.164-like: an optional "+" and 6 to 15 digits. */
const REACHABLE_NUMBER = /^\+?\d{6,15}$/;
/** The headline csat scale a link offers, one URL per score. */
const SCORES = [1, 2, 3, 4, 5] as const;

export interface LinkCall {
  readonly callId: string;
  readonly agentId: string;
  readonly queueId: string;
  readonly teamId: string | undefined;
  readonly ivr: string;
  /** The IVR's headline question, which the link answers. */
  readonly questionId: string;
  /** CALLERID(num): where the SMS goes. No number, no link. */
  readonly callerNumber: string | undefined;
}

export interface LinkEnding {
  readonly outcome: SurveyOutcomeKind;
  /** The headline rating was stored during the call. */
  readonly rated: boolean;
}

export interface SurveyLinkToSend {
  readonly link: NewSurveyLink;
  readonly delivery: NewAlert;
}

/** The link this ending gets, or undefined (rated, an ending not in `on`, no caller number). */
export function linkFor(config: LinkFallbackConfig, publicUrl: string, call: LinkCall, ending: LinkEnding, at: Date, token = newLinkToken()): SurveyLinkToSend | undefined {
  if (ending.rated || !config.on.includes(ending.outcome as (typeof config.on)[number])) return undefined;
  const callerNumber = reachableNumber(call.callerNumber);
  if (!callerNumber) return undefined;
  const createdAt = at.toISOString();
  const expiresAt = new Date(at.getTime() + config.link_expiry_days * 86_400_000).toISOString();
  const survey = `${publicUrl}/cc/csat/survey/${token}`;
  const idempotencyKey = `${SURVEY_LINK}:${call.callId}`;
  const body = {
    event: SURVEY_LINK,
    id: idempotencyKey,
    created_at: createdAt,
    expires_at: expiresAt,
    outcome: ending.outcome,
    call: { call_id: call.callId, agent_id: call.agentId, queue_id: call.queueId, team_id: call.teamId ?? null, ivr: call.ivr },
    caller_number: callerNumber,
    links: {
      survey,
      rate: Object.fromEntries(SCORES.map((score) => [String(score), `${publicUrl}/cc/csat/rate?token=${token}&rating=${score}`])),
    },
  };
  return {
    link: {
      token_sha256: tokenSha256(token),
      call_id: call.callId,
      agent_id: call.agentId,
      queue_id: call.queueId,
      ivr: call.ivr,
      question_id: call.questionId,
      status: 'pending',
      created_at: createdAt,
      expires_at: expiresAt,
    },
    delivery: { idempotencyKey, event: SURVEY_LINK, destination: config.destination, callId: call.callId, payload: JSON.stringify(body), createdAt },
  };
}

/**
 * A survey.link payload without what only its receiver may see (the token in the links, the caller
 * number): what the outbox keeps once it is delivered, and what the CLI and the API show.
 */
export function redactedLinkPayload(payload: string): string {
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    return JSON.stringify({ ...body, caller_number: '[redacted]', links: '[redacted]' });
  } catch {
    return JSON.stringify({ event: SURVEY_LINK, redacted: true });
  }
}

/**
 * The caller number as an SMS sender takes it (spaces, dashes, dots and brackets dropped), or
 * undefined when it cannot be one: "anonymous", "Restricted", an internal extension.
 */
export function reachableNumber(raw: string | undefined): string | undefined {
  const number = raw?.replace(/[\s().-]/g, '');
  return number && REACHABLE_NUMBER.test(number) ? number : undefined;
}

/** A survey.link delivery whose link has expired: texting it to the caller now would be useless. */
export function linkDeliveryExpired(event: string, payload: string, now: Date): boolean {
  if (event !== SURVEY_LINK) return false;
  try {
    const expiresAt = Date.parse(String((JSON.parse(payload) as { expires_at?: unknown }).expires_at));
    return Number.isFinite(expiresAt) && expiresAt <= now.getTime();
  } catch {
    return false;
  }
}

/** What redactedLinkPayload leaves in place of the links: how the outbox tells a redacted row. */
export const REDACTED_LINKS_MARK = '"links":"[redacted]"';
