// How long the caller talked with the agent (min_talk_seconds), as the dialplan measured it after
// Queue() returned: a 4th Stasis arg, or the channel variable CSAT_TALK_SECONDS (README "Who gets
// surveyed"). ARI itself cannot tell: the channel in Stasis is the caller's, and its creation time
// includes ringing and waiting in the queue.
import type { IncomingCall } from '../telephony/port.js';

export const TALK_SECONDS_VARIABLE = 'CSAT_TALK_SECONDS';

/** Seconds as the dialplan writes them ("42", "42.318"); anything else (empty, negative, text) is unknown. */
export function parseTalkSeconds(value: string | undefined): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed || !/^\d{1,9}(\.\d+)?$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** The 4th Stasis arg, else the channel variable (one request to Asterisk; only asked when a queue needs it). */
export async function talkSecondsOf(call: IncomingCall): Promise<number | undefined> {
  return parseTalkSeconds(call.args[3]) ?? parseTalkSeconds(await call.channel.getVariable(TALK_SECONDS_VARIABLE));
}
