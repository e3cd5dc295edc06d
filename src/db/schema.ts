// One Database interface, one table type per table (kysely's convention).
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

export interface CcCsatTable {
  id: Generated<number>;
  call_id: string;
  agent_id: string;
  queue_id: string;
  score: number;
  comment: string | null;
  created_at: string;
}

export const SURVEY_OUTCOMES = ['completed', 'no_input', 'invalid', 'abandoned', 'skipped', 'failed', 'declined'] as const;
export type SurveyOutcomeKind = (typeof SURVEY_OUTCOMES)[number];

export interface SurveyOutcomeTable {
  id: Generated<number>;
  call_id: string | null;
  channel_id: string;
  agent_id: string | null;
  queue_id: string | null;
  ivr: string | null;
  outcome: SurveyOutcomeKind;
  reason: string | null;
  attempts: number;
  last_step: string | null;
  score: number | null;
  started_at: string;
  ended_at: string;
  /** The Asterisk server ([[ari]] name) the call was on; NULL for `cc-csat simulate` and rows from before 005/002. */
  server: string | null;
  /** The caller's answer to a consent step: NULL without one, or when the caller left before answering. */
  consent: 'accepted' | 'declined' | null;
}

export const ANSWER_KINDS = ['csat', 'nps', 'ces', 'yes_no', 'scale', 'comment'] as const;
export type AnswerKind = (typeof ANSWER_KINDS)[number];

/** One answer to one question of a survey (sql/sqlite/006, sql/postgres/007). */
export interface SurveyAnswerTable {
  id: Generated<number>;
  call_id: string;
  /** The asking step's id in the IVR: stable across config edits, used by the API and statistics. */
  question_id: string;
  kind: AnswerKind;
  /** NULL for a spoken comment. */
  value: number | null;
  /** The keys pressed for it (e.g. "10#"); NULL for a spoken comment. */
  digits: string | null;
  recording: string | null;
  recording_ms: number | null;
  recording_format: string | null;
  /** The Asterisk server ([[ari]] name) holding the recording (sql/sqlite/009, sql/postgres/010); NULL: ask each. */
  recording_server: string | null;
  /** When the result service deleted the recording from Asterisk (recording_retention_days); NULL while kept. */
  recording_deleted_at: string | null;
  language: string | null;
  agent_id: string;
  queue_id: string;
  ivr: string;
  answered_at: string;
  /** Where the answer came from (sql/sqlite/015, sql/postgres/016): the IVR's keys or a rating link. */
  source: ColumnType<AnswerSource, AnswerSource | undefined, AnswerSource>;
  /** Feedback from another channel: the customer's words (sql/sqlite/017, sql/postgres/018); NULL otherwise. */
  message: ColumnType<string | null, string | null | undefined, string | null>;
}

/** The channels POST /cc/feedback takes: each is the source of its answers. */
export const FEEDBACK_CHANNELS = ['chat', 'email', 'bot', 'sms', 'web', 'social'] as const;
export type FeedbackChannel = (typeof FEEDBACK_CHANNELS)[number];
/** Where an answer came from: keys on the call, a rating link, or another channel's feedback. */
export const ANSWER_SOURCES = ['ivr', 'link', ...FEEDBACK_CHANNELS] as const;
export type AnswerSource = (typeof ANSWER_SOURCES)[number];

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

export interface CsatRollupTable {
  scope: 'agent' | 'queue' | 'agent_queue';
  period: 'day' | 'week' | 'month';
  queue_id: string;
  agent_id: string;
  period_start: string;
  count: number;
  sum: number;
  n1: number;
  n2: number;
  n3: number;
  n4: number;
  n5: number;
}

/** Answers per question and value (sql/sqlite/011, sql/postgres/012); a spoken comment counts with value 0. */
export interface AnswerRollupTable {
  scope: 'agent' | 'queue';
  period: 'day' | 'week' | 'month';
  queue_id: string;
  agent_id: string;
  question_id: string;
  kind: AnswerKind;
  period_start: string;
  value: number;
  /** survey_answer.source (sql/sqlite/016, sql/postgres/017). */
  source: AnswerSource;
  count: number;
}

/** Surveys per outcome (sql/sqlite/011, sql/postgres/012): detail is last_step or reason, '' when none. */
export interface OutcomeRollupTable {
  scope: 'agent' | 'queue';
  period: 'day' | 'week' | 'month';
  queue_id: string;
  agent_id: string;
  period_start: string;
  outcome: SurveyOutcomeKind;
  detail: string;
  consent: '' | 'accepted' | 'declined';
  count: number;
}

