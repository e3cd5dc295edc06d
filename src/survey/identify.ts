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
