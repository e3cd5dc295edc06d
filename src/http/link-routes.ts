// The public rating-link endpoints: no API key, the token is the credential. A caller taps a
// one-click link (GET /cc/csat/rate?token=...&rating=N) or opens the form (GET /cc/csat/survey/:token,
// POST .../submit). Pages for browsers, JSON for clients that ask for it. The token never reaches a
// log line or a metric label (routes are labelled by pattern), and only its hash is looked up.
import { isUtf8 } from 'node:buffer';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { TOKEN_PATTERN, tokenSha256 } from '../links/tokens.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { LinkedAnswer, LinkRatingResult, SurveyLinkStore } from '../storage/ports.js';
import { loneAnswerAlerts, type AlertRules } from '../alerts/call-alerts.js';
import { AddressLimiter } from './address-limiter.js';
import { errorAnswer, HttpError } from './errors.js';
import { messagePage, surveyFormPage, thankYouPage } from './link-pages.js';
import { parse } from './parse-input.js';
import { LinkRateQuery, LinkSubmitBody } from './schemas.js';

/** Per client address and minute (issue 14): one-click ratings and form views, and form submissions. */
export const LINK_RATING_PER_MINUTE = 30;
export const LINK_SUBMIT_PER_MINUTE = 10;

export interface LinkRouteDeps {
  readonly links: SurveyLinkStore;
  readonly now: () => Date;
  readonly log: Logger;
  readonly metrics?: Metrics | undefined;
  /** The alert rules a rating by link goes through, like an IVR answer; the team in them from teams.toml. */
  readonly alerts?: AlertRules | undefined;
  /** [alerts] public_url: the form posts back to it (a path prefix behind a proxy included). */
  readonly publicUrl?: string | undefined;
  readonly ratingLimiter?: AddressLimiter;
  readonly submitLimiter?: AddressLimiter;
}

// The form posts urlencoded, API clients JSON; both small, both UTF-8.
const utf8Only = (_req: unknown, _res: unknown, bytes: Buffer): void => {
  if (!isUtf8(bytes)) throw new HttpError(400, 'request body is not valid UTF-8');
};
const formBody = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10, verify: utf8Only });
const jsonBody = express.json({ limit: '16kb', strict: true, verify: utf8Only });

/** Answers for people and programs: a page, or JSON when the client asked for it. */
function wantsJson(req: Request): boolean {
  return req.is('application/json') === 'application/json' || req.accepts(['html', 'json']) === 'json';
}