/** Per queue and agent: totals of all ratings up to and including local day `day`. SQLite only (PostgreSQL dropped it: sql/postgres/019). */
export interface CsatRunningTable {
  queue_id: string;
  agent_id: string;
  day: string;
  count: number;
  sum: number;
}

export interface CsatQueueAgentTable {
  queue_id: string;
  agent_id: string;
  first_day: string;
  last_day: string;
}

/** A live survey's lease on its call (PostgreSQL only: sql/postgres/003_survey_claim.sql). */
export interface SurveyClaimTable {
  call_id: string;
  channel_id: string;
  engine_id: string;
  claimed_at: string;
  lease_until: string;
}

/** Each engine's running count of API requests per key (PostgreSQL only: sql/postgres/004_api_key_usage.sql). */
export interface ApiKeyUsageTable {
  key_name: string;
  engine_id: string;
  epoch: string;
  used: number;
  updated_at: string;
}

/** When a caller number was last offered a survey (sql/sqlite/008, sql/postgres/009): the number only as a keyed hash. */
export interface SurveyCallerTable {
  caller_hash: string;
  surveyed_at: string;
  /** The call that was offered the survey; NULL for rows from before sql/sqlite/010, sql/postgres/011. */
  call_id: string | null;
}

/** One export of ratings (sql/sqlite/012, sql/postgres/013): the audit trail of GET /cc/csat/export. */
export interface CsatExportTable {
  id: Generated<number>;
  key_name: string;
  format: 'csv' | 'ndjson';
  /** The export's query as JSON text. */
  filters: string;
  rows: number;
  status: 'running' | 'completed' | 'aborted' | 'failed';
  started_at: string;
  finished_at: string | null;
}

/** One webhook delivery of an alert (sql/sqlite/014, sql/postgres/015): the alert outbox. */
export interface AlertOutboxTable {
  id: Generated<number>;
  /** Sent as Idempotency-Key on every attempt; a row is never inserted twice under one key. */
  idempotency_key: string;
  event: string;
  /** An [[alerts.destination]] name. */
  destination: string;
  call_id: string | null;
  /** The JSON body, frozen when the alert fired. */
  payload: string;
  status: AlertStatus;
  attempts: Generated<number>;
  created_at: string;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  delivered_at: string | null;
  dead_at: string | null;
  /** At most 200 characters, ours ('HTTP 500'), never a response body. */
  last_error: string | null;
  lease_owner: string | null;
  lease_until: string | null;
}

export type AlertStatus = 'pending' | 'delivered' | 'dead';

/** A rating link sent to a caller who left before rating (sql/sqlite/015, sql/postgres/016). */
export interface SurveyLinkTable {
  id: Generated<number>;
  /** SHA-256 (hex) of the token: the token itself is never stored. */
  token_sha256: string;
  call_id: string;
  agent_id: string;
  queue_id: string;
  ivr: string;
  /** The IVR's headline question: what a rating by link answers. */
  question_id: string;
  status: SurveyLinkStatus;
  created_at: string;
  expires_at: string;
  sent_at: string | null;
  completed_at: string | null;
}

export type SurveyLinkStatus = 'pending' | 'sent' | 'completed';

export interface ResultStateTable {
  key: string;
  value: string;
}

export interface Database {
  cc_csat: CcCsatTable;
  survey_outcome: SurveyOutcomeTable;
  schema_migrations: SchemaMigrationsTable;
  csat_rollup: CsatRollupTable;
  csat_running: CsatRunningTable;
  csat_queue_agent: CsatQueueAgentTable;
  answer_rollup: AnswerRollupTable;
  outcome_rollup: OutcomeRollupTable;
  result_state: ResultStateTable;
  survey_claim: SurveyClaimTable;
  api_key_usage: ApiKeyUsageTable;
  survey_answer: SurveyAnswerTable;
  survey_caller: SurveyCallerTable;
  csat_export: CsatExportTable;
  alert_outbox: AlertOutboxTable;
  survey_link: SurveyLinkTable;
}

export type Rating = Selectable<CcCsatTable>;
export type NewRating = Insertable<CcCsatTable>;
export type SurveyOutcome = Selectable<SurveyOutcomeTable>;
export type NewSurveyOutcome = Insertable<SurveyOutcomeTable>;
export type Answer = Selectable<SurveyAnswerTable>;
export type NewAnswer = Insertable<SurveyAnswerTable>;
export type NewSurveyLink = Insertable<SurveyLinkTable>;
