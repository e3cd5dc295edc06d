-- The alert outbox (issue 14): one row per webhook delivery of an alert, written in the same
-- transaction as the answer that fired it, so an alert exists exactly when its answer does. The
-- delivery worker (src/alerts/delivery.ts) POSTs it until the receiver takes it ('delivered') or
-- [alerts] max_age_hours runs out ('dead', a dead letter an operator may send again).
-- idempotency_key is sent on every attempt: a receiver that got a delivery twice (at-least-once: an
-- engine killed after the POST and before marking it) drops the repeat by it.
-- payload is the JSON body, frozen when the alert fired: every attempt sends the same bytes.
-- last_error is ours, short and bounded ('HTTP 500', 'timeout after 5000 ms'), never a response body.
-- lease_owner/lease_until: the engine delivering it now; another engine takes it once the lease has
-- run out (its owner died mid-delivery). Times are ISO-8601 UTC text with milliseconds.
CREATE TABLE alert_outbox (
  id              INTEGER PRIMARY KEY,
  idempotency_key TEXT    NOT NULL UNIQUE,
  event           TEXT    NOT NULL,
  destination     TEXT    NOT NULL,
  call_id         TEXT,
  payload         TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at      TEXT    NOT NULL,
  next_attempt_at TEXT,
  last_attempt_at TEXT,
  delivered_at    TEXT,
  dead_at         TEXT,
  last_error      TEXT    CHECK (last_error IS NULL OR length(last_error) <= 200),
  lease_owner     TEXT,
  lease_until     TEXT
);

-- The worker's one question, every poll: which pending deliveries are due. Pending rows are few
-- (delivered ones are purged after [alerts] keep_delivered_days), so the index holds only them.
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE status = 'pending';

-- The dead-letter list and its counts, without reading every delivered row.
CREATE INDEX alert_outbox_dead ON alert_outbox (id) WHERE status = 'dead';

-- The purge of delivered rows past [alerts] keep_delivered_days, oldest first.
CREATE INDEX alert_outbox_delivered ON alert_outbox (delivered_at) WHERE status = 'delivered';
