// Repository for alert_outbox, the durable queue of webhook deliveries of alerts: free functions taking
// `db` first; transactions belong to the caller (insertAlerts runs inside the answer's transaction).
// The same SQL on SQLite and PostgreSQL, but for FOR UPDATE SKIP LOCKED (PostgreSQL only: SQLite has
// one writer, so two claims never interleave there).
import type { Kysely, Selectable } from 'kysely';
import type { AlertBacklog, AlertCounts, AlertListFilter, AlertRecord, NewAlert } from '../storage/ports.js';

export type { NewAlert } from '../storage/ports.js';
import type { AlertOutboxTable, Database } from './schema.js';

/** The schema's CHECK on last_error: an error text that grew (a long hostname) must not fail the mark. */
export const MAX_ALERT_ERROR_LENGTH = 200;

export function boundedAlertError(error: string): string {
  return error.length <= MAX_ALERT_ERROR_LENGTH ? error : `${error.slice(0, MAX_ALERT_ERROR_LENGTH - 1)}…`;
}

/**
 * Queues the deliveries as 'pending', due at once. A row whose idempotency key is already there (the
 * same answer written again after a retried commit) is left as it is: never queued twice. Opens no
 * transaction: the caller's answer and its alerts commit together or not at all.
 */
export async function insertAlerts(db: Kysely<Database>, rows: readonly NewAlert[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('alert_outbox')
    .values(
      rows.map((row) => ({
        idempotency_key: row.idempotencyKey,
        event: row.event,
        destination: row.destination,
        call_id: row.callId,
        payload: row.payload,
        status: 'pending' as const,
        created_at: row.createdAt,
        next_attempt_at: row.createdAt,
      })),
    )
    .onConflict((conflict) => conflict.column('idempotency_key').doNothing())
    .execute();
}

export interface AlertClaimRequest {
  /** The engine taking the rows (its engine id): only it may mark them while its lease holds. */
  readonly owner: string;
  readonly now: string;
  readonly limit: number;
  /** How long the rows stay this engine's; after that another engine may take them (this one died). */
  readonly leaseMs: number;
  /** Only rows of these destinations: others are unknown to this engine's config, or their breaker is open. */
  readonly destinations?: readonly string[] | undefined;
  /** PostgreSQL: rows another engine is claiming right now are left to it, not waited for. */
  readonly skipLocked: boolean;
}

/**
 * Leases up to `limit` due pending rows (oldest due first) that nobody holds under a live lease, and
 * returns them. One statement: on PostgreSQL, a row locked by another engine's claim is skipped, and
 * one whose lease that engine just took fails the re-checked condition, so two engines never hold
 * the same row.
 */
export async function claimDueAlerts(db: Kysely<Database>, request: AlertClaimRequest): Promise<AlertRecord[]> {
  if (request.limit <= 0 || request.destinations?.length === 0) return [];
  const leaseUntil = new Date(Date.parse(request.now) + Math.max(0, Math.round(request.leaseMs))).toISOString();
  let due = db
    .selectFrom('alert_outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', request.now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', request.now)]))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(request.limit);
  if (request.destinations) due = due.where('destination', 'in', request.destinations);
  if (request.skipLocked) due = due.forUpdate().skipLocked();
  // A MATERIALIZED CTE, not `id IN (subquery)`: PostgreSQL may run such a subquery once per row it
  // updates, each run locking `limit` more rows, and the claim would then exceed its limit.
  const rows = await db
    .with((cte) => cte('due').materialized(), () => due)
    .updateTable('alert_outbox')
    .set({ lease_owner: request.owner, lease_until: leaseUntil })
    .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
    .where('status', '=', 'pending')
    .returningAll()
    .execute();
  return rows.map(recordOf).sort((a, b) => (a.nextAttemptAt ?? '').localeCompare(b.nextAttemptAt ?? '') || a.id - b.id);
}

/** The updates below touch a row only while `owner` holds it: a slow old owner never overwrites a re-claim. */
function ownedBy(db: Kysely<Database>, id: number, owner: string) {
  return db.updateTable('alert_outbox').where('id', '=', id).where('status', '=', 'pending').where('lease_owner', '=', owner);
}

export async function markAlertDelivered(db: Kysely<Database>, id: number, owner: string, at: string): Promise<boolean> {
  const result = await ownedBy(db, id, owner)
    .set((eb) => ({
      status: 'delivered',
      attempts: eb('attempts', '+', 1),
      last_attempt_at: at,
      delivered_at: at,
      next_attempt_at: null,
      last_error: null,
      lease_owner: null,
      lease_until: null,
    }))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markAlertRetry(db: Kysely<Database>, id: number, owner: string, nextAttemptAt: string, error: string, at: string): Promise<boolean> {
  const result = await ownedBy(db, id, owner)
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      last_attempt_at: at,
      next_attempt_at: nextAttemptAt,
      last_error: boundedAlertError(error),
      lease_owner: null,
      lease_until: null,
    }))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markAlertDead(db: Kysely<Database>, id: number, owner: string, error: string, at: string): Promise<boolean> {
  const result = await ownedBy(db, id, owner)
    .set((eb) => ({
      status: 'dead',
      attempts: eb('attempts', '+', 1),
      last_attempt_at: at,
      dead_at: at,
      next_attempt_at: null,
      last_error: boundedAlertError(error),
      lease_owner: null,
      lease_until: null,
    }))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Newest first; with `beforeId`, the rows below it (the next page). */
export async function listAlerts(db: Kysely<Database>, filter: AlertListFilter): Promise<AlertRecord[]> {
  let query = db.selectFrom('alert_outbox').selectAll();
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(recordOf);
}

export async function getAlert(db: Kysely<Database>, id: number): Promise<AlertRecord | undefined> {
  const row = await db.selectFrom('alert_outbox').selectAll().where('id', '=', id).executeTakeFirst();
  return row && recordOf(row);
}

/**
 * A dead or pending row due again at `at` (attempts kept: they tell how hard it was). A pending row
 * under a live lease stays its owner's until it marks it. False: no such row, or already delivered.
 */
export async function retryAlert(db: Kysely<Database>, id: number, at: string): Promise<boolean> {
  const result = await db
    .updateTable('alert_outbox')
    .set({ status: 'pending', next_attempt_at: at, dead_at: null })
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'dead'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Every dead letter due again at `at`; returns how many. */
export async function retryDeadAlerts(db: Kysely<Database>, at: string): Promise<number> {
  const result = await db.updateTable('alert_outbox').set({ status: 'pending', next_attempt_at: at, dead_at: null }).where('status', '=', 'dead').executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function alertCounts(db: Kysely<Database>): Promise<AlertCounts> {
  const rows = await db
    .selectFrom('alert_outbox')
    .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
    .groupBy('status')
    .execute();
  const counts = { pending: 0, delivered: 0, dead: 0 };
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}

/**
 * Frees the rows `owner` holds: called by an engine as it starts, when nothing of its own can be in
 * flight, so deliveries a crash (kill -9 mid-POST) left leased go again at once, not after the lease.
 */
export async function releaseAlertLeases(db: Kysely<Database>, owner: string): Promise<number> {
  const result = await db
    .updateTable('alert_outbox')
    .set({ lease_owner: null, lease_until: null })
    .where('status', '=', 'pending')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** What waits (pending) and what gave up (dead), from the partial indexes: never a scan of delivered rows. */
export async function alertBacklog(db: Kysely<Database>): Promise<AlertBacklog> {
  const count = async (status: 'pending' | 'dead'): Promise<number> =>
    Number((await db.selectFrom('alert_outbox').where('status', '=', status).select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()).count);
  return { pending: await count('pending'), dead: await count('dead') };
}

/**
 * Deletes up to `limit` rows delivered before `before`; returns how many. Delivered rows are kept a
 * while for `cc-csat alerts show` and the API, then go: a delivered row has no further use, and the
 * table must not grow with every alert ever sent. Pending and dead rows are never purged.
 */
export async function purgeDeliveredAlerts(db: Kysely<Database>, before: string, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('alert_outbox')
    .where('id', 'in', (eb) => eb.selectFrom('alert_outbox').select('id').where('status', '=', 'delivered').where('delivered_at', '<', before).orderBy('delivered_at').limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function recordOf(row: Selectable<AlertOutboxTable>): AlertRecord {
  return {
    id: Number(row.id),
    idempotencyKey: row.idempotency_key,
    event: row.event,
    destination: row.destination,
    callId: row.call_id,
    payload: row.payload,
    status: row.status,
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    deliveredAt: row.delivered_at,
    deadAt: row.dead_at,
    lastError: row.last_error,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
  };
}
