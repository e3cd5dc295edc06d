// One outbox row as the CLI and GET /cc/csat/alerts show it: snake_case like the rest of the API,
// without the lease (an engine's internals). The payload is not here: callers add shownPayload where
// the reader may see caller data (cc-csat alerts show, the admin-only API).
import { redactedLinkPayload, SURVEY_LINK } from '../links/link-fallback.js';
import type { AlertRecord } from '../storage/ports.js';

/** The payload as an operator may see it: a rating link's token and caller number never. */
export function shownPayload(row: AlertRecord): unknown {
  return JSON.parse(row.event === SURVEY_LINK ? redactedLinkPayload(row.payload) : row.payload) as unknown;
}

export function alertOut(row: AlertRecord) {
  return {
    id: row.id,
    status: row.status,
    event: row.event,
    destination: row.destination,
    call_id: row.callId,
    idempotency_key: row.idempotencyKey,
    attempts: row.attempts,
    created_at: row.createdAt,
    next_attempt_at: row.nextAttemptAt,
    last_attempt_at: row.lastAttemptAt,
    delivered_at: row.deliveredAt,
    dead_at: row.deadAt,
    last_error: row.lastError,
  };
}
