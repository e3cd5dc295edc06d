// Webhook signatures, the scheme Stripe and GitHub use: an HMAC-SHA256 of "<unix seconds>.<body>"
// under the destination's secret, sent with the timestamp so a receiver can refuse a replayed old
// delivery. The README's receiver example verifies exactly this.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-CSAT-Signature';
export const EVENT_HEADER = 'X-CSAT-Event';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

const DEFAULT_TOLERANCE_SECONDS = 300;
// A header is ours only if it is short: a receiver never parses an unbounded string from a stranger.
const MAX_HEADER_LENGTH = 1024;

function hmacHex(secret: string, body: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The X-CSAT-Signature value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function sign(secret: string, body: string, nowSeconds: number): string {
  const timestamp = Math.floor(nowSeconds);
  return `t=${timestamp},v1=${hmacHex(secret, body, timestamp)}`;
}

/**
 * Whether `header` signs `body` with `secret` at a time within `toleranceSeconds` of `nowSeconds`.
 * Several v1 entries may be present (a sender rotating its secret): one matching is enough. The
 * comparison takes the same time whatever the bytes, so a forger learns nothing from timing.
 */
export function verifySignature(secret: string, body: string, header: string | undefined, nowSeconds: number, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): boolean {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return false;
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, body, timestamp), 'hex');
  let matched = false;
  for (const candidate of candidates) {
    // Every candidate compared, match or not: no early exit to time.
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) matched = true;
  }
  return matched;
}

export interface SignedDelivery {
  readonly event: string;
  readonly idempotencyKey: string;
  readonly body: string;
}

/**
 * The headers of one delivery: the destination's own first, ours after them, so configuration can
 * never replace the signature, the event or the idempotency key (the config check refuses them too).
 */
export function deliveryHeaders(secret: string, extra: Readonly<Record<string, string>>, delivery: SignedDelivery, nowSeconds: number): Record<string, string> {
  const headers: Record<string, string> = {};
  const ours = new Set(['content-type', SIGNATURE_HEADER.toLowerCase(), EVENT_HEADER.toLowerCase(), IDEMPOTENCY_HEADER.toLowerCase()]);
  for (const [name, value] of Object.entries(extra)) if (!ours.has(name.toLowerCase())) headers[name] = value;
  headers['Content-Type'] = 'application/json';
  headers[EVENT_HEADER] = delivery.event;
  headers[IDEMPOTENCY_HEADER] = delivery.idempotencyKey;
  headers[SIGNATURE_HEADER] = sign(secret, delivery.body, nowSeconds);
  return headers;
}
