// One outbox row as the CLI and GET /cc/csat/alerts show it: snake_case like the rest of the API,
// without the lease (an engine's internals). The payload is not here: callers add it where the
// reader may see caller data (cc-csat alerts show, the admin-only API).
import type { AlertRecord } from '../storage/ports.js';

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
