// Who gets surveyed: the checks made before a caller is asked anything. Each refusal is a reason,
// recorded as a `skipped` outcome; the caller goes back to the dialplan.
import type { QueueConfig } from '../config/schema.js';
import type { AnswerStore, RatingStore, SurveyedCallerStore } from '../storage/ports.js';
import { callerNumberForHash, hashCallerNumber } from './caller-hash.js';
import { invalidIdentity, type CallIdentity } from './identify.js';
import { sampledIn } from './sampling.js';

export interface EligibilityFacts {
  readonly accepting: boolean;
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly ratings: RatingStore;
  /** Without it (a caller of skipReason that has none) a call answered without a rating is not looked for. */
  readonly answers?: AnswerStore | undefined;
  /** This engine runs a survey for the same call on another channel right now. */
  readonly surveyedHereOnAnotherChannel: (callId: string) => boolean;
  /**
   * The caller's talk time with the agent, in seconds, as the dialplan measured it; undefined when
   * it did not say. Asked only of queues with min_talk_seconds (it may cost a request to Asterisk).
   */
  readonly talkSeconds: () => Promise<number | undefined>;
}

/** Why this call gets no survey, or undefined when it gets one. Checks that cost nothing go first. */
export async function skipReason(identity: CallIdentity, facts: EligibilityFacts): Promise<string | undefined> {
  if (!identity.callId) return 'no_call_id';
  if (!facts.accepting) return 'shutting_down';
  if (!identity.queueId) return 'no_queue_id';
  const queue = facts.queues.get(identity.queueId);
  if (!queue) return 'unknown_queue';
  if (!queue.after_call.csat_enabled) return 'csat_disabled';
  if (!identity.agentId) return 'no_agent_id';
  // Checked before the caller is asked anything: an id that cannot be stored must not cost a pressed key.
  const invalid = invalidIdentity(identity);
  if (invalid) return invalid;
  const rules = queue.after_call;
  if (rules.exclude_agents.includes(identity.agentId)) return 'agent_excluded';
  if (!sampledIn(identity.callId, rules.sample_percent)) return 'not_sampled';
  if (rules.min_talk_seconds !== undefined) {
    const talked = await facts.talkSeconds();
    // Not knowing is not a yes: the setting asks for callers known to have talked that long.
    if (talked === undefined) return 'talk_time_unknown';
    if (talked < rules.min_talk_seconds) return 'talk_too_short';
  }
  if (facts.surveyedHereOnAnotherChannel(identity.callId)) return 'survey_in_progress';
  if (await facts.ratings.findByCallId(identity.callId)) return 'already_rated';
  // A survey without a headline question (or whose headline was skipped) leaves answers but no
  // rating: the same call back in Stasis (a dialplan loop) is not surveyed twice either.
  if (facts.answers && (await facts.answers.forCalls([identity.callId])).length > 0) return 'already_answered';
  return undefined;
}

export interface ResurveyFacts {
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly store: SurveyedCallerStore | undefined;
  /** [survey] caller_hash_key_env's key; the config refuses a queue with resurvey_after_hours without one. */
  readonly hashKey: string | undefined;
  readonly now: Date;
}

const HOUR_MS = 3_600_000;

/**
 * The last check, made once every other one said yes: the caller counts as surveyed from here on
 * (the survey is offered), whether they answer, decline or hang up on it. 'recently_surveyed' when
 * the same number was offered a survey within the queue's resurvey_after_hours. A caller without a
 * usable number (withheld, anonymous) is surveyed and not remembered.
 */
export async function resurveyReason(queue: QueueConfig, callId: string, callerNumber: string | undefined, facts: ResurveyFacts): Promise<'recently_surveyed' | undefined> {
  const hours = queue.after_call.resurvey_after_hours;
  const number = callerNumberForHash(callerNumber);
  if (hours === undefined || number === undefined || !facts.store || !facts.hashKey) return undefined;
  const fresh = await facts.store.markSurveyed({
    callerHash: hashCallerNumber(facts.hashKey, number),
    callId,
    at: facts.now,
    windowMs: hours * HOUR_MS,
    keepMs: longestResurveyHours(facts.queues, hours) * HOUR_MS,
  });
  return fresh ? undefined : 'recently_surveyed';
}

function longestResurveyHours(queues: ReadonlyMap<string, QueueConfig>, atLeast: number): number {
  let longest = atLeast;
  for (const queue of queues.values()) longest = Math.max(longest, queue.after_call.resurvey_after_hours ?? 0);
  return longest;
}

/**
 * Skip reasons as a metric label: a fixed set. Reasons that carry detail (invalid_agent_id: ...)
 * are folded to their kind, anything unforeseen to "other", so no caller can add a series.
 */
export const SKIP_REASON_LABELS = [
  'no_call_id',
  'shutting_down',
  'no_queue_id',
  'unknown_queue',
  'csat_disabled',
  'no_agent_id',
  'invalid_identity',
  'agent_excluded',
  'not_sampled',
  'talk_time_unknown',
  'talk_too_short',
  'survey_in_progress',
  'already_rated',
  'already_answered',
  'max_duration_spent_waiting',
  'recently_surveyed',
  'overloaded',
  'other',
] as const;
export type SkipReasonLabel = (typeof SKIP_REASON_LABELS)[number];

export function skipReasonLabel(reason: string | null | undefined): SkipReasonLabel {
  if (!reason) return 'other';
  if (/^invalid_(call|agent|queue)_id\b/.test(reason)) return 'invalid_identity';
  return (SKIP_REASON_LABELS as readonly string[]).includes(reason) ? (reason as SkipReasonLabel) : 'other';
}
