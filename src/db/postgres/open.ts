// Storage on a PostgreSQL server: several engines may share one database. Rating and outcome writes
// are single statements on the pool (autocommit: committed when they resolve); the result service's
// runs are serialized by the database and led by one engine (leadership.ts).
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Storage } from '../../storage/ports.js';
import { alertBacklog, alertCounts, claimDueAlerts, releaseAlertLeases, purgeDeliveredAlerts, insertAlerts, getAlert, listAlerts, markAlertDead, markAlertDelivered, markAlertRetry, retryAlert, retryDeadAlerts } from '../alert-outbox.js';
import { answersForCalls, insertAnswerAndRating } from '../answers.js';
import { afterAlertDelivered, findSurveyLink, linkStillWanted, rateByLink, redactExpiredLinkDeliveries } from '../survey-links.js';
import { insertOutcomeAndFollowUps } from '../outcome-follow-ups.js';
import { claimCall, releaseClaim, renewClaims } from '../claims.js';
import { keyUsageOfOthers, publishKeyUsage } from '../key-usage.js';
import type { Migration } from '../migrate.js';
import { insertOutcome, outcomesForCall } from '../outcomes.js';
import { exportRatingsPage, findRatingByCallId, insertRating, listRatings } from '../ratings.js';
import { finishExport, listExports, startExport } from '../exports.js';
import { estimatedRowCounts } from '../row-counts.js';
import { expiredRecordings, markRecordingDeleted } from '../recordings.js';
import { markCallerSurveyed, pruneSurveyedCallers } from '../surveyed-callers.js';
import type { Database } from '../schema.js';
import { DatabaseOpenError } from '../storage-error.js';
import { connectionTarget } from './connection.js';
import { storageCall } from './errors.js';
import { PostgresLeadership } from './leadership.js';
import { migratePostgres } from './migrate.js';
import { describeOpenFailure } from './open-failure.js';
import { probeWrite } from './probe.js';
import { PostgresRollupStore, type RollupOptions } from './rollups.js';
import { PostgresStatsStore } from './stats.js';
import { PostgresSurveyStatsStore } from './survey-stats.js';

export interface PostgresStorage extends Storage {
  readonly kind: 'postgres';
  /** For the PostgreSQL-only parts (tests, cc-csat migrate-data): the pool, through Kysely. */
  readonly db: Kysely<Database>;
}

export interface PostgresOpenOptions {
  /** postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]: [database] url. */
  readonly url: string;
  /** The password ([database] password_env's variable); overrides one in the URL. */
  readonly password?: string | undefined;
  /** Connections in the pool; default 10. The leadership session is one more. */
  readonly poolMax?: number;
  /** application_name of every session, as pg_stat_activity shows it; default 'cc-csat'. */
  readonly applicationName?: string;
  /**
   * Session defaults of every pooled connection: statement_timeout and lock_timeout. A stalled server
   * or a lock held elsewhere then ends in a 503 (StorageError 'timeout' or 'locked'), not a caller
   * or a client waiting forever. Long work (result service runs, migrations) lifts them for itself.
   * Default: none (PostgreSQL's own default, no limit).
   */
  readonly statementTimeoutMs?: number;
  readonly lockWaitMs?: number;
  /** How long opening a connection may take; default 10000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * Errors nobody awaits: an idle pooled connection or the leadership session lost (server restart,
   * terminated backend). The pool replaces such connections by itself; this is for the log.
   */
  readonly onBackgroundError?: (err: Error, where: 'pool' | 'leadership') => void;
  readonly rollups?: RollupOptions;
}

const DEFAULT_POOL_MAX = 10;

// See the 'connect' listener in openPostgresStorage: the error reaches the client's user another way.
const ignoreCheckedOutClientError = (): void => undefined;

/**
 * Connects to the server (once, to fail at start-up with advice rather than at the first rating) and
 * returns the storage. Throws DatabaseOpenError, whose message never holds the password.
 */