function privateHeaders(res: Response): void {
  // The URL holds the token: no cache keeps it, no Referer carries it to another site, no index lists it.
  res.set({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Robots-Tag': 'noindex, nofollow',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  });
}

function answer(req: Request, res: Response, status: number, title: string, detail: string, extra: Record<string, unknown> = {}): void {
  res.status(status);
  if (wantsJson(req)) res.json({ detail, ...extra });
  else res.type('html').send(messagePage(title, detail));
}

function refusal(req: Request, res: Response, result: Exclude<LinkRatingResult, { kind: 'rated' }>): void {
  switch (result.kind) {
    case 'unknown':
      return answer(req, res, 404, 'Link not found', 'This rating link is not valid. Check that the whole link was opened.', { status: 'unknown' });
    case 'used':
      return answer(req, res, 410, 'Already rated', 'This link has already been used to rate the call. Thank you!', { status: 'completed' });
    case 'expired':
      return answer(req, res, 410, 'Link expired', 'This rating link has expired.', { status: 'expired' });
    case 'already_rated':
      return answer(req, res, 409, 'Already rated', 'This call has already been rated. Thank you!', { status: 'already_rated' });
  }
}

function limited(limiter: AddressLimiter): RequestHandler {
  return (req, res, next) => {
    const wait = limiter.take(req.socket.remoteAddress ?? 'unknown');
    if (wait === 0) return next();
    privateHeaders(res);
    res.set('Retry-After', String(wait));
    answer(req, res, 429, 'Too many requests', `Too many requests from this address; try again in ${wait} s.`);
  };
}

/** The token as given, or undefined when it cannot be one (answered as unknown without a lookup). */
function tokenOf(value: unknown): string | undefined {
  return typeof value === 'string' && TOKEN_PATTERN.test(value) ? value : undefined;
}

export function linkRoutes(deps: LinkRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const clock = (): number => deps.now().getTime();
  const rating = limited(deps.ratingLimiter ?? new AddressLimiter(LINK_RATING_PER_MINUTE, undefined, clock));
  const submit = limited(deps.submitLimiter ?? new AddressLimiter(LINK_SUBMIT_PER_MINUTE, undefined, clock));

  const rate = async (req: Request, res: Response, token: string | undefined, score: number, feedback: string | null, createdStatus: number): Promise<void> => {
    if (!token) return refusal(req, res, { kind: 'unknown' });
    const at = deps.now();
    const fire = (rated: LinkedAnswer) =>
      loneAnswerAlerts(deps.alerts, { callId: rated.callId, agentId: rated.agentId, queueId: rated.queueId, ivr: rated.ivr }, { questionId: rated.questionId, kind: 'csat', value: rated.score }, at);
    const result = await deps.links.rate(tokenSha256(token), { score, feedback }, at.toISOString(), fire);
    if (result.kind !== 'rated') return refusal(req, res, result);
    // After the commit: the link is used, the rating stored.
    deps.metrics?.ratings.inc({ score: String(score), source: 'link' });
    deps.log.info({ call_id: result.callId, agent_id: result.agentId, queue_id: result.queueId, score, source: 'link' }, 'rating stored');
    res.status(createdStatus);
    if (wantsJson(req)) res.json({ status: 'rated', rating: score });
    else res.type('html').send(thankYouPage(score));
  };

  // Link previewers and mail scanners probe with HEAD: it must not use the link (Express would
  // otherwise run the GET handler for it).
  router.head('/cc/csat/rate', rating, (_req, res) => {
    privateHeaders(res);
    res.status(200).type('html').end();
  });

  router.get('/cc/csat/rate', rating, async (req, res) => {
    privateHeaders(res);
    const query = parse(LinkRateQuery, req.query, 'query');
    await rate(req, res, tokenOf(query.token), query.rating, null, 200);
  });

  // Without a token: a link cut short, not the rating of a call named "survey".
  router.get('/cc/csat/survey', rating, (req, res) => {
    privateHeaders(res);
    refusal(req, res, { kind: 'unknown' });
  });

  router.get('/cc/csat/survey/:token', rating, async (req, res) => {
    privateHeaders(res);
    const token = tokenOf(req.params['token']);
    const link = token ? await deps.links.find(tokenSha256(token), deps.now().toISOString()) : undefined;
    if (!link) return refusal(req, res, { kind: 'unknown' });
    if (link.status === 'completed') return refusal(req, res, { kind: 'used' });
    if (link.status === 'expired') return refusal(req, res, { kind: 'expired' });
    if (link.status === 'already_rated') return refusal(req, res, { kind: 'already_rated' });
    if (wantsJson(req)) res.json({ status: link.status, expires_at: link.expiresAt, scale: { min: 1, max: 5 } });
    else res.type('html').send(surveyFormPage(`${deps.publicUrl ?? ''}/cc/csat/survey/${token!}/submit`));
  });

  router.post('/cc/csat/survey/:token/submit', submit, formBody, jsonBody, async (req, res) => {
    privateHeaders(res);
    const body = parse(LinkSubmitBody, req.body ?? {}, 'body');
    const feedback = body.feedback?.trim() || null;
    // A form post gets its thank-you page (200); an API client its 201.
    await rate(req, res, tokenOf(req.params['token']), body.rating, feedback, wantsJson(req) ? 201 : 200);
  });

  // A browser gets a page for every failure too (a bad rating, a body too large, the database busy),
  // in words for a caller, not ours; a JSON client the API's usual {detail}.
  // Mounted on the link paths only: errors of the API's other routes pass through this router too.
  router.use(['/cc/csat/rate', '/cc/csat/survey'], ((err, req, res, next) => {
    if (res.headersSent || wantsJson(req)) return next(err);
    const failure = errorAnswer(err, req, deps.log);
    privateHeaders(res);
    if (failure.retryAfterSeconds !== undefined) res.set('Retry-After', String(failure.retryAfterSeconds));
    res.status(failure.status).type('html');
    if (failure.status >= 500) res.send(messagePage('Please try again', 'We could not record your answer just now. Please try again in a minute.'));
    else res.send(messagePage('Something is not right', `We could not read that: ${failure.detail}.`));
  }) as ErrorRequestHandler);

  return router;
}
