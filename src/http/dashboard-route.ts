// The supervisors' dashboard: static files under /dashboard (no key needed to load the page; every
// number it shows comes from the keyed /cc/csat API), uPlot served straight from node_modules, and
// GET /cc/csat/queues, the list of configured queues the dashboard's queue picker needs.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type Response } from 'express';
import type { QueueConfig } from '../config/schema.js';
import { agentBinding, requireScope, type KeyRing, type RateLimiter } from './auth.js';

export interface DashboardRouteDeps {
  /** The queues of the current config (follows reloads in the engine). */
  readonly queues: () => ReadonlyMap<string, QueueConfig>;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
}

// src/http and dist/http are both two levels below the package root, where dashboard/ is.
const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));
const UPLOT_DIST = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
const VENDOR_FILES = new Set(['uPlot.iife.min.js', 'uPlot.min.css']);

// No inline script or style element can run: an injected comment rendered by mistake stays text.
// Audio and exports arrive as blobs fetched with the key header, hence blob: for media.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secured(res: Response): void {
  res.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Referrer-Policy', 'no-referrer');
  // Revalidated on every load (ETag): an upgraded engine never runs with a stale dashboard.
  res.set('Cache-Control', 'no-cache');
}

export function dashboardRoutes(deps: DashboardRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const read = requireScope(deps.keyRing, deps.limiter, 'csat:read');

  router.use('/dashboard', (_req, res, next) => {
    secured(res);
    next();
  });
  router.get('/dashboard/vendor/:file', (req, res, next) => {
    if (!VENDOR_FILES.has(req.params.file)) return next();
    res.sendFile(req.params.file, { root: UPLOT_DIST });
  });
  router.use('/dashboard', express.static(DASHBOARD_DIR, { index: 'index.html', redirect: true, dotfiles: 'ignore', fallthrough: true }));

  // `key` tells the page what to offer (an agent key sees its own agent; export needs csat:export).
  router.get('/cc/csat/queues', read, (_req, res) => {
    const principal = res.locals.principal!;
    const queues = [...deps.queues().values()]
      .map((queue) => ({ queue_id: queue.name, csat_enabled: queue.after_call.csat_enabled }))
      .sort((a, b) => (a.queue_id < b.queue_id ? -1 : a.queue_id > b.queue_id ? 1 : 0));
    res.json({ queues, key: { name: principal.name, scopes: principal.scopes, agent_id: agentBinding(res) ?? null } });
  });

  return router;
}
