// GET /cc/csat/alerts (csat:admin): the alert outbox, newest first, with the backlog an operator
// watches (pending and dead). The payloads are what receivers got: caller data, so admin keys only.
import { Router } from 'express';
import { alertOut, shownPayload } from '../alerts/alert-output.js';
import type { AlertOutboxStore } from '../storage/ports.js';
import { requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { decodeIdCursor, encodeIdCursor } from './cursor.js';
import { parse } from './parse-input.js';
import { AlertsQuery } from './schemas.js';

export interface AlertRouteDeps {
  readonly alerts: Pick<AlertOutboxStore, 'list' | 'backlog'>;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
}

export function alertRoutes(deps: AlertRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const admin = requireScope(deps.keyRing, deps.limiter, 'csat:admin');

  router.get('/cc/csat/alerts', admin, async (req, res) => {
    const query = parse(AlertsQuery, req.query, 'query');
    const beforeId = query.cursor === undefined ? undefined : decodeIdCursor('alert', query.cursor);
    const [rows, backlog] = await Promise.all([deps.alerts.list({ status: query.status, limit: query.limit, beforeId }), deps.alerts.backlog()]);
    const last = rows.at(-1);
    res.json({
      items: rows.map((row) => ({ ...alertOut(row), payload: shownPayload(row) })),
      next_cursor: last && rows.length === query.limit ? encodeIdCursor('alert', last.id) : null,
      backlog,
    });
  });

  return router;
}
