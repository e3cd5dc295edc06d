// GET /cc/csat/export: every rated call of a range as CSV or NDJSON, streamed; GET /cc/csat/exports:
// the audit trail of exports. An export is read in keyset pages and written with backpressure, so
// memory stays flat however many rows it covers, the event loop (live calls) gets a turn between
// pages, and a client that stops reading stops the reading.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Router, type Response } from 'express';
import type { Logger } from '../log.js';
import { addDays, daysBetween, type ZoneCalendar } from '../results/zone.js';
import type { AnswerStore, ExportAuditStore, ExportRecord, RatingFilter, RatingPosition, RatingStore } from '../storage/ports.js';
import { requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { answersByCall } from './answers-by-call.js';
import { decodeIdCursor, encodeIdCursor } from './cursor.js';
import { HttpError } from './errors.js';
import { csvHeader, exportRecord } from './export-format.js';
import { parse } from './parse-input.js';
import { ownAgentOnly, teamAgents, type TeamMembers } from './responses-route.js';
import { DEFAULT_EXPORT_DAYS, ExportQuery, ExportsQuery, MAX_EXPORT_DAYS } from './schemas.js';

export interface ExportRouteDeps {
  readonly ratings: Pick<RatingStore, 'exportPage'>;
  readonly answers: Pick<AnswerStore, 'forCalls'>;
  readonly audit: ExportAuditStore;
  readonly zone: ZoneCalendar;
  readonly teams: () => ReadonlyMap<string, TeamMembers>;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
  readonly now: () => Date;
  readonly log: Logger;
  /** Ratings read at a time; default 1000. */
  readonly pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 1000;

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8; header=present', ndjson: 'application/x-ndjson; charset=utf-8' } as const;

function rangeError(message: string): HttpError {
  return new HttpError(400, `invalid query: from: ${message}`, { issues: [{ path: 'from', message }] });
}

/** The local dates an export covers: from/to, or the last DEFAULT_EXPORT_DAYS days up to today. */
function exportRange(query: { from?: string | undefined; to?: string | undefined }, zone: ZoneCalendar, now: Date): { from: string; to: string } {
  const to = query.to ?? zone.currentDate(now.getTime());
  const from = query.from ?? addDays(to, -(DEFAULT_EXPORT_DAYS - 1));
  if (from > to) throw rangeError(`from ${from} is after to ${to}`);
  const span = daysBetween(from, to) + 1;
  if (span > MAX_EXPORT_DAYS) throw rangeError(`${span} days is more than ${MAX_EXPORT_DAYS}: export a long history in several ranges`);
  return { from, to };
}

/** Resolves once the response can take more, or once the client is gone (then the caller stops). */
function writable(res: Response): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Resolves once the response has gone out whole, or the connection closed first. */
function ended(res: Response): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('finish', () => resolve());
    res.once('close', () => resolve());
  });
}

function exportOut(record: ExportRecord) {
  return {
    id: record.id,
    key_name: record.keyName,
    format: record.format,
    filters: record.filters,
    rows: record.rows,
    status: record.status,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
  };
}


