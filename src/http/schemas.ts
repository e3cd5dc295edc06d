// Every API input and output as a zod schema: validation uses them, and /openapi.json is
// generated from them, so the document cannot drift from what the server enforces.
import { z } from 'zod';
import { forbiddenCharacter, identifierProblem, MAX_ID_CHARS } from '../identifiers.js';
import { ANSWER_SOURCES, FEEDBACK_CHANNELS } from '../db/schema.js';
import { isIsoDate } from '../results/zone.js';
import { SURVEY_OUTCOMES } from '../db/schema.js';

export const MAX_COMMENT_CHARS = 1000;
export const MAX_OFFSET = 10_000;

/**
 * A person's words (a comment, a link's feedback, a channel's message): several lines allowed, but
 * none of the characters PostgreSQL refuses (NUL) or that would reach an export or a terminal as
 * control codes. `label` names the field inside the messages (the API's older style for comments).
 */
const freeText = (max: number, label?: string) =>
  z
    .string()
    .max(max, label ? `${label} is at most ${max} characters` : `must be at most ${max} characters`)
    .superRefine((value, ctx) => {
      const forbidden = forbiddenCharacter(value, { multiline: true });
      if (forbidden) ctx.addIssue({ code: 'custom', message: label ? `${label}: ${forbidden}` : forbidden });
    });

/** Same rule as the IVR's admission (src/identifiers.ts): what the IVR stores, the API can query. */
const id = (what: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = identifierProblem(value, what);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description: `1-${MAX_ID_CHARS} characters; inner spaces allowed; no control or invisible formatting characters` });

// Statistics are kept for ratings of this era; outside it, date arithmetic would leave 4-digit years.
export const MIN_DATE = '1970-01-01';
export const MAX_DATE = '2999-12-31';
const localDate = z
  .string()
  .refine(isIsoDate, { message: 'must be a date YYYY-MM-DD' })
  .refine((date) => date >= MIN_DATE && date <= MAX_DATE, { message: `must be a date from ${MIN_DATE} to ${MAX_DATE}` });

/** A whole number written in decimal digits only: "0x10", "1e3", " 16" and "16.0" are refused, not reinterpreted. */
const decimal = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number written in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .meta({ type: 'integer', minimum: min, maximum: max });

export const CallIdParams = z.object({ call_id: id('call_id') });
export const AgentParams = z.object({ agent_id: id('agent_id') });
export const QueueParams = z.object({ queue_id: id('queue_id') });

export const RatingBody = z
  .strictObject({
    score: z.number({ error: (issue) => (issue.input === undefined ? 'score is required' : 'score must be a number') }).int('score must be a whole number').min(1, 'score is 1 to 5').max(5, 'score is 1 to 5'),
    comment: freeText(MAX_COMMENT_CHARS, 'comment').nullable().optional(),
    agent_id: id('agent_id'),
    queue_id: id('queue_id'),
  })
  .meta({ example: { score: 5, comment: 'Great service', agent_id: 'agent-001', queue_id: 'sales-queue' } });

export const Rating = z
  .object({
    id: z.number().int(),
    call_id: z.string(),
    agent_id: z.string(),
    queue_id: z.string(),
    score: z.number().int().min(1).max(5),
    comment: z.string().nullable(),
    created_at: z.string().meta({ description: 'UTC ISO-8601 with milliseconds' }),
  })
  .meta({ title: 'Rating' });

export const AnswerOut = z
  .object({
    question_id: z.string().meta({ description: "the asking step's id in the IVR" }),
    kind: z.enum(['csat', 'nps', 'ces', 'yes_no', 'scale', 'comment']),
    value: z.number().int().nullable().meta({ description: 'csat 1-5, nps 0-10, ces 1-7, yes_no 1/0, scale in its range; null for a comment' }),
    digits: z.string().nullable().meta({ description: 'the keys pressed' }),
    language: z.string().nullable(),
    answered_at: z.string().meta({ description: 'UTC ISO-8601 with milliseconds' }),
    source: z.enum(ANSWER_SOURCES).meta({ description: 'ivr: keys on the call; link: a rating link the caller opened later; chat, email, bot, sms, web, social: POST /cc/feedback' }),
    message: z.string().nullable().meta({ description: "feedback from another channel: the customer's words; null otherwise" }),
    recording: z
      .object({ name: z.string(), duration_ms: z.number().int(), format: z.string().nullable() })
      .nullable()
      .meta({ description: 'a spoken comment: the recording Asterisk stored' }),
  })
  .meta({ title: 'Answer' });

