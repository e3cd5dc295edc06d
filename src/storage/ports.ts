// What the rest of the engine may ask of a database. http/, survey/ and results/ hold a Storage, never
// a driver handle; SQLite (src/db/sqlite/) and PostgreSQL (src/db/postgres/) each implement it.
//
// Every write method resolves only once what it wrote is committed ("acknowledged means committed")
// and rejects with a StorageError (src/db/storage-error.ts) when the database could not take it,
// with nothing written.
import type { Migration } from '../db/migrate.js';
import type { AlertStatus, Answer, AnswerSource, NewSurveyLink, SurveyLinkStatus, AnswerKind, NewAnswer, NewRating, NewSurveyOutcome, Rating, SurveyOutcome, SurveyOutcomeKind } from '../db/schema.js';
import type { ZoneCalendar } from '../results/zone.js';

export type InsertRatingResult = { inserted: true; rating: Rating } | { inserted: false; existing: Rating };

export interface RatingFilter {
  readonly agentId?: string | undefined;
  /** Any of these agents (a team's members); an empty list matches nothing. */
  readonly agentIds?: readonly string[] | undefined;
  readonly queueId?: string | undefined;
  /** UTC ISO instants, [fromIso, toIso). */
  readonly fromIso?: string | undefined;
  readonly toIso?: string | undefined;
  /** Calls with an answer to this question; with minValue/maxValue, one whose value is within them (inclusive). */
  readonly questionId?: string | undefined;
  readonly minValue?: number | undefined;
  readonly maxValue?: number | undefined;
  /** Calls whose survey ended this way (a survey_outcome row of the call). */
  readonly outcome?: SurveyOutcomeKind | undefined;
  /** true: calls with a typed comment or a spoken one (a comment answer); false: calls with neither. */
  readonly hasComment?: boolean | undefined;
}

/** Where a rating stands in the newest-first order of list(). */
export interface RatingPosition {
  readonly createdAt: string;
  readonly id: number;
}

export interface RatingPage {
  readonly limit: number;
  readonly offset: number;
  readonly after?: RatingPosition | undefined;
}

export interface RatingStore {
  /** One rating per call: a second insert for the same call_id never overwrites the first. */
  insert(rating: NewRating, what: string): Promise<InsertRatingResult>;
  findByCallId(callId: string): Promise<Rating | undefined>;
  /** Newest first, with the total matching the filter; a page starts `offset` rows in, or right after `after`. */
  list(filter: RatingFilter, page: RatingPage): Promise<{ items: Rating[]; total: number }>;
  /** Oldest first, those after `after` ((created_at, id) keyset), at most `limit`: an export reads in such pages. */
  exportPage(filter: RatingFilter, after: RatingPosition | undefined, limit: number): Promise<Rating[]>;
}

export type ExportStatus = 'running' | 'completed' | 'aborted' | 'failed';

