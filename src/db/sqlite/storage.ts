// Storage on one SQLite file: the default, and the two-command path. One engine per file.
import { Kysely, SqliteDialect } from 'kysely';
import type { Logger } from '../../log.js';
import type { Storage } from '../../storage/ports.js';
import { alertBacklog, alertCounts, claimDueAlerts, releaseAlertLeases, purgeDeliveredAlerts, insertAlerts, getAlert, listAlerts, markAlertDead, markAlertDelivered, markAlertRetry, retryAlert, retryDeadAlerts } from '../alert-outbox.js';
import { answersForCalls, insertAnswerAndRating } from '../answers.js';
import { afterAlertDelivered, findSurveyLink, linkStillWanted, rateByLink, redactExpiredLinkDeliveries } from '../survey-links.js';
import { insertOutcomeAndFollowUps } from '../outcome-follow-ups.js';
import { migrate, readMigrations, SQLITE_MIGRATIONS_DIR, type Migration } from '../migrate.js';
import { insertOutcome, outcomesForCall } from '../outcomes.js';
import { exportRatingsPage, findRatingByCallId, insertRating, listRatings } from '../ratings.js';
import { finishExport, listExports, startExport } from '../exports.js';
import { highestIdCounts } from '../row-counts.js';
import { expiredRecordings, markRecordingDeleted } from '../recordings.js';
import { markCallerSurveyed, pruneSurveyedCallers } from '../surveyed-callers.js';
import { RollupSurveyStatsStore } from '../survey-stats.js';
import type { Database } from '../schema.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { openDatabase, type OpenDatabase, type OpenOptions } from './open.js';
import { SqliteRollupStore } from './rollups.js';
import { SqliteStatsStore } from './stats.js';

export interface SqliteStorage extends Storage {
  readonly kind: 'sqlite';
  /** The open file, for the SQLite-only parts (checkpointer, tests, benchmarks). */
  readonly database: OpenDatabase;
  readonly db: Kysely<Database>;
}

export interface SqliteStorageOptions extends OpenOptions {
  /**
   * The engine: WAL checkpoints (and their fsync) run on a worker thread once it serves, never on the
   * event loop carrying live calls; commits then checkpoint only as a safety net.
   */
  readonly backgroundCheckpoints?: { readonly log: Logger };
}

const CHECKPOINT_INTERVAL_MS = 1000;
const BACKGROUND_CHECKPOINT_SAFETY_PAGES = 20_000;