export function exportRoutes(deps: ExportRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const exporter = requireScope(deps.keyRing, deps.limiter, 'csat:export');
  const admin = requireScope(deps.keyRing, deps.limiter, 'csat:admin');
  const pageSize = deps.pageSize ?? DEFAULT_PAGE_SIZE;

  router.get('/cc/csat/export', exporter, async (req, res) => {
    const query = parse(ExportQuery, req.query, 'query');
    const range = exportRange(query, deps.zone, deps.now());
    const agentId = ownAgentOnly(res, query);
    const filter: RatingFilter = {
      agentId,
      agentIds: teamAgents(query.team_id, deps.teams()),
      queueId: query.queue_id,
      fromIso: new Date(deps.zone.startOfDay(range.from)).toISOString(),
      toIso: new Date(deps.zone.startOfDay(addDays(range.to, 1))).toISOString(),
    };
    const filters = {
      from: range.from,
      to: range.to,
      ...(query.queue_id !== undefined ? { queue_id: query.queue_id } : {}),
      ...(agentId !== undefined ? { agent_id: agentId } : {}),
      ...(query.team_id !== undefined ? { team_id: query.team_id } : {}),
      include_comments: query.include_comments,
    };
    const keyName = res.locals.principal!.name;
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) clientGone = true;
    });
    // Recorded before the first byte leaves: no export goes unrecorded (a database that cannot take
    // the audit row answers 503 and nothing is exported).
    const auditId = await deps.audit.start({ keyName, format: query.format, filters, startedAt: deps.now().toISOString() });

    const finishAudit = async (status: 'completed' | 'aborted' | 'failed', rows: number): Promise<void> => {
      try {
        await deps.audit.finish(auditId, { status, rows, finishedAt: deps.now().toISOString() });
      } catch (err) {
        deps.log.warn({ err: err instanceof Error ? err.message : String(err), export_id: auditId, status, rows }, 'export ended but its audit row could not be updated; it reads "running"');
      }
    };
    // Status and headers go out with the first byte, once the first page was read: until then a
    // failure can still be told as such (a 503 with Retry-After for the database's trouble).
    const startBody = (): void => {
      res.status(200);
      res.set({
        'Content-Type': CONTENT_TYPES[query.format],
        'Content-Disposition': `attachment; filename="csat-${range.from}-${range.to}.${query.format}"`,
        'Cache-Control': 'no-store',
      });
      if (query.format === 'csv') res.write(csvHeader(query.include_comments));
    };
    let rows = 0;
    let status: 'completed' | 'aborted' | 'failed' = 'completed';
    try {
      let after: RatingPosition | undefined;
      while (!clientGone) {
        const page = await deps.ratings.exportPage(filter, after, pageSize);
        // SQLite reads run on the event loop: a turn for everything else between the two reads too.
        await nextTurn();
        if (clientGone) break;
        const answers = answersByCall(page.length === 0 ? [] : await deps.answers.forCalls(page.map((rating) => rating.call_id)));
        const chunk = page.map((rating) => exportRecord(query.format, rating, answers.get(rating.call_id) ?? [], query.include_comments)).join('');
        if (clientGone) break;
        if (!res.headersSent) startBody();
        if (chunk.length > 0 && !res.write(chunk)) await writable(res);
        rows += page.length;
        if (clientGone || page.length < pageSize) break;
        const last = page.at(-1)!;
        after = { createdAt: last.created_at, id: last.id };
        // Each page is read and formatted in one go; between pages, everything else waiting runs.
        await nextTurn();
      }
      if (!clientGone) {
        res.end();
        await ended(res);
      }
      // Completed only once the last byte went out: a client gone before then did not get it all.
      if (clientGone) status = 'aborted';
    } catch (err) {
      if (!res.headersSent && !clientGone) {
        // Nothing sent yet: recorded as failed first (a client that retries on the 503 and then
        // lists /exports sees it so), then answered by the error handler like any read.
        await finishAudit('failed', 0);
        throw err;
      }
      status = clientGone ? 'aborted' : 'failed';
      if (status === 'failed') deps.log.warn({ err: err instanceof Error ? err.message : String(err), export_id: auditId }, 'export failed mid-stream; the client gets a cut-off response');
      // Headers are gone: cutting the connection is the only way left to say "this is not all of it".
      res.destroy();
    }
    await finishAudit(status, rows);
  });

  router.get('/cc/csat/exports', admin, async (req, res) => {
    const query = parse(ExportsQuery, req.query, 'query');
    const beforeId = query.cursor === undefined ? undefined : decodeIdCursor('export', query.cursor);
    const records = await deps.audit.list(query.limit, beforeId);
    const last = records.at(-1);
    res.json({ items: records.map(exportOut), next_cursor: last && records.length === query.limit ? encodeIdCursor('export', last.id) : null });
  });

  return router;
}