/** An answer in the drilldown and GET /cc/csat/{call_id}: with a link to its recording (a spoken comment still kept). */
const DrilldownAnswer = AnswerOut.extend({
  recording_url: z.string().nullable().meta({ description: 'GET it (scope csat:recordings) for the audio; null without a recording or once it was deleted' }),
}).meta({ title: 'DrilldownAnswer' });

export const RatedResponse = Rating.extend({ answers: z.array(DrilldownAnswer).meta({ description: 'every answer of the call, in the order given' }) }).meta({
  title: 'RatedResponse',
});

/** A call's rating (null fields when its survey had no headline csat question) and all its answers. */
export const CallResponse = z
  .object({
    id: z.number().int().nullable(),
    call_id: z.string(),
    agent_id: z.string(),
    queue_id: z.string(),
    score: z.number().int().min(1).max(5).nullable(),
    comment: z.string().nullable(),
    created_at: z.string().nullable(),
    answers: z.array(DrilldownAnswer),
  })
  .meta({ title: 'CallResponse' });

const count = z.number().int().min(0);

const statsQueryFields = {
  period: z.enum(['day', 'week', 'month']).default('day'),
  from: localDate.optional(),
  to: localDate.optional(),
  days: decimal(1, 3660).optional(),
};
type StatsQueryFields = { from?: string | undefined; to?: string | undefined; days?: number | undefined };
const statsQueryRules = <S extends z.ZodType<StatsQueryFields>>(schema: S) =>
  schema
    .refine((q) => !(q.from !== undefined && q.days !== undefined), { message: 'give from or days, not both', path: ['days'] })
    .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: 'from is after to', path: ['from'] });

export const StatsQuery = statsQueryRules(z.strictObject(statsQueryFields));

export const TeamParams = z.object({ team_id: id('team_id') });

// A question id is a collect or record step's id (src/config/schema.ts stepId).
const questionId = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be a question id: letters, digits, "_" and "-", at most 64 characters, starting with a letter');

const subjectFields = {
  queue_id: id('queue_id').optional(),
  agent_id: id('agent_id').optional(),
  team_id: id('team_id').optional(),
};
const oneSubject = <S extends z.ZodType<{ queue_id?: string | undefined; agent_id?: string | undefined; team_id?: string | undefined }>>(schema: S) =>
  schema.refine((q) => [q.queue_id, q.agent_id, q.team_id].filter((given) => given !== undefined).length <= 1, {
    message: 'give at most one of queue_id, agent_id and team_id',
    path: ['queue_id'],
  });

/** The funnel of one queue, agent or team, or (with none) the whole contact center. */
export const FunnelQuery = oneSubject(statsQueryRules(z.strictObject({ ...statsQueryFields, ...subjectFields })));
export const QuestionsQuery = oneSubject(
  statsQueryRules(
    z.strictObject({
      ...statsQueryFields,
      ...subjectFields,
      question_id: questionId.optional().meta({ description: 'only this question' }),
      source: z.enum(ANSWER_SOURCES).optional().meta({ description: 'only answers given this way: ivr (keys on the call), link (a rating link opened later), or a channel of POST /cc/feedback (chat, email, bot, sms, web, social)' }),
    }),
  ),
);

const Distribution = z
  .object({ '1': count, '2': count, '3': count, '4': count, '5': count })
  .meta({ title: 'Distribution', description: 'number of ratings per score' });
const Average = z.number().nullable().meta({ description: 'two decimals; null when count is 0' });
const Trend = z.array(z.object({ period_start: z.string(), count, average: Average }));

const Percent = z.number().nullable().meta({ description: '0-100, one decimal; null when there is nothing to compute from' });
const Nps = z.number().nullable().meta({ description: '-100..100, one decimal; null when there is nothing to compute from' });

