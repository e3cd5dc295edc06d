import { identifierProblem } from '../identifiers.js';
import type { IncomingCall } from '../telephony/port.js';

export interface CallIdentity {
  readonly callId: string | undefined;
  readonly agentId: string | undefined;
  readonly queueId: string | undefined;
}

const FALLBACK_VARIABLES = ['CSAT_CALL_ID', 'CSAT_AGENT_ID', 'CSAT_QUEUE_ID'] as const;

const clean = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/**
 * Stasis(csat,${UNIQUEID},${MEMBERNAME},${QUEUENAME}) gives [call_id, agent_id, queue_id].
 * An arg that is missing or empty (a dialplan without setinterfacevar, say) falls back to the
 * channel variables CSAT_CALL_ID, CSAT_AGENT_ID, CSAT_QUEUE_ID.
 */
export async function identifyCall(call: IncomingCall): Promise<CallIdentity> {
  const values = await Promise.all(
    FALLBACK_VARIABLES.map(async (variable, index) => clean(call.args[index]) ?? clean(await call.channel.getVariable(variable))),
  );
  return { callId: values[0], agentId: values[1], queueId: values[2] };
}

/** What the StasisStart args alone say, without a request to Asterisk: for callers refused at the door. */
export function identityFromArgs(args: readonly string[]): CallIdentity {
  return { callId: clean(args[0]), agentId: clean(args[1]), queueId: clean(args[2]) };
}

/**
 * The skip reason for an identity that could not be stored or queried back (see src/identifiers.ts),
 * e.g. "invalid_agent_id: agent_id is at most 128 characters"; the problem names a character by its
 * code point and echoes no value but a reserved call id (a short, known word).
 */
export function invalidIdentity(identity: CallIdentity): string | undefined {
  const fields = [
    ['call_id', identity.callId],
    ['agent_id', identity.agentId],
    ['queue_id', identity.queueId],
  ] as const;
  for (const [what, value] of fields) {
    const problem = value === undefined ? undefined : identifierProblem(value, what);
    if (problem) return `invalid_${what}: ${problem}`;
  }
  return undefined;
}
