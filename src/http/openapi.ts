// OpenAPI 3.1 document generated from the same zod schemas that validate requests.
import { z } from 'zod';
import {
  AgentParams,
  AgentStats,
  CallIdParams,
  ConflictBody,
  ErrorBody,
  FunnelAnswer,
  FunnelQuery,
  QuestionsAnswer,
  QuestionsQuery,
  TeamList,
  QueueList,
  TeamParams,
  TeamStats,
  ExportQuery,
  AlertsPage,
  FeedbackBody,
  FeedbackStored,
  LinkRated,
  LinkRateQuery,
  LinkRefusal,
  LinkState,
  LinkSubmitBody,
  LinkTokenParams,
  AlertsQuery,
  ExportsPage,
  ExportsQuery,
  HealthQuery,
  HealthReport,
  QueueParams,
  QueueStats,
  CallResponse,
  Rating,
  RatingBody,
  ResponsesPage,
  ResponsesQuery,
  StatsQuery,
  ValidationErrorBody,
} from './schemas.js';
import { RecordingQuery } from './recording-route.js';

type Json = Record<string, unknown>;

const schemaOf = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
};

function parameters(schema: z.ZodType, where: 'path' | 'query'): Json[] {
  const json = schemaOf(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

const json = (schema: z.ZodType, description: string): Json => ({
  description,
  content: { 'application/json': { schema: schemaOf(schema, 'output') } },
});

const errors = {
  '400': json(ValidationErrorBody, 'invalid path, query or body'),
  '401': json(ErrorBody, 'missing or wrong X-API-Key'),
  '403': json(ErrorBody, 'the key lacks the scope (the detail names it), or an agent key asked for another agent, a queue or a team'),
  '429': {
    ...json(ErrorBody, 'rate limit exceeded'),
    headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds until a request is allowed again' } },
  },
};

const notModified = { description: 'If-None-Match matched the ETag: the statistics have not changed since' };

/** The public link routes' answers: no key, so no 401/403; 429 per client address. */
function linkResponses(okStatus: string, ok: Json): Json {
  return {
    [okStatus]: ok,
    '400': errors['400'],
    '404': json(LinkRefusal, 'no such link'),
    '409': json(LinkRefusal, 'the call was rated another way meanwhile'),
    '410': json(LinkRefusal, 'the link was used or has expired'),
    '429': { ...json(ErrorBody, 'too many requests from this address (30 a minute to rate or view, 10 to submit)'), headers: errors['429'].headers },
  };
}

export function buildOpenApi(version: string): Json {
  const readSecurity = [{ apiKey: [] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'cc-csat API',
      version,
      description:
        'Post-call CSAT ratings and statistics. Statistics are read from rollups refreshed by the result service (see as_of). ' +
        'Every request needs X-API-Key. A key has scopes, given as a list or by a role: ' +
        'csat:read (statistics, ratings, answers), csat:write (POST a rating), csat:export (GET /cc/csat/export), ' +
        'csat:recordings (GET /cc/csat/{call_id}/recording), csat:admin (GET /cc/csat/exports, GET /cc/csat/alerts). ' +
        'Roles: admin = every scope; supervisor = read, export, recordings; reporting = read, export; ' +
        'agent = read, recordings, bound to one agent_id: it reads only that agent (its statistics, calls, recordings, and ' +
        'questions or funnel with agent_id set to it); another agent, a queue, a team or the whole contact center is 403, ' +
        "another agent's call or recording 404. Responses carry X-RateLimit-Limit and X-RateLimit-Remaining.",
    },
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    paths: {
      '/cc/csat/{call_id}': {
        post: {
          summary: 'Store the rating of a call (one per call)',
          security: readSecurity,
          parameters: parameters(CallIdParams, 'path'),
          requestBody: { required: true, content: { 'application/json': { schema: schemaOf(RatingBody, 'input') } } },
          responses: {
            '201': json(Rating, 'stored'),
            ...errors,
            '409': json(ConflictBody, 'the call is already rated; the existing rating is returned'),
            '413': json(ErrorBody, 'body larger than 16 KB'),
            '415': json(ErrorBody, 'body is not application/json'),
            '503': {
              ...json(ErrorBody, 'the database cannot take the write now (locked, disk full, read-only); nothing was written'),
              headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds after which a retry may succeed' } },
            },
          },
        },
        get: {
          summary: 'The rating of a call',
          security: readSecurity,
          parameters: parameters(CallIdParams, 'path'),
          responses: { '200': json(CallResponse, 'the rating and every answer of the call'), ...errors, '404': json(ErrorBody, 'neither rated nor answered') },
        },
      },
      '/cc/csat/{call_id}/recording': {
        get: {
          summary: "The caller's spoken comment (a record step), streamed from the Asterisk server that recorded it; needs csat:recordings",
          security: readSecurity,
          parameters: [...parameters(CallIdParams, 'path'), ...parameters(RecordingQuery, 'query')],
          responses: {
            '200': {
              description: 'the audio as Asterisk stored it (Content-Type from its format: audio/wav for wav and wav16)',
              content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            },
            ...errors,
            '404': json(ErrorBody, 'no recording for the call (or question), or deleted after the recording retention'),
            '503': {
              ...json(ErrorBody, 'the Asterisk server holding the recording cannot be reached now'),
              headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds after which a retry may succeed' } },
            },
          },
        },
      },
      '/cc/csat/agent/{agent_id}': {
        get: {
          summary: "An agent's statistics, per queue rank and trend",
          security: readSecurity,
          parameters: [...parameters(AgentParams, 'path'), ...parameters(StatsQuery, 'query')],
          responses: { '200': json(AgentStats, 'statistics'), '304': notModified, ...errors },
        },
      },
      '/cc/csat/queue/{queue_id}': {
        get: {
          summary: "A queue's statistics and agent ranking",
          security: readSecurity,
          parameters: [...parameters(QueueParams, 'path'), ...parameters(StatsQuery, 'query')],
          responses: { '200': json(QueueStats, 'statistics'), '304': notModified, ...errors, '404': json(ErrorBody, 'queue unknown to config and never rated') },
        },
      },
      '/cc/csat/queues': {
        get: {
          summary: "The configured queues (sorted, following reloads) and the calling key's name, scopes and agent binding",
          security: readSecurity,
          responses: { '200': json(QueueList, 'the queues and the key'), ...errors },
        },
      },
      '/cc/csat/teams': {
        get: {
          summary: 'The teams of config/teams.toml as loaded now (reloaded with queues and IVRs); not for agent keys',
          security: readSecurity,
          responses: { '200': json(TeamList, 'every team, in file order'), ...errors },
        },
      },
      '/cc/csat/team/{team_id}': {
        get: {
          summary: "A team's statistics: its current members' ratings for every period (membership is not historized), and their ranking",
          security: readSecurity,
          parameters: [...parameters(TeamParams, 'path'), ...parameters(StatsQuery, 'query')],
          responses: { '200': json(TeamStats, 'statistics'), '304': notModified, ...errors, '404': json(ErrorBody, 'no such team in teams.toml') },
        },
      },
      '/cc/csat/questions': {
        get: {
          summary: 'Per-question statistics (every survey question, or question_id) of a queue, an agent, a team or the whole contact center',
          security: readSecurity,
          parameters: parameters(QuestionsQuery, 'query'),
          responses: { '200': json(QuestionsAnswer, 'one entry per question, ordered by question_id'), '304': notModified, ...errors, '404': json(ErrorBody, 'team_id names no team') },
        },
      },
      '/cc/csat/funnel': {
        get: {
          summary: 'How surveys ended (offered, accepted, completed, abandoned and where...) for a queue, an agent, a team or the whole contact center',
          security: readSecurity,
          parameters: parameters(FunnelQuery, 'query'),
          responses: { '200': json(FunnelAnswer, 'the funnel'), '304': notModified, ...errors, '404': json(ErrorBody, 'team_id names no team') },
        },
      },
      '/cc/csat/responses': {
        get: {
          summary: 'Individual ratings, newest first (the drilldown); an agent key sees its own agent only',
          security: readSecurity,
          parameters: parameters(ResponsesQuery, 'query'),
          responses: { '200': json(ResponsesPage, 'a page of ratings'), ...errors },
        },
      },
      '/cc/csat/export': {
        get: {
          summary: 'Every rated call of a range (default: the last 30 days, at most 3660), streamed as CSV or NDJSON; needs csat:export; recorded in the audit trail',
          security: readSecurity,
          parameters: parameters(ExportQuery, 'query'),
          responses: {
            '200': {
              description:
                'one record per rated call, oldest first: id, call_id, created_at, agent_id, queue_id, score, comment (runs of 7+ digits masked as [number]), answers ' +
                '(CSV: "q1=5;nps=9", cells starting with = + - @ prefixed with \'; NDJSON: [{question_id, kind, value}]). A transfer cut short means the export failed.',
              content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } },
            },
            ...errors,
            '503': json(ErrorBody, 'the database cannot record the export now; nothing was exported'),
          },
        },
      },
      '/cc/csat/exports': {
        get: {
          summary: 'The audit trail of exports, newest first; needs csat:admin',
          security: readSecurity,
          parameters: parameters(ExportsQuery, 'query'),
          responses: { '200': json(ExportsPage, 'a page of exports'), ...errors },
        },
      },
      '/cc/feedback': {
        post: {
          summary: 'Feedback from another channel (chat, email, bot, sms, web, social): stored as an answer whose source is the channel; each type on its range (CSAT 1-5, NPS 0-10, THUMB 0/1); needs csat:write',
          security: readSecurity,
          requestBody: { required: true, content: { 'application/json': { schema: schemaOf(FeedbackBody, 'input') } } },
          responses: {
            '201': json(FeedbackStored, 'stored (committed), with the alerts it fired'),
            ...errors,
            '409': json(ErrorBody, 'feedback of this name was already recorded for this conversation'),
            '415': json(ErrorBody, 'the body must be JSON'),
          },
        },
      },
      '/cc/csat/rate': {
        get: {
          summary: 'One-click rating from a rating link: records the rating at once (single use). No API key: the token is the credential. HTML unless JSON is asked for',
          security: [],
          parameters: parameters(LinkRateQuery, 'query'),
          responses: linkResponses('200', json(LinkRated, 'rated; a browser gets a thank-you page')),
        },
      },
      '/cc/csat/survey/{token}': {
        get: {
          summary: 'The rating form of a link (a score 1-5 and a comment); JSON: whether it is still usable. No API key',
          security: [],
          parameters: parameters(LinkTokenParams, 'path'),
          responses: linkResponses('200', json(LinkState, 'usable; a browser gets the form')),
        },
      },
      '/cc/csat/survey/{token}/submit': {
        post: {
          summary: "The form's answer: the rating and optional feedback (stored as the comment). JSON or urlencoded. No API key",
          security: [],
          parameters: parameters(LinkTokenParams, 'path'),
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: schemaOf(LinkSubmitBody, 'input') },
              'application/x-www-form-urlencoded': { schema: schemaOf(LinkSubmitBody, 'input') },
            },
          },
          responses: linkResponses('201', json(LinkRated, 'rated (a form post gets a thank-you page, 200)')),
        },
      },
      '/cc/csat/alerts': {
        get: {
          summary: 'The alert outbox, newest first: each delivery with its state, attempts, last error and the payload sent, and the backlog (pending, dead); needs csat:admin',
          security: readSecurity,
          parameters: parameters(AlertsQuery, 'query'),
          responses: { '200': json(AlertsPage, 'a page of alert deliveries'), ...errors },
        },
      },
      '/cc/csat/health': {
        get: {
          summary: "The dashboard's queries over the last 30 days timed against budgets, the result service's lag and the data's size (measured at most every few seconds)",
          security: readSecurity,
          parameters: parameters(HealthQuery, 'query'),
          responses: { '200': json(HealthReport, 'the report'), ...errors },
        },
      },
    },
  };
}