export async function openPostgresStorage(options: PostgresOpenOptions): Promise<PostgresStorage> {
  const target = connectionTarget(options.url, {
    password: options.password,
    applicationName: options.applicationName ?? 'cc-csat',
    connectTimeoutMs: options.connectTimeoutMs,
  });
  const pool = new pg.Pool({
    ...target.clientConfig,
    max: options.poolMax ?? DEFAULT_POOL_MAX,
    // pg sends both at connection start-up: session defaults, no round trip per statement.
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.lockWaitMs ? { lock_timeout: options.lockWaitMs } : {}),
  });
  // An idle client's error (its backend terminated, the server restarting) is emitted on the pool:
  // without a listener it would end the process. The pool drops that client and opens another.
  pool.on('error', (err) => options.onBackgroundError?.(err, 'pool'));
  // pg also emits 'error' on a checked-out client whose session ends (a terminated backend, even in
  // the middle of a query), where the pool has no listener: that too would end the process. The
  // failure is not lost: the pending query rejects with it, or the next one finds the client not
  // queryable, and the pool discards the client when it comes back.
  pool.on('connect', (client) => client.on('error', ignoreCheckedOutClientError));

  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT 1');
    } finally {
      client.release();
    }
  } catch (err) {
    const message = describeOpenFailure(target, err);
    await pool.end();
    throw new DatabaseOpenError(message);
  }

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const leadership = new PostgresLeadership(target.clientConfig, {
    onSessionError: (err) => options.onBackgroundError?.(err, 'leadership'),
  });
  let closing: Promise<void> | undefined;
  return {
    kind: 'postgres',
    sharedByEngines: true,
    description: target.description,
    db,
    ratings: {
      insert: (rating) => storageCall(() => insertRating(db, rating)),
      findByCallId: (callId) => storageCall(() => findRatingByCallId(db, callId)),
      list: (filter, page) => storageCall(() => listRatings(db, filter, page)),
      exportPage: (filter, after, limit) => storageCall(() => exportRatingsPage(db, filter, after, limit)),
    },
    answers: {
      record: (answer, rating, alerts = []) =>
        storageCall(() =>
          db.transaction().execute(async (trx) => {
            const result = await insertAnswerAndRating(trx, answer, rating);
            // Only an answer this write stored fires its alerts: a duplicate was alerted on when it was new.
            if (result.answerInserted) await insertAlerts(trx, alerts);
            return result;
          }),
        ),
      forCalls: (callIds) => storageCall(() => answersForCalls(db, callIds)),
    },
    recordings: {
      expired: (beforeIso, limit, after) => storageCall(() => expiredRecordings(db, beforeIso, limit, after)),
      markDeleted: (id, atIso) => storageCall(() => markRecordingDeleted(db, id, atIso)),
    },
    outcomes: {
      insert: (outcome, followUps = {}) =>
        storageCall(() =>
          (followUps.alerts?.length ?? 0) === 0 && !followUps.link
            ? insertOutcome(db, outcome)
            : db.transaction().execute((trx) => insertOutcomeAndFollowUps(trx, outcome, followUps)),
        ),
      forCall: (callId) => storageCall(() => outcomesForCall(db, callId)),
    },
    claims: {
      claim: (request) => storageCall(() => claimCall(db, request)),
      renew: (engineId, callIds, leaseMs) => storageCall(() => renewClaims(db, engineId, callIds, leaseMs)),
      release: (callId, engineId) => storageCall(() => releaseClaim(db, callId, engineId)),
    },
    keyUsage: {
      publish: (usage) => storageCall(() => publishKeyUsage(db, usage)),
      othersSince: (engineId, maxAgeMs) => storageCall(() => keyUsageOfOthers(db, engineId, maxAgeMs)),
    },
    surveyedCallers: {
      // Two autocommit statements: the purge need not be atomic with the upsert, only the upsert is.
      markSurveyed: (request) =>
        storageCall(async () => {
          await pruneSurveyedCallers(db, request.at, request.keepMs, { skipLocked: true });
          return markCallerSurveyed(db, request);
        }),
    },
    stats: new PostgresStatsStore(pool),
    surveyStats: new PostgresSurveyStatsStore(() => db, storageCall),
    exportAudit: {
      start: (record) => storageCall(() => startExport(db, record)),
      finish: (id, outcome) => storageCall(() => finishExport(db, id, outcome)),
      list: (limit, beforeId) => storageCall(() => listExports(db, limit, beforeId)),
    },
    alerts: {
      claimDue: (owner, now, limit, leaseMs, destinations) =>
        storageCall(() => claimDueAlerts(db, { owner, now, limit, leaseMs, destinations, skipLocked: true })),
      markDelivered: (id, owner, at) =>
        storageCall(() =>
          db.transaction().execute(async (trx) => {
            const held = await markAlertDelivered(trx, id, owner, at);
            if (held) await afterAlertDelivered(trx, id, at);
            return held;
          }),
        ),
      markRetry: (id, owner, next, error, at) => storageCall(() => markAlertRetry(db, id, owner, next, error, at)),
      markDead: (id, owner, error, at) => storageCall(() => markAlertDead(db, id, owner, error, at)),
      list: (filter) => storageCall(() => listAlerts(db, filter)),
      get: (id) => storageCall(() => getAlert(db, id)),
      retry: (id, at) => storageCall(() => retryAlert(db, id, at)),
      retryDead: (at) => storageCall(() => retryDeadAlerts(db, at)),
      counts: () => storageCall(() => alertCounts(db)),
      releaseLeases: (owner) => storageCall(() => releaseAlertLeases(db, owner)),
      backlog: () => storageCall(() => alertBacklog(db)),
      redactExpiredLinks: (now, limit) => storageCall(() => db.transaction().execute((trx) => redactExpiredLinkDeliveries(trx, now, limit))),
      purgeDelivered: (before, limit) => storageCall(() => purgeDeliveredAlerts(db, before, limit)),
    },
    links: {
      stillWanted: (callId) => storageCall(() => linkStillWanted(db, callId)),
      find: (tokenSha256, now) => storageCall(() => findSurveyLink(db, tokenSha256, now)),
      rate: (tokenSha256, rating, at, fire) => storageCall(() => db.transaction().execute((trx) => rateByLink(trx, tokenSha256, rating, at, fire))),
    },
    rowCounts: { counts: () => storageCall(() => estimatedRowCounts(db)) },
    rollups: new PostgresRollupStore(db, options.rollups),
    leadership,
    migrate: (): Promise<Migration[]> => storageCall(() => migratePostgres(db)),
    probe: () => probeWrite(db),
    // Waits on PostgreSQL are asynchronous: nothing to switch.
    serving: () => undefined,
    close: () =>
      (closing ??= (async () => {
        await leadership.release();
        // Kysely ends the pool only if it ever used it: a storage that served no Kysely query (the
        // statistics read the pool directly) must end it here, or it stays open for later calls.
        await db.destroy();
        if (!pool.ending) await pool.end();
      })()),
  };
}