export function openSqliteStorage(path: string, options: SqliteStorageOptions = {}): SqliteStorage {
  const checkpointing = options.backgroundCheckpoints && path !== ':memory:' ? options.backgroundCheckpoints : undefined;
  const database = openDatabase(path, { ...options, ...(checkpointing ? { walAutocheckpointPages: BACKGROUND_CHECKPOINT_SAFETY_PAGES } : {}) });
  const { db, writes } = database;
  let checkpointer: Checkpointer | undefined;
  // Statistics read on the read-only connection (opened on first use): the writer's would queue behind
  // a result-service run. Never destroyed: the connection is the database's to close.
  let reads: Kysely<Database> | undefined;
  const reader = () => (reads ??= new Kysely<Database>({ dialect: new SqliteDialect({ database: database.reader }) }));
  return {
    kind: 'sqlite',
    // One engine per file (one writer): its rate limits are its own.
    sharedByEngines: false,
    description: path,
    database,
    db,
    ratings: {
      // Through the gate: resolves only once the row is committed.
      insert: (rating, what) => writes.write(what, (conn) => insertRating(conn, rating)),
      findByCallId: (callId) => findRatingByCallId(db, callId),
      list: (filter, page) => listRatings(db, filter, page),
      exportPage: (filter, after, limit) => exportRatingsPage(db, filter, after, limit),
    },
    answers: {
      // One transaction for the answer and its rating: a headline answer never exists without its row.
      record: (answer, rating, alerts = []) =>
        writes.transaction('IVR answer', async (conn) => {
          const result = await insertAnswerAndRating(conn, answer, rating);
          // Only an answer this write stored fires its alerts: a duplicate was alerted on when it was new.
          if (result.answerInserted) await insertAlerts(conn, alerts);
          return result;
        }),
      forCalls: (callIds) => answersForCalls(db, callIds),
    },
    recordings: {
      expired: (beforeIso, limit, after) => expiredRecordings(db, beforeIso, limit, after),
      markDeleted: (id, atIso) => writes.write('recording deleted', (conn) => markRecordingDeleted(conn, id, atIso)),
    },
    outcomes: {
      insert: (outcome, followUps = {}) =>
        (followUps.alerts?.length ?? 0) === 0 && !followUps.link
          ? writes.write('survey outcome', (conn) => insertOutcome(conn, outcome))
          : writes.transaction('survey outcome', (conn) => insertOutcomeAndFollowUps(conn, outcome, followUps)),
      forCall: (callId) => outcomesForCall(db, callId),
    },
    // One engine per file, so no other engine can hold a call: the controller's own list of live
    // surveys is the whole truth, and a claim write would make every caller wait for a write lock
    // held by another process (cc-csat aggregate --full) before the survey could even start.
    claims: {
      claim: async () => ({ granted: true }),
      renew: async () => 0,
      release: async () => undefined,
    },
    // Likewise the engine's rate limits are its own.
    keyUsage: {
      publish: async () => undefined,
      othersSince: async () => [],
    },
    surveyedCallers: {
      // One transaction: the purge of expired numbers rides on a write that happens anyway.
      markSurveyed: (request) =>
        writes.transaction('surveyed caller', async (conn) => {
          await pruneSurveyedCallers(conn, request.at, request.keepMs, { skipLocked: false });
          return markCallerSurveyed(conn, request);
        }),
    },
    stats: new SqliteStatsStore(() => database.reader),
    surveyStats: new RollupSurveyStatsStore(reader),
    exportAudit: {
      start: (record) => writes.write('export audit', (conn) => startExport(conn, record)),
      finish: (id, outcome) => writes.write('export audit', (conn) => finishExport(conn, id, outcome)),
      list: (limit, beforeId) => listExports(db, limit, beforeId),
    },
    alerts: {
      // One writer: two claims never interleave, so no SKIP LOCKED (SQLite has none).
      claimDue: (owner, now, limit, leaseMs, destinations) =>
        writes.write('alert claim', (conn) => claimDueAlerts(conn, { owner, now, limit, leaseMs, destinations, skipLocked: false })),
      markDelivered: (id, owner, at) =>
        writes.transaction('alert delivered', async (conn) => {
          const held = await markAlertDelivered(conn, id, owner, at);
          if (held) await afterAlertDelivered(conn, id, at);
          return held;
        }),
      markRetry: (id, owner, next, error, at) => writes.write('alert retry', (conn) => markAlertRetry(conn, id, owner, next, error, at)),
      markDead: (id, owner, error, at) => writes.write('alert dead', (conn) => markAlertDead(conn, id, owner, error, at)),
      list: (filter) => listAlerts(db, filter),
      get: (id) => getAlert(db, id),
      retry: (id, at) => writes.write('alert retry', (conn) => retryAlert(conn, id, at)),
      retryDead: (at) => writes.write('alert retry', (conn) => retryDeadAlerts(conn, at)),
      counts: () => alertCounts(db),
      releaseLeases: (owner) => writes.write('alert release', (conn) => releaseAlertLeases(conn, owner)),
      backlog: () => alertBacklog(db),
      redactExpiredLinks: (now, limit) => writes.transaction('alert redact', (conn) => redactExpiredLinkDeliveries(conn, now, limit)),
      purgeDelivered: (before, limit) => writes.write('alert purge', (conn) => purgeDeliveredAlerts(conn, before, limit)),
    },
    links: {
      stillWanted: (callId) => linkStillWanted(db, callId),
      find: (tokenSha256, now) => findSurveyLink(db, tokenSha256, now),
      // One writer: two uses of a link never interleave here.
      rate: (tokenSha256, rating, at, fire) => writes.transaction('link rating', (conn) => rateByLink(conn, tokenSha256, rating, at, fire)),
    },
    rowCounts: { counts: () => highestIdCounts(db) },
    // A file's full builds run aside (worker thread, scratch file): ratings keep committing meanwhile.
    rollups: new SqliteRollupStore(writes, path === ':memory:' ? {} : { livePath: path, lockWaitMs: options.lockWaitMs ?? 5000 }),
    // One engine per file: it always runs the result service.
    leadership: { acquire: async () => true, release: async () => undefined },
    migrate: (): Promise<Migration[]> => migrate(db, readMigrations(SQLITE_MIGRATIONS_DIR)),
    probe: () => writes.probe(),
    serving: () => {
      writes.neverBlockOnLocks();
      if (checkpointing && !checkpointer) checkpointer = startCheckpointer(path, CHECKPOINT_INTERVAL_MS, checkpointing.log);
    },
    close: async () => {
      await checkpointer?.stop();
      await database.close();
    },
  };
}
