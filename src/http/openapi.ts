// OpenAPI 3.1 document generated from the same zod schemas that validate requests.
import { z } from 'zod';
import {
  AgentParams,
  AgentStats,
  CallIdParams,
  ConflictBody,
  ErrorBody,
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
  '403': json(ErrorBody, 'the key lacks the scope'),
  '429': {
    ...json(ErrorBody, 'rate limit exceeded'),
    headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds until a request is allowed again' } },
  },
};

const notModified = { description: 'If-None-Match matched the ETag: the statistics have not changed since' };

export function buildOpenApi(version: string): Json {
  const readSecurity = [{ apiKey: [] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'cc-csat API',
      version,
      description:
        'Post-call CSAT ratings and statistics. Statistics are read from rollups refreshed by the result service (see as_of). ' +
        'Every request needs X-API-Key; GET needs scope csat:read, POST csat:write. Responses carry X-RateLimit-Limit and X-RateLimit-Remaining.',
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
          summary: "The caller's spoken comment (a record step), streamed from the Asterisk server that recorded it",
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
      '/cc/csat/responses': {
        get: {
          summary: 'Individual ratings, newest first',
          security: readSecurity,
          parameters: parameters(ResponsesQuery, 'query'),
          responses: { '200': json(ResponsesPage, 'a page of ratings'), ...errors },
        },
      },
    },
  };
}