/** One export as its audit row (csat_export) records it. */
export interface ExportRecord {
  readonly id: number;
  readonly keyName: string;
  readonly format: 'csv' | 'ndjson';
  /** The export's query (range, subject, include_comments). */
  readonly filters: Record<string, unknown>;
  readonly rows: number;
  readonly status: ExportStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/** The audit trail of exports: every export is recorded before its first byte leaves. */
export interface ExportAuditStore {
  /** Records an export as 'running' (committed before it resolves); returns its id. */
  start(record: { keyName: string; format: 'csv' | 'ndjson'; filters: Record<string, unknown>; startedAt: string }): Promise<number>;
  finish(id: number, outcome: { status: Exclude<ExportStatus, 'running'>; rows: number; finishedAt: string }): Promise<void>;
  /** Newest first, those with an id below `beforeId`, at most `limit`. */
  list(limit: number, beforeId?: number): Promise<ExportRecord[]>;
}

/** One webhook delivery in the alert outbox (src/db/alert-outbox.ts). */
export interface AlertRecord {
  readonly id: number;
  /** Sent as Idempotency-Key on every attempt. */
  readonly idempotencyKey: string;
  readonly event: string;
  readonly destination: string;
  readonly callId: string | null;
  /** The JSON body: caller data, never for logs. */
  readonly payload: string;
  readonly status: AlertStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly nextAttemptAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly deliveredAt: string | null;
  readonly deadAt: string | null;
  readonly lastError: string | null;
  readonly leaseOwner: string | null;
  readonly leaseUntil: string | null;
}

export interface AlertListFilter {
  readonly status?: AlertStatus | undefined;
  readonly limit: number;
  readonly beforeId?: number | undefined;
}

export interface AlertCounts {
  readonly pending: number;
  readonly delivered: number;
  readonly dead: number;
}

/** One delivery to queue: what src/alerts/rules.ts fires (its FiredAlert has this shape), stored with what fired it. */
export interface NewAlert {
  readonly idempotencyKey: string;
  readonly event: string;
  readonly destination: string;
  readonly callId: string | null;
  /** The JSON body, sent as is on every attempt. */
  readonly payload: string;
  /** ISO-8601 UTC with milliseconds; the first attempt is due then. */
  readonly createdAt: string;
}

/** The outbox rows an operator must watch: waiting to be delivered, and given up on. */
export interface AlertBacklog {
  readonly pending: number;
  readonly dead: number;
}

/**
 * The alert outbox as the delivery worker and the operator see it. Times are ISO strings on the
 * engine's clock. Rows are marked only by the engine holding their lease (`owner`): a slow engine
 * whose lease ran out and whose row another engine took never overwrites that engine's outcome.
 */
export interface AlertOutboxStore {
  /**
   * Leases up to `limit` due pending rows nobody holds (of `destinations` only, when given) for
   * `leaseMs` and returns them, oldest due first. Engines sharing a database never get the same row.
   */
  claimDue(owner: string, now: string, limit: number, leaseMs: number, destinations?: readonly string[]): Promise<AlertRecord[]>;
  /** Each false when `owner` no longer holds the row. */
  markDelivered(id: number, owner: string, at: string): Promise<boolean>;
  markRetry(id: number, owner: string, nextAttemptAt: string, error: string, at: string): Promise<boolean>;
  markDead(id: number, owner: string, error: string, at: string): Promise<boolean>;
  /** Newest first. */
  list(filter: AlertListFilter): Promise<AlertRecord[]>;
  get(id: number): Promise<AlertRecord | undefined>;
  /** A dead or pending row due again at `at`, attempts kept; false when there is none or it was delivered. */
  retry(id: number, at: string): Promise<boolean>;
  /** Every dead row due again at `at`; returns how many. */
  retryDead(at: string): Promise<number>;
  /** Every status counted (reads every row: a check of the whole outbox, as the tests make; not for each scrape). */
  counts(): Promise<AlertCounts>;
  /** Pending and dead only, from their partial indexes (cheap: /metrics asks on every scrape). */
  backlog(): Promise<AlertBacklog>;
  /** Frees the pending rows `owner` leased (a restarted engine's, left by its crash); returns how many. */
  releaseLeases(owner: string): Promise<number>;
  /** Redacts up to `limit` undelivered rating-link deliveries whose link expired before `now`; returns how many. */
  redactExpiredLinks(now: string, limit: number): Promise<number>;
  /** Deletes up to `limit` rows delivered before `before`; returns how many. */
  purgeDelivered(before: string, limit: number): Promise<number>;
}

/** How many rows the survey tables hold (health report); `estimated` when the database gave an estimate. */
export interface RowCounts {
  readonly ratings: number;
  readonly answers: number;
  readonly outcomes: number;
  readonly estimated: boolean;
}

export interface RowCountStore {
  counts(): Promise<RowCounts>;
}

export interface RecordAnswerResult {
  /** False when the call already had an answer to this question (a retried write that had committed). */
  readonly answerInserted: boolean;
  /** With a headline answer: how its cc_csat row went (a call is rated once, whoever came first). */
  readonly rating?: InsertRatingResult;
}

export interface AnswerStore {
  /**
   * Commits the answer, and with `rating` (the survey's headline csat question) the call's cc_csat row,
   * and the alerts it fired into the outbox, in the same transaction: all or nothing. An alert whose
   * idempotency key is already there (a retried write that had committed) is not added twice.
   */
  record(answer: NewAnswer, rating?: NewRating, alerts?: readonly NewAlert[]): Promise<RecordAnswerResult>;
  /** Every answer of these calls, by call, in the order given. */
  forCalls(callIds: readonly string[]): Promise<Answer[]>;
}

/** A spoken comment's recording as the retention sweep sees it. */
export interface StoredRecording {
  /** The survey_answer row. */
  readonly id: number;
  readonly callId: string;
  readonly questionId: string;
  /** Asterisk's stored recording name. */
  readonly name: string;
  /** The [[ari]] server holding it; null: unknown (ask each). */
  readonly server: string | null;
  readonly answeredAt: string;
}

/** Where a page of expired recordings ended (keyset: answered_at, then id). */
export interface RecordingPosition {
  readonly answeredAt: string;
  readonly id: number;
}

/** The recordings of spoken comments, for recording_retention_days. */
export interface RecordingStore {
  /**
   * Recordings not yet deleted that were made before `beforeIso`, oldest first, at most `limit`;
   * with `after`, those after it (the next page: recordings left on an unreachable Asterisk must not
   * hold up the others).
   */
  expired(beforeIso: string, limit: number, after?: RecordingPosition): Promise<StoredRecording[]>;
  /** Marks one deleted from Asterisk (committed before it resolves). */
  markDeleted(id: number, atIso: string): Promise<void>;
}

/** What a survey's ending writes beside its outcome row, in the same transaction. */
export interface OutcomeFollowUps {
  /** Alerts the ending fired (an abandoned survey after a bad first answer), and a link's survey.link delivery. */
  readonly alerts?: readonly NewAlert[];
  /** A rating link for a caller who left before rating. */
  readonly link?: NewSurveyLink | undefined;
}

export interface OutcomeStore {
  /** The outcome row and its follow-ups: one transaction, all or nothing. */
  insert(outcome: NewSurveyOutcome, followUps?: OutcomeFollowUps): Promise<void>;
  forCall(callId: string): Promise<SurveyOutcome[]>;
}

export interface SurveyClaimRequest {
  readonly callId: string;
  readonly channelId: string;
  readonly engineId: string;
  /**
   * How long the claim holds unless renewed. Measured on the database's clock, never an engine's:
   * engines on different hosts disagree about the time, the database is the one clock they share.
   */
  readonly leaseMs: number;
}

export type ClaimResult = { readonly granted: true } | { readonly granted: false; readonly holder: { readonly engineId: string; readonly channelId: string } };

/**
 * Leases on calls being surveyed, so that two engines (or an engine and its restarted self) never run
 * a survey for the same call at once. Every method commits before it resolves.
 */
export interface ClaimStore {
  /** Granted, or who holds the call under a live lease (another engine, or another channel). */
  claim(request: SurveyClaimRequest): Promise<ClaimResult>;
  /** Extends the leases `engineId` holds on these calls (its live surveys) by leaseMs from now; returns how many. */
  renew(engineId: string, callIds: readonly string[], leaseMs: number): Promise<number>;
  release(callId: string, engineId: string): Promise<void>;
}

export interface SurveyedCallerRequest {
  /** The caller number's keyed hash (src/survey/caller-hash.ts), never the number. */
  readonly callerHash: string;
  /**
   * The call being offered the survey. The same call coming back (an engine restarted or taking over
   * mid-survey adopts the caller) is not a resurvey: its own row never refuses it.
   */
  readonly callId: string;
  /** Now, on the engine's clock (a few seconds between engines' clocks are nothing against hours). */
  readonly at: Date;
  /** The queue's resurvey_after_hours: a survey this recent or more recent refuses this one. */
  readonly windowMs: number;
  /** The longest resurvey_after_hours in queues.toml: rows older than this are deleted by the same write. */
  readonly keepMs: number;
}

/** When caller numbers were last offered a survey (resurvey_after_hours). */
export interface SurveyedCallerStore {
  /**
   * Records that the caller is surveyed now, unless their last survey is within `windowMs`: then
   * nothing is written and it resolves false. One atomic step: of two engines taking the same
   * caller at once, one gets true.
   */
  markSurveyed(request: SurveyedCallerRequest): Promise<boolean>;
}

/** One engine's running count of requests under one API key. */
export interface KeyUsage {
  readonly keyName: string;
  readonly engineId: string;
  /** Changes when that engine restarts (its count starts again from 0). */
  readonly epoch: string;
  readonly used: number;
}

/** Per-key request counts shared by the engines on one database, for rate limits that hold across them. */
export interface KeyUsageStore {
  /** Stamped with the database's clock, the one every engine shares. */
  publish(usage: readonly KeyUsage[]): Promise<void>;
  /** Every other engine's counts published within the last `maxAgeMs` (the database's clock). */
  othersSince(engineId: string, maxAgeMs: number): Promise<KeyUsage[]>;
}

// ------------------------------------------------------------------------------- statistics

export interface StatsRange {
  readonly period: 'day' | 'week' | 'month';
  /** Inclusive local dates, already widened to whole periods. */
  readonly from: string;
  readonly to: string;
}

export type Distribution = Record<'1' | '2' | '3' | '4' | '5', number>;

export interface RankedAgent {
  rank: number | null;
  agent_id: string;
  average: number | null;
  count: number;
}

export interface TrendPoint {
  period_start: string;
  count: number;
  average: number | null;
}

export interface QueueStats {
  queue_id: string;
  period: StatsRange['period'];
  from: string;
  to: string;
  average: number | null;
  count: number;
  distribution: Distribution;
  trend: TrendPoint[];
  agent_ranking: RankedAgent[];
  as_of: string | null;
}

export interface AgentQueueStanding {
  queue_id: string;
  rank: number | null;
  of: number;
  average: number | null;
  count: number;
}

export interface AgentStats {
  agent_id: string;
  period: StatsRange['period'];
  from: string;
  to: string;
  average: number | null;
  count: number;
  distribution: Distribution;
  trend: TrendPoint[];
  queues: AgentQueueStanding[];
  as_of: string | null;
}

export interface Snapshot {
  /** When the rollups were last refreshed: answers carry it as as_of. */
  readonly asOf: string | null;
  /** Identifies one committed state of the rollups: every run changes it. Null before any run. */
  readonly version: string | null;
}

/**
 * The statistics read model: rollups only, never a scan of cc_csat. Reads are not wrapped in a
 * transaction: a caller that needs one snapshot reads `snapshot()` before and after and retries when
 * it moved (every result-service run commits whole and changes the version).
 */
export interface StatsStore {
  snapshot(): Promise<Snapshot>;
  queueStats(queueId: string, range: StatsRange, minRatings: number, asOf: string | null): Promise<QueueStats>;
  agentStats(agentId: string, range: StatsRange, minRatings: number, asOf: string | null): Promise<AgentStats>;
  /** Whether any rating ever named this queue (tells a typo in a URL from a quiet queue). */
  queueEverRated(queueId: string): Promise<boolean>;
}

// ------------------------------------------------------------------------------- survey statistics

/**
 * Whose answers or outcomes: one queue (queue rollups), some agents (agent rollups summed: one agent,
 * or a team's members), or, with neither, the whole contact center (queue rollups summed). Never
 * both: per-question and funnel rollups keep no agent-in-queue rows.
 */
export type SurveySubject =
  | { readonly queueId: string; readonly agentIds?: undefined }
  | { readonly agentIds: readonly string[]; readonly queueId?: undefined }
  | { readonly queueId?: undefined; readonly agentIds?: undefined };

/** How many answers had `value` for one question in one period (summed over the subject). */
export interface AnswerRollupRow {
  readonly question_id: string;
  readonly kind: AnswerKind;
  readonly period_start: string;
  /** The answer's value; 0 for a spoken comment (kind 'comment': only counted). */
  readonly value: number;
  readonly count: number;
}

/**
 * How many surveys ended one way in one period (summed over the subject). `detail`: the step a caller
 * left at for abandoned, no_input and invalid (last_step), otherwise the reason ('' when none).
 */
export interface OutcomeRollupRow {
  readonly period_start: string;
  readonly outcome: SurveyOutcomeKind;
  readonly detail: string;
  /** The consent step's answer; '' without one or when the caller left before answering. */
  readonly consent: '' | 'accepted' | 'declined';
  readonly count: number;
}

/** One agent's headline csat rollup in one period (SQLite: csat_rollup, scope 'agent'; PostgreSQL: summed from the agent's (agent_queue, day) rows). */
export interface AgentCsatRow {
  readonly agent_id: string;
  readonly period_start: string;
  readonly count: number;
  readonly sum: number;
  readonly n1: number;
  readonly n2: number;
  readonly n3: number;
  readonly n4: number;
  readonly n5: number;
}

/**
 * Per-question statistics, the survey funnel and team totals, from rollups only (answer_rollup,
 * outcome_rollup, csat_rollup): rows of `range.period` whose period_start is within [from, to].
 * Same snapshot rules as StatsStore.
 */
export interface SurveyStatsStore {
  /** `source`: only answers from there ('ivr' keys on the call, 'link' a rating link, or a channel of POST /cc/feedback); all when absent. */
  answerRows(subject: SurveySubject, range: StatsRange, questionId?: string, source?: AnswerSource): Promise<AnswerRollupRow[]>;
  outcomeRows(subject: SurveySubject, range: StatsRange): Promise<OutcomeRollupRow[]>;
  /** The agents' own rows (not summed): a team's total, trend and ranking are computed from them. */
  agentCsatRows(agentIds: readonly string[], range: StatsRange): Promise<AgentCsatRow[]>;
}

// ------------------------------------------------------------------------------- result service

export type RefreshMode = 'incremental' | 'full';

export interface RefreshReport {
  readonly kind: 'incremental' | 'full' | 'unchanged';
  readonly newRatings: number;
  readonly touchedDays: number;
  /** Every rating with an id up to here is folded into the rollups. */
  readonly watermark: number;
  readonly refreshedAt: string;
  /** Answers and survey outcomes folded into answer_rollup and outcome_rollup by this run (all of them when rebuilt). */
  readonly newAnswers?: number;
  readonly newOutcomes?: number;
}

export interface RollupStore {
  /**
   * One result-service run: folds ratings committed since the last run into the rollups (or rebuilds
   * them all: mode 'full', a first run, a changed timezone), committed whole or not at all. Runs
   * from several processes are serialized by the database; an interrupted run leaves the previous
   * state for the next run to complete.
   */
  refresh(mode: RefreshMode, zone: ZoneCalendar, refreshedAt: string): Promise<RefreshReport>;
}

/**
 * Which engine runs the result service. SQLite has one engine per file: always this one. PostgreSQL:
 * the engine holding a session advisory lock; the lock dies with its connection, so another engine
 * takes over at its next attempt.
 */
export interface Leadership {
  /** Whether this engine leads now, trying to become the leader if nobody is. */
  acquire(): Promise<boolean>;
  release(): Promise<void>;
}

// ------------------------------------------------------------------------------- the whole

/** A rating link as the public endpoints see it (its token only as a hash). */
export interface SurveyLink {
  readonly callId: string;
  readonly agentId: string;
  readonly queueId: string;
  readonly status: SurveyLinkStatus | 'expired' | 'already_rated';
  readonly expiresAt: string;
}

export type LinkRatingResult =
  | { readonly kind: 'rated'; readonly score: number; readonly callId: string; readonly agentId: string; readonly queueId: string }
  /** No link with this token. */
  | { readonly kind: 'unknown' }
  /** Already used to rate. */
  | { readonly kind: 'used' }
  | { readonly kind: 'expired' }
  /** The call was rated another way meanwhile (the IVR after all, the API): that rating stands. */
  | { readonly kind: 'already_rated' };

/** The answer a link gave, for the alert rules (`fire` turns it into outbox rows, stored with it). */
export interface LinkedAnswer {
  readonly callId: string;
  readonly agentId: string;
  readonly queueId: string;
  readonly ivr: string;
  readonly questionId: string;
  readonly score: number;
}

/** Rating links: read by the public endpoints, used once. */
export interface SurveyLinkStore {
  /** The link whose token hashes to `tokenSha256`: `expired` as of `now`, `already_rated` when the call was rated another way. */
  find(tokenSha256: string, now: string): Promise<SurveyLink | undefined>;
  /** Whether the call's survey.link delivery is still worth sending (not rated, link not used). */
  stillWanted(callId: string): Promise<boolean>;
  /**
   * Uses the link: the call's cc_csat row (score, feedback as its comment) and its headline answer
   * (source 'link'), and the link completed, in one transaction; nothing when the result is not 'rated'.
   */
  rate(tokenSha256: string, rating: { readonly score: number; readonly feedback: string | null }, at: string, fire?: (rated: LinkedAnswer) => readonly NewAlert[]): Promise<LinkRatingResult>;
}

export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  /** Several engines may share it (PostgreSQL): per-key rate limits are then shared through it. */
  readonly sharedByEngines: boolean;
  /** For logs and errors: the file, or the URL without its password. */
  readonly description: string;
  readonly ratings: RatingStore;
  readonly outcomes: OutcomeStore;
  readonly answers: AnswerStore;
  readonly recordings: RecordingStore;
  readonly claims: ClaimStore;
  readonly keyUsage: KeyUsageStore;
  readonly surveyedCallers: SurveyedCallerStore;
  readonly stats: StatsStore;
  readonly surveyStats: SurveyStatsStore;
  readonly exportAudit: ExportAuditStore;
  readonly alerts: AlertOutboxStore;
  readonly links: SurveyLinkStore;
  readonly rowCounts: RowCountStore;
  readonly rollups: RollupStore;
  readonly leadership: Leadership;
  /** Applies pending migrations for this database; returns the ones applied now. */
  migrate(): Promise<Migration[]>;
  /** 'ok' when a write could be committed right now; otherwise why not. Leaves nothing behind. */
  probe(): Promise<string>;
  /**
   * Start-up is over and live calls depend on the event loop: from now on nothing may wait for a
   * lock inside a synchronous driver call (SQLite); a no-op where waits are asynchronous anyway.
   */
  serving(): void;
  close(): Promise<void>;
}
