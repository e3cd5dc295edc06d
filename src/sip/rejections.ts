// What the front door answers when it does not relay a caller: a status the PBX can act on, and
// the reason in words in a Warning (RFC 3261 20.43, code 399: miscellaneous) and a Reason header
// (RFC 3326), so the PBX's logs say why without anyone reading ours.

export interface Rejection {
  readonly status: number;
  /** The reason phrase of the status line. */
  readonly phrase: string;
  /** Why, for the Warning and Reason headers: a skip reason ("already_rated") or a sentence. */
  readonly why: string;
  /** Seconds for Retry-After (503 only). */
  readonly retryAfterSeconds?: number;
}

// The checks of src/survey/eligibility.ts that mean "this call gets no survey", whoever asks again.
const NOT_SURVEYED = new Set([
  'csat_disabled',
  'agent_excluded',
  'not_sampled',
  'talk_time_unknown',
  'talk_too_short',
  'survey_in_progress',
  'already_rated',
  'already_answered',
  'recently_surveyed',
]);

/** The answer to a call the eligibility checks (or the context's validation) refused. */
export function rejectionFor(reason: string, retryAfterSeconds: number): Rejection {
  if (reason === 'unknown_queue') return { status: 404, phrase: 'Not Found', why: 'unknown_queue: the queue is not in queues.toml' };
  if (reason === 'shutting_down') return { status: 503, phrase: 'Service Unavailable', why: 'shutting_down: this engine takes no new callers', retryAfterSeconds };
  if (NOT_SURVEYED.has(reason)) return { status: 403, phrase: 'Forbidden', why: reason };
  // no_call_id, no_queue_id, no_agent_id, invalid_*: the INVITE itself is wrong.
  return { status: 400, phrase: 'Bad Request', why: missingHeaderWords(reason) };
}

function missingHeaderWords(reason: string): string {
  switch (reason) {
    case 'no_call_id':
      return 'no_call_id: the call id header (or call_id URI parameter) is missing';
    case 'no_queue_id':
      return 'no_queue_id: the queue header (or queue URI parameter) is missing';
    case 'no_agent_id':
      return 'no_agent_id: the agent id header (or agent_id URI parameter) is missing';
    default:
      return reason;
  }
}

/** Warning and Reason headers for `rejection`; `agent` is the Warning's warn-agent (our host). */
export function rejectionHeaders(rejection: Rejection, agent: string): Record<string, string> {
  // A quoted-string may not hold '"' or '\' unescaped, nor line breaks (the reasons never have them, but be sure).
  const text = rejection.why.replace(/[\\"]/g, "'").replace(/[\r\n]+/g, ' ').slice(0, 200);
  return {
    Warning: `399 ${agent} "${text}"`,
    Reason: `SIP ;cause=${rejection.status} ;text="${text}"`,
    ...(rejection.retryAfterSeconds !== undefined && { 'Retry-After': String(rejection.retryAfterSeconds) }),
  };
}

/** The metrics' `result` label: a closed set, whatever a peer sends. */
export const INVITE_RESULTS = ['relayed', 'forbidden', 'challenged', 'bad_request', 'unknown_queue', 'not_surveyed', 'unavailable', 'cancelled', 'failed'] as const;
export type InviteResult = (typeof INVITE_RESULTS)[number];

export function resultOf(rejection: Rejection): InviteResult {
  if (rejection.status === 404) return 'unknown_queue';
  if (rejection.status === 503) return 'unavailable';
  if (rejection.status === 403) return 'not_surveyed';
  return 'bad_request';
}