const statsCommon = {
  period: z.enum(['day', 'week', 'month']),
  from: z.string().meta({ description: 'inclusive local date; for week/month widened to the period start' }),
  to: z.string().meta({ description: 'inclusive local date; for week/month widened to the period end' }),
  average: Average,
  count,
  distribution: Distribution,
  csat_percent: Percent.meta({ description: 'share of 4 and 5 among the ratings, 0-100, one decimal; null without ratings' }),
  csat_nps: Nps.meta({ description: '(n4 + n5 - n1 - n2) / count x 100, one decimal; null without ratings' }),
  trend: Trend,
  as_of: z.string().nullable().meta({ description: 'when the rollups were last refreshed' }),
};

export const AgentStats = z
  .object({
    agent_id: z.string(),
    ...statsCommon,
    queues: z.array(z.object({ queue_id: z.string(), rank: z.number().int().nullable(), of: count, average: Average, count })),
  })
  .meta({ title: 'AgentStats' });

export const QueueStats = z
  .object({
    queue_id: z.string(),
    ...statsCommon,
    agent_ranking: z.array(z.object({ rank: z.number().int().nullable(), agent_id: z.string(), average: Average, count })),
  })
  .meta({ title: 'QueueStats' });

export const TeamStats = z
  .object({
    team_id: z.string(),
    name: z.string(),
    ...statsCommon,
    agent_ranking: z.array(z.object({ rank: z.number().int().nullable(), agent_id: z.string(), average: Average, count })),
  })
  .meta({ title: 'TeamStats', description: "the team's current members' ratings, for every period (membership is not historized)" });

export const TeamList = z
  .object({ teams: z.array(z.object({ team_id: z.string(), name: z.string(), agents: z.array(z.string()) })) })
  .meta({ title: 'TeamList' });

/** The dashboard's queue picker, and what the calling key may do (it hides what the key cannot use). */
export const QueueList = z
  .object({
    queues: z.array(z.object({ queue_id: z.string(), csat_enabled: z.boolean() })),
    key: z.object({ name: z.string(), scopes: z.array(z.string()), agent_id: z.string().nullable() }),
  })
  .meta({ title: 'QueueList' });

const rangeFields = {
  period: z.enum(['day', 'week', 'month']),
  from: z.string(),
  to: z.string(),
  as_of: z.string().nullable(),
};
const subjectOut = { queue_id: z.string().optional(), agent_id: z.string().optional(), team_id: z.string().optional() };

export const QuestionStats = z
  .object({
    question_id: z.string(),
    kind: z.enum(['csat', 'nps', 'ces', 'yes_no', 'scale', 'comment']),
    count,
    average: Average,
    distribution: z.record(z.string(), count).meta({ description: "answers per value; every value of the kind's range, zeros included ({} for comments)" }),
    nps: Nps.optional().meta({ description: 'kind nps: % promoters (9-10) - % detractors (0-6)' }),
    csat_percent: Percent.optional().meta({ description: 'kind csat: share of 4 and 5' }),
    csat_nps: Nps.optional().meta({ description: 'kind csat: (n4 + n5 - n1 - n2) / count x 100' }),
    yes_percent: Percent.optional().meta({ description: 'kind yes_no: share of yes (1)' }),
    trend: z.array(
      z.object({ period_start: z.string(), count, average: Average, nps: Nps.optional(), csat_percent: Percent.optional(), yes_percent: Percent.optional() }),
    ),
  })
  .meta({ title: 'QuestionStats' });

export const QuestionsAnswer = z
  .object({ ...subjectOut, source: z.enum(ANSWER_SOURCES).optional().meta({ description: 'the source asked for, when one was' }), ...rangeFields, questions: z.array(QuestionStats) })
  .meta({ title: 'Questions' });

