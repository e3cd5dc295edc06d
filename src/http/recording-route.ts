// GET /cc/csat/:call_id/recording: a caller's spoken comment, streamed from the Asterisk server that
// recorded it (never held whole here). The route knows a RecordingSource, never an ARI client.
import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Answer } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { AnswerStore } from '../storage/ports.js';
import { recordingContentType, RecordingSourceUnavailableError, type RecordingSource } from '../telephony/recordings.js';
import { agentBinding, requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { HttpError, validationError } from './errors.js';
import { CallIdParams } from './schemas.js';

export const RecordingQuery = z.strictObject({
  question: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be a question id (the record step\'s id)')
    .optional()
    .meta({ description: 'The comment question, when the call has several recordings' }),
});

export interface RecordingRouteDeps {
  readonly answers: Pick<AnswerStore, 'forCalls'>;
  /** Undefined where no telephony server is configured: every recording is then unavailable. */
  readonly source: RecordingSource | undefined;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
  readonly log: Logger;
}

const RETRY_AFTER_SECONDS = 5;
// Each stream holds an HTTP session on Asterisk, whose sessionlimit live surveys' requests share: a
// few slow readers must never take them all. Beyond this many at once, 503 and Retry-After.
const MAX_CONCURRENT_STREAMS = 8;
// A client reading a one-minute comment slower than this is cut off, and its session freed.
const STREAM_MAX_MS = 5 * 60_000;

export function recordingRoutes(deps: RecordingRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  // A caller's voice is more personal than a score: its own scope, not every reader's.
  const listen = requireScope(deps.keyRing, deps.limiter, 'csat:recordings');
  let streaming = 0;

  router.get('/cc/csat/:call_id/recording', listen, async (req, res) => {
    const params = CallIdParams.safeParse(req.params);
    if (!params.success) throw validationError('path', params.error);
    const query = RecordingQuery.safeParse(req.query);
    if (!query.success) throw validationError('query', query.error);
    const { call_id } = params.data;
    const { question } = query.data;
    const agent = agentBinding(res);
    // Another agent's call is answered as if it had no recording: an agent key learns nothing of it.
    const answers = (await deps.answers.forCalls([call_id])).filter((answer) => agent === undefined || answer.agent_id === agent);
    const answer = pick(answers, call_id, question);
    if (answer.recording_deleted_at !== null) {
      throw new HttpError(404, `the recording of call ${call_id} was deleted at ${answer.recording_deleted_at} (older than the recording retention)`);
    }
    if (!deps.source) throw unavailable(res, 'no Asterisk server is configured to serve recordings');
    if (streaming >= MAX_CONCURRENT_STREAMS) throw unavailable(res, `${MAX_CONCURRENT_STREAMS} recordings are being streamed already; try again shortly`);
    streaming++;
    try {
      await stream(res, call_id, answer);
    } finally {
      streaming--;
    }
  });

  async function stream(res: Response, call_id: string, answer: Answer): Promise<void> {
    if (!deps.source) return;
    let audio;
    try {
      audio = await deps.source.open(answer.recording_server, answer.recording!);
    } catch (err) {
      if (err instanceof RecordingSourceUnavailableError) {
        deps.log.warn({ err: err.message, call_id }, 'recording requested while Asterisk is unreachable');
        throw unavailable(res, `Asterisk cannot be reached for the recording of call ${call_id}; try again later`, err.retryAfterSeconds);
      }
      throw err;
    }
    if (!audio) throw new HttpError(404, `the recording of call ${call_id} is no longer on Asterisk`);
    res.status(200).type(recordingContentType(answer.recording_format));
    if (audio.contentLength !== undefined) res.set('Content-Length', String(audio.contentLength));
    res.set('Content-Disposition', `inline; filename="${answer.recording}.${answer.recording_format === 'wav16' ? 'wav' : (answer.recording_format ?? 'bin')}"`);
    try {
      await pipeline(audio.body, res, { signal: AbortSignal.timeout(STREAM_MAX_MS) });
    } catch (err) {
      // The client went away, read too slowly, or Asterisk stopped mid-file: the status is sent, the connection is cut.
      deps.log.debug({ err: err instanceof Error ? err.message : String(err), call_id }, 'recording stream ended early');
      res.destroy();
    }
  }

  return router;
}

/** The comment to serve: the only one, or the one `question` names. */
function pick(answers: readonly Answer[], callId: string, question: string | undefined): Answer {
  const comments = answers.filter((answer) => answer.kind === 'comment' && answer.recording !== null);
  const chosen = question === undefined ? comments : comments.filter((answer) => answer.question_id === question);
  if (chosen.length === 0) {
    throw new HttpError(404, question === undefined ? `no recording for call ${callId}` : `no recording for question "${question}" of call ${callId}`);
  }
  if (chosen.length > 1) {
    const ids = chosen.map((answer) => answer.question_id).join(', ');
    const message = `call ${callId} has ${chosen.length} recordings: name one with ?question= (${ids})`;
    throw new HttpError(400, `invalid query: question: ${message}`, { issues: [{ path: 'question', message }] });
  }
  return chosen[0]!;
}

/** Our failure, not the client's: 503 with the time after which asking again may work. */
function unavailable(res: Response, detail: string, retryAfterSeconds = RETRY_AFTER_SECONDS): HttpError {
  res.set('Retry-After', String(retryAfterSeconds));
  return new HttpError(503, detail);
}
