// Who gets surveyed: the checks made before a caller is asked anything. Each refusal is a reason,
// recorded as a `skipped` outcome; the caller goes back to the dialplan.
import type { QueueConfig } from '../config/schema.js';
import type { RatingStore } from '../storage/ports.js';
import { invalidIdentity, type CallIdentity } from './identify.js';

export interface EligibilityFacts {
  readonly accepting: boolean;
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly ratings: RatingStore;
  /** This engine runs a survey for the same call on another channel right now. */
  readonly surveyedHereOnAnotherChannel: (callId: string) => boolean;
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
  if (facts.surveyedHereOnAnotherChannel(identity.callId)) return 'survey_in_progress';
  if (await facts.ratings.findByCallId(identity.callId)) return 'already_rated';
  return undefined;
}