export const FunnelAnswer = z
  .object({
    ...subjectOut,
    ...rangeFields,
    offered: count.meta({ description: 'every survey outcome except skipped (not eligible: no survey was offered)' }),
    accepted: count.meta({ description: 'offered - declined' }),
    declined: count,
    completed: count,
    abandoned: count,
    no_input: count,
    invalid: count,
    failed: count,
    skipped: count,
    response_rate: Percent.meta({ description: 'completed / offered x 100, one decimal; null when offered is 0' }),
    abandoned_at: z.record(z.string(), count).meta({ description: 'abandoned surveys by the step the caller left at' }),
    skipped_by_reason: z.record(z.string(), count),
    declined_by_reason: z.record(z.string(), count),
    failed_by_reason: z.record(z.string(), count),
    trend: z.array(z.object({ period_start: z.string(), offered: count, completed: count, response_rate: Percent })),
  })
  .meta({ title: 'Funnel' });

export const ResponsesQuery = z
  .strictObject({
    agent_id: id('agent_id').optional(),
    queue_id: id('queue_id').optional(),
    team_id: id('team_id').optional().meta({ description: "calls taken by the team's current members" }),
    question_id: questionId.optional().meta({ description: 'only calls that answered this question' }),
    min_value: decimal(0, 999_999).optional().meta({ description: 'with question_id: its answer is at least this' }),
    max_value: decimal(0, 999_999).optional().meta({ description: 'with question_id: its answer is at most this' }),
    outcome: z.enum(SURVEY_OUTCOMES).optional().meta({ description: 'only calls whose survey ended this way' }),
    has_comment: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .transform((given) => given === 'true')
      .optional()
      .meta({ description: 'true: only calls with a typed or spoken comment; false: only calls without' }),
    from: localDate.optional(),
    to: localDate.optional(),
    limit: decimal(1, 200).default(50),
    // Deep pages by offset cost a scan of every skipped row; past this, follow next_cursor.
    offset: decimal(0, MAX_OFFSET).default(0),
    cursor: z
      .string()
      .max(200, 'cursor is at most 200 characters')
      .meta({ description: 'next_cursor of the previous page: continues after its last item' })
      .optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: 'from is after to', path: ['from'] })
  .refine((q) => !(q.cursor !== undefined && q.offset !== 0), { message: 'give cursor or offset, not both', path: ['offset'] })
  .refine((q) => !(q.team_id !== undefined && q.agent_id !== undefined), { message: 'give agent_id or team_id, not both', path: ['team_id'] })
  .refine((q) => q.min_value === undefined || q.question_id !== undefined, { message: 'min_value needs question_id (the question whose answer it bounds)', path: ['min_value'] })
  .refine((q) => q.max_value === undefined || q.question_id !== undefined, { message: 'max_value needs question_id (the question whose answer it bounds)', path: ['max_value'] })
  .refine((q) => q.min_value === undefined || q.max_value === undefined || q.min_value <= q.max_value, { message: 'min_value is above max_value', path: ['min_value'] });

export const ResponsesPage = z
  .object({
    items: z.array(RatedResponse),
    total: count,
    limit: z.number().int(),
    offset: z.number().int(),
    next_cursor: z.string().nullable().meta({ description: 'pass as cursor for the next page; null on the last page' }),
  })
  .meta({ title: 'ResponsesPage' });

export const ErrorBody = z.object({ detail: z.string() }).meta({ title: 'Error' });
export const ValidationErrorBody = z
  .object({ detail: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })) })
  .meta({ title: 'ValidationError' });
export const ConflictBody = z.object({ detail: z.string(), existing: Rating }).meta({ title: 'Conflict' });

// Longest range one export may cover (ten years); without from/to, the last 30 days.
export const MAX_EXPORT_DAYS = 3660;
export const DEFAULT_EXPORT_DAYS = 30;

export const ExportQuery = z
  .strictObject({
    format: z.enum(['csv', 'ndjson'], { error: 'must be csv or ndjson' }).default('csv'),
    from: localDate.optional().meta({ description: `first local date (results.timezone); default: ${DEFAULT_EXPORT_DAYS - 1} days before to` }),
    to: localDate.optional().meta({ description: 'last local date, inclusive; default: today' }),
    queue_id: id('queue_id').optional(),
    agent_id: id('agent_id').optional(),
    team_id: id('team_id').optional(),
    include_comments: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .default('true')
      .transform((given) => given === 'true')
      .meta({ description: 'false leaves the comment column out' }),
  })
  .refine((q) => [q.queue_id, q.agent_id, q.team_id].filter((given) => given !== undefined).length <= 1, {
    message: 'give at most one of queue_id, agent_id and team_id',
    path: ['queue_id'],
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: 'from is after to', path: ['from'] });

