import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { asStorageError } from '../db/storage-error.js';
import type { Logger } from '../log.js';

/** A request error with its HTTP status and JSON body. Thrown by handlers, rendered by errorHandler. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export function validationError(where: 'body' | 'query' | 'path', error: z.ZodError): HttpError {
  const issues = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : where;
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
    }
    if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return { path, message: `${path} is required` };
    return { path, message: issue.message };
  });
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return new HttpError(400, `invalid ${where}: ${summary}`, { issues });
}

export function sendError(res: Response, status: number, detail: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ detail, ...extra });
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, `no route for ${req.method} ${req.path}`);
};

/** The 4xx a request's own mistake earns when it fails before a handler (router, body parser), or undefined. */
function clientMistake(err: unknown): { status: number; detail: string } | undefined {
  const { type, status, message } = err as { type?: string; status?: unknown; message?: string };
  if (type === 'entity.too.large') return { status: 413, detail: 'request body is larger than 16 KB' };
  if (type === 'entity.parse.failed') {
    // strict mode refuses valid JSON that is not an object or array ("x", 5, null): say so plainly.
    const body = String((err as { body?: unknown }).body ?? '').trimStart();
    if (body !== '' && body[0] !== '{' && body[0] !== '[') return { status: 400, detail: 'body must be a JSON object' };
    return { status: 400, detail: `malformed JSON body: ${message}` };
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return { status: 415, detail: String(message) };
  if (err instanceof URIError) return { status: 400, detail: 'path: not valid percent-encoding (%XX of UTF-8 bytes)' };
  // body-parser marks a body that does not inflate (Content-Encoding: gzip on plain bytes) as 400.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, detail: status === 400 ? `request body could not be read: ${message}` : String(message) };
  }
  return undefined;
}

/**
 * Every error leaves as JSON {detail}. A client's mistake is a 4xx logged at debug at most (a
 * stream of bad requests must not fill the logs); the database's trouble is a 503 the client may
 * retry; anything else is our bug: 500, with the stack in our logs.
 */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    const answer = errorAnswer(err, req, log);
    if (answer.retryAfterSeconds !== undefined) res.set('Retry-After', String(answer.retryAfterSeconds));
    sendError(res, answer.status, answer.detail, answer.extra);
  };
}

export interface ErrorAnswer {
  readonly status: number;
  readonly detail: string;
  readonly extra?: Record<string, unknown>;
  readonly retryAfterSeconds?: number | undefined;
}

/** What an error becomes for the client (and the one log line it is worth); errorHandler sends it as JSON. */
export function errorAnswer(err: unknown, req: Request, log: Logger): ErrorAnswer {
  if (err instanceof HttpError) return { status: err.status, detail: err.message, extra: err.extra };
  const mistake = clientMistake(err);
  if (mistake) {
    log.debug({ status: mistake.status, detail: mistake.detail, method: req.method }, 'request refused');
    return mistake;
  }
  const storage = asStorageError(err);
  if (storage) {
    log.warn({ err: storage.message, method: req.method, route: req.route?.path }, 'request failed: database unavailable; nothing written');
    return { status: 503, detail: storage.message, retryAfterSeconds: storage.retryAfterSeconds };
  }
  log.error({ err, method: req.method, route: req.route?.path }, 'request failed');
  return { status: 500, detail: 'internal error' };
}
