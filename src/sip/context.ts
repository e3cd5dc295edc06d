// The call's context as an INVITE carries it: headers (names from [sip.headers]) or, for PBXs that
// cannot add headers to a transfer, parameters of the request URI
// (sip:csat@front-door;call_id=...;agent_id=...;queue=...). Validated with zod before anything is
// looked up; the eligibility checks (src/survey/eligibility.ts) then decide as they do for Stasis.
import { z } from 'zod';
import type { SipConfig } from '../config/sip.js';
import { identifierProblem } from '../identifiers.js';
import type { CallIdentity } from '../survey/identify.js';

export interface CallContext {
  readonly identity: CallIdentity;
  /** The caller's talk time with the agent, when the PBX says (for queues with min_talk_seconds). */
  readonly talkSeconds: number | undefined;
}

/** Either the context, or why it is unusable (a skip reason, e.g. "no_queue_id" or "invalid_agent_id: ..."). */
export type ContextResult = { readonly ok: true; readonly context: CallContext } | { readonly ok: false; readonly reason: string; readonly callId: string | undefined };

export interface InviteView {
  get(name: string): string | undefined;
  readonly uri: string;
}

const identifier = (what: string) =>
  z
    .string()
    .trim()
    .min(1)
    .optional()
    .superRefine((value, ctx) => {
      const problem = value === undefined ? undefined : identifierProblem(value, what);
      if (problem) ctx.addIssue({ code: 'custom', message: `invalid_${what}: ${problem}` });
    });

const ContextSchema = z.object({
  call_id: identifier('call_id'),
  agent_id: identifier('agent_id'),
  queue_id: identifier('queue_id'),
  talk_seconds: z
    .string()
    .trim()
    .regex(/^\d{1,7}$/, 'invalid_talk_seconds: must be a whole number of seconds')
    .transform(Number)
    .optional(),
});

const URI_PARAMETERS = { call_id: 'call_id', agent_id: 'agent_id', queue_id: 'queue', talk_seconds: 'talk_seconds' } as const;

export function callContextOf(invite: InviteView, headers: SipConfig['headers']): ContextResult {
  const params = uriParameters(invite.uri);
  const headerFor = { call_id: headers.call_id, agent_id: headers.agent_id, queue_id: headers.queue, talk_seconds: headers.talk_seconds } as const;
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(headerFor) as Array<keyof typeof headerFor>) {
    // An empty header or parameter is as good as none: "no_call_id", not a puzzle about empty strings.
    raw[key] = invite.get(headerFor[key])?.trim() || params.get(URI_PARAMETERS[key])?.trim() || undefined;
  }
  const parsed = ContextSchema.safeParse(raw);
  if (!parsed.success) {
    // The call id is kept for the outcome row unless it is what failed.
    const callIdFailed = parsed.error.issues.some((issue) => issue.path[0] === 'call_id');
    return { ok: false, reason: parsed.error.issues[0]!.message, callId: callIdFailed ? undefined : raw['call_id'] };
  }
  const { call_id, agent_id, queue_id, talk_seconds } = parsed.data;
  return { ok: true, context: { identity: { callId: call_id, agentId: agent_id, queueId: queue_id }, talkSeconds: talk_seconds } };
}

/** ;name=value parameters of a SIP URI (after the host), percent-decoded; a value that does not decode is left out. */
export function uriParameters(uri: string): Map<string, string> {
  const params = new Map<string, string>();
  // Headers (?...) are not parameters; the user part may contain ';' too, so start after '@' when there is one.
  const withoutHeaders = uri.split('?')[0] ?? '';
  const hostPart = withoutHeaders.slice(withoutHeaders.lastIndexOf('@') + 1);
  for (const part of hostPart.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      params.set(part.slice(0, eq).trim().toLowerCase(), decodeURIComponent(part.slice(eq + 1)));
    } catch {
      // Malformed percent-encoding: as if absent (the header, if any, or "missing" then).
    }
  }
  return params;
}