export const ExportsQuery = z.strictObject({
  limit: decimal(1, 200).default(50),
  cursor: z.string().max(40, 'cursor is at most 40 characters').optional().meta({ description: 'next_cursor of the previous page' }),
});

export const ExportRecordOut = z
  .object({
    id: z.number().int(),
    key_name: z.string(),
    format: z.enum(['csv', 'ndjson']),
    filters: z.record(z.string(), z.unknown()).meta({ description: 'the range (local dates), the subject and include_comments the export used' }),
    rows: count,
    status: z.enum(['running', 'completed', 'aborted', 'failed']).meta({
      description: 'running: still going, or (with an old started_at) cut short by an engine that stopped mid-export',
    }),
    started_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .meta({ title: 'ExportRecord' });

export const AlertsQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'dead']).optional().meta({ description: 'only deliveries in this state' }),
  limit: decimal(1, 200).default(50),
  cursor: z.string().max(40, 'cursor is at most 40 characters').optional().meta({ description: 'next_cursor of the previous page' }),
});

export const AlertOut = z
  .object({
    id: z.number().int(),
    status: z.enum(['pending', 'delivered', 'dead']).meta({ description: 'pending: waiting or being retried; delivered: a 2xx from the receiver; dead: given up on (cc-csat alerts retry sends it again)' }),
    event: z.string(),
    destination: z.string().meta({ description: 'the [[alerts.destination]] name' }),
    call_id: z.string().nullable(),
    idempotency_key: z.string().meta({ description: 'sent as Idempotency-Key on every attempt' }),
    attempts: count,
    created_at: z.string(),
    next_attempt_at: z.string().nullable(),
    last_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    dead_at: z.string().nullable(),
    last_error: z.string().nullable().meta({ description: "ours, short: 'HTTP 500', 'timeout after 5000 ms'; never the receiver's body" }),
    payload: z.record(z.string(), z.unknown()).meta({ description: 'the JSON body POSTed, as sent on every attempt' }),
  })
  .meta({ title: 'Alert' });

export const AlertsPage = z
  .object({
    items: z.array(AlertOut),
    next_cursor: z.string().nullable(),
    backlog: z.object({ pending: count, dead: count }).meta({ description: 'the whole outbox, whatever the filter' }),
  })
  .meta({ title: 'AlertsPage' });

export const ExportsPage = z
  .object({ items: z.array(ExportRecordOut), next_cursor: z.string().nullable() })
  .meta({ title: 'ExportsPage' });

export const HealthQuery = z.strictObject({
  budget_ms: decimal(0, 60_000).default(500).meta({ description: 'budget of each query, ms' }),
  total_budget_ms: decimal(0, 600_000).default(2000).meta({ description: 'budget of all queries together, ms' }),
});

export const HealthReport = z
  .object({
    queries: z.array(z.object({ name: z.string(), ms: z.number(), budget_ms: z.number().int(), ok: z.boolean() })),
    total_ms: z.number(),
    total_budget_ms: z.number().int(),
    result_service: z.object({
      as_of: z.string().nullable(),
      lag_seconds: z.number().nullable().meta({ description: 'seconds since the rollups were last refreshed; null before the first run' }),
    }),
    data: z.object({
      ratings: count,
      answers: count,
      outcomes: count,
      estimated: z.boolean().meta({ description: "true when the counts are estimates: PostgreSQL's statistics, or the tables' highest ids (rows are never deleted)" }),
    }),
    measured_at: z.string().meta({ description: 'when the queries ran (the report is shared for a few seconds)' }),
    target_met: z.boolean().meta({ description: 'every query within budget_ms and all within total_budget_ms' }),
  })
  .meta({ title: 'HealthReport' });

// ------------------------------------------------------------------ rating links (public, no key)

const MAX_LINK_FEEDBACK = 1000;
const LINK_RATING_RANGE = 'must be a whole number from 1 to 5';

