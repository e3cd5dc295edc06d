// Every API input and output as a zod schema: validation uses them, and /openapi.json is
// generated from them, so the document cannot drift from what the server enforces.
import { z } from 'zod';
import { forbiddenCharacter, identifierProblem, MAX_ID_CHARS } from '../identifiers.js';
import { isIsoDate } from '../results/zone.js';

export const MAX_COMMENT_CHARS = 1000;
export const MAX_OFFSET = 10_000;

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
    comment: z
      .string()
      .max(MAX_COMMENT_CHARS, `comment is at most ${MAX_COMMENT_CHARS} characters`)
      .superRefine((value, ctx) => {
        const forbidden = forbiddenCharacter(value, { multiline: true });
        if (forbidden) ctx.addIssue({ code: 'custom', message: `comment: ${forbidden}` });
      })
      .nullable()
      .optional(),
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
    recording: z
      .object({ name: z.string(), duration_ms: z.number().int(), format: z.string().nullable() })
      .nullable()
      .meta({ description: 'a spoken comment: the recording Asterisk stored' }),
  })
  .meta({ title: 'Answer' });

export const RatedResponse = Rating.extend({ answers: z.array(AnswerOut).meta({ description: 'every answer of the call, in the order given' }) }).meta({
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
    answers: z.array(AnswerOut),
  })
  .meta({ title: 'CallResponse' });

const count = z.number().int().min(0);

export const StatsQuery = z
  .strictObject({
    period: z.enum(['day', 'week', 'month']).default('day'),
    from: localDate.optional(),
    to: localDate.optional(),
    days: decimal(1, 3660).optional(),
  })
  .refine((q) => !(q.from !== undefined && q.days !== undefined), { message: 'give from or days, not both', path: ['days'] })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: 'from is after to', path: ['from'] });

const Distribution = z
  .object({ '1': count, '2': count, '3': count, '4': count, '5': count })
  .meta({ title: 'Distribution', description: 'number of ratings per score' });
const Average = z.number().nullable().meta({ description: 'two decimals; null when count is 0' });
const Trend = z.array(z.object({ period_start: z.string(), count, average: Average }));

const statsCommon = {
  period: z.enum(['day', 'week', 'month']),
  from: z.string().meta({ description: 'inclusive local date; for week/month widened to the period start' }),
  to: z.string().meta({ description: 'inclusive local date; for week/month widened to the period end' }),
  average: Average,
  count,
  distribution: Distribution,
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

export const ResponsesQuery = z
  .strictObject({
    agent_id: id('agent_id').optional(),
    queue_id: id('queue_id').optional(),
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
  .refine((q) => !(q.cursor !== undefined && q.offset !== 0), { message: 'give cursor or offset, not both', path: ['offset'] });

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
