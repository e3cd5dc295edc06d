// POST /cc/feedback (csat:write): what chat, email and bot platforms send after a conversation. Each
// feedback is an answer like the IVR's, whose source is its channel: the per-question statistics
// count it (and filter by it: ?source=chat), the alert rules see it. Stored under call id
// "<channel>:<channelUId>", so a chat's id does not meet a call's (Asterisk's are numbers and dots).
import { Router } from 'express';
import { loneAnswerAlerts, type AlertRules } from '../alerts/call-alerts.js';
import type { NewAnswer } from '../db/schema.js';
import { identifierProblem, MAX_ID_CHARS } from '../identifiers.js';
import type { AnswerStore } from '../storage/ports.js';
import { requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { jsonBody, unknownQueue } from './csat-routes.js';
import { HttpError } from './errors.js';
import { parse } from './parse-input.js';
import { FeedbackBody } from './schemas.js';

const KIND_OF_TYPE = { CSAT: 'csat', NPS: 'nps', THUMB: 'yes_no' } as const;

export interface FeedbackRouteDeps {
  readonly answers: Pick<AnswerStore, 'record'>;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
  readonly now: () => Date;
  readonly knownQueues: ReadonlySet<string>;
  readonly allowUnknownQueues: boolean;
  readonly alerts?: AlertRules | undefined;
}

export function feedbackRoutes(deps: FeedbackRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const write = requireScope(deps.keyRing, deps.limiter, 'csat:write');

  router.post('/cc/feedback', write, jsonBody, async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'Content-Type must be application/json');
    const body = parse(FeedbackBody, req.body, 'body');
    if (body.queue_id !== undefined && !deps.allowUnknownQueues && !deps.knownQueues.has(body.queue_id)) throw unknownQueue(body.queue_id, deps.knownQueues);
    const callId = `${body.channel}:${body.channelUId}`;
    if (identifierProblem(callId, 'call_id')) {
      const message = `with its channel ("${body.channel}:") it must be at most ${MAX_ID_CHARS} characters: at most ${MAX_ID_CHARS - body.channel.length - 1} for ${body.channel}`;
      throw new HttpError(400, `invalid body: channelUId: ${message}`, { issues: [{ path: 'channelUId', message }] });
    }
    const at = deps.now();
    const kind = KIND_OF_TYPE[body.type];
    const answer: NewAnswer = {
      call_id: callId,
      question_id: body.name,
      kind,
      value: body.score,
      digits: null,
      recording: null,
      recording_ms: null,
      recording_format: null,
      recording_server: null,
      language: body.language ?? null,
      agent_id: body.agent_id ?? '',
      queue_id: body.queue_id ?? '',
      ivr: body.channel,
      answered_at: at.toISOString(),
      source: body.channel,
      message: body.message ?? null,
    };
    const fired = loneAnswerAlerts(deps.alerts, { callId, agentId: answer.agent_id, queueId: answer.queue_id, ivr: body.channel }, { questionId: body.name, kind, value: body.score }, at);
    // Resolves once committed, with the alerts it fired: the 201 is never said for a write that may vanish.
    const result = await deps.answers.record(answer, undefined, fired);
    if (!result.answerInserted) throw new HttpError(409, `feedback "${body.name}" of ${body.channel} conversation ${body.channelUId} is already recorded`);
    res.status(201).json({ call_id: callId, question_id: body.name, kind, value: body.score, source: body.channel, answered_at: answer.answered_at });
  });

  return router;
}