export const LinkRateQuery = z.object({
  token: z.string().optional().meta({ description: 'the token of the link sent to the caller' }),
  rating: z
    .string()
    .regex(/^[1-5]$/, 'must be a whole number from 1 to 5')
    .transform(Number)
    .meta({ type: 'integer', minimum: 1, maximum: 5 }),
});

export const LinkTokenParams = z.object({ token: z.string().meta({ description: 'the token of the link sent to the caller' }) });

export const LinkSubmitBody = z.strictObject({
  // A form posts "4", a JSON client 4.
  rating: z.preprocess(
    (value) => (typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : value),
    z
      .number({ error: (issue) => (issue.input === undefined ? 'is required' : LINK_RATING_RANGE) })
      .int(LINK_RATING_RANGE)
      .min(1, LINK_RATING_RANGE)
      .max(5, LINK_RATING_RANGE),
  ),
  feedback: freeText(MAX_LINK_FEEDBACK).optional().meta({ description: "the caller's words, stored as the rating's comment" }),
});

export const LinkState = z
  .object({
    status: z.enum(['pending', 'sent']).meta({ description: 'pending: created, not yet delivered to the sender; sent: delivered' }),
    expires_at: z.string(),
    scale: z.object({ min: z.literal(1), max: z.literal(5) }),
  })
  .meta({ title: 'LinkState' });

export const LinkRated = z.object({ status: z.literal('rated'), rating: z.number().int() }).meta({ title: 'LinkRated' });

export const LinkRefusal = z
  .object({
    detail: z.string(),
    status: z.enum(['unknown', 'completed', 'expired', 'already_rated']).meta({ description: 'unknown (404), completed: used already (410), expired (410), already_rated: the call was rated another way (409)' }),
  })
  .meta({ title: 'LinkRefusal' });

// ------------------------------------------------------------------ feedback from other channels

/** Each type on its own range: CSAT 1-5, NPS 0-10, THUMB 0 (down) or 1 (up). */
const FEEDBACK_RANGES = { CSAT: [1, 5], NPS: [0, 10], THUMB: [0, 1] } as const;

export const FeedbackBody = z
  .strictObject({
    channelUId: id('channelUId').meta({ description: "the conversation's id in the channel's platform: one feedback per conversation and name; with its channel and a colon it is the stored call id, so at most 128 minus the channel's length and 1" }),
    name: questionId.meta({ description: 'the question it answers (its question_id in the statistics), e.g. post-chat-csat' }),
    score: z.number({ error: (issue) => (issue.input === undefined ? 'score is required' : 'score must be a number') }).int('score must be a whole number'),
    channel: z.enum(FEEDBACK_CHANNELS),
    type: z.enum(['CSAT', 'NPS', 'THUMB']),
    language: z
      .string()
      .regex(/^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$/, 'must be a language code, e.g. en, fr or fr_CA')
      .nullish(),
    message: freeText(MAX_COMMENT_CHARS, 'message').nullish(),
    agent_id: id('agent_id').optional().meta({ description: 'the agent, when the platform knows one; none: counted for the contact center only' }),
    queue_id: id('queue_id').optional().meta({ description: 'a queue of queues.toml, when the feedback belongs to one' }),
  })
  .superRefine((body, ctx) => {
    const [min, max] = FEEDBACK_RANGES[body.type];
    if (body.score < min || body.score > max) ctx.addIssue({ code: 'custom', path: ['score'], message: `a ${body.type} score is ${min} to ${max}` });
  })
  .meta({ example: { channelUId: 'conv-8842', name: 'post-chat-csat', score: 2, channel: 'chat', type: 'CSAT', language: 'en', message: 'Slow answers' } });

export const FeedbackStored = z
  .object({
    call_id: z.string().meta({ description: '"<channel>:<channelUId>": the id the answer is stored under' }),
    question_id: z.string(),
    kind: z.enum(['csat', 'nps', 'yes_no']),
    value: z.number().int(),
    source: z.enum(FEEDBACK_CHANNELS),
    answered_at: z.string(),
  })
  .meta({ title: 'FeedbackStored' });
