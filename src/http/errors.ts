import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { z } from 'zod';
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

/** Every error leaves as JSON {detail}; stack traces stay in our logs. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof HttpError) return sendError(res, err.status, err.message, err.extra);
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') return sendError(res, 413, 'request body is larger than 16 KB');
    if (type === 'entity.parse.failed') return sendError(res, 400, `malformed JSON body: ${(err as Error).message}`);
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') return sendError(res, 415, (err as Error).message);
    log.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return;
    sendError(res, 500, 'internal error');
  };
}
