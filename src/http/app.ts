// The Express app: /cc/csat API (keyed), /openapi.json, health endpoints; JSON everywhere.
import type SqliteDatabase from 'better-sqlite3';
import type { WriteGate } from '../db/write-gate.js';
import express, { type Express } from 'express';
import type { Kysely } from 'kysely';
import type { AppConfig } from '../config/load.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { StatsReader } from '../results/read.js';
import { ZoneCalendar } from '../results/zone.js';
import type { Telephony } from '../telephony/port.js';
import { KeyRing, RateLimiter } from './auth.js';
import { csatRoutes } from './csat-routes.js';
import { errorHandler, notFound } from './errors.js';
import { buildOpenApi } from './openapi.js';

export interface HttpDeps {
  readonly config: AppConfig;
  readonly db: Kysely<Database>;
  readonly writes: WriteGate;
  /** The statistics connection (OpenDatabase.reader). */
  readonly reader: SqliteDatabase.Database;
  readonly log: Logger;
  readonly telephony: Pick<Telephony, 'state'>;
  readonly now?: () => Date;
  readonly metrics?: Metrics;
  /** Serve /metrics on this app (false when [metrics] port gives it a server of its own). */
  readonly serveMetrics?: boolean;
}

export function createHttpApp(deps: HttpDeps): Express {
  const { engine } = deps.config;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // "/cc/csat/RESPONSES" must be the rating of call RESPONSES, not the /responses list.
  app.set('case sensitive routing', true);
  if (deps.metrics) app.use(deps.metrics.httpMiddleware());

  // Liveness: the process answers. Readiness: it can take a survey (database writable, ARI in sync).
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const database = await deps.writes.probe();
    const ari = deps.telephony.state;
    const ready = database === 'ok' && ari === 'connected';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', database, ari });
  });
  if (deps.metrics && (deps.serveMetrics ?? true)) app.get('/metrics', deps.metrics.handler());
  const openapi = buildOpenApi('0.1.0');
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  app.use(
    csatRoutes({
      db: deps.db,
      writes: deps.writes,
      stats: new StatsReader(deps.reader),
      zone: new ZoneCalendar(engine.results.timezone),
      knownQueues: new Set(deps.config.queues.keys()),
      allowUnknownQueues: engine.api.allow_unknown_queues,
      minRatingsToRank: engine.results.min_ratings_to_rank,
      defaultDays: engine.results.trend_days,
      keyRing: new KeyRing(engine.api_keys, engine.api.rate_limit_per_minute),
      limiter: new RateLimiter(),
      now: deps.now ?? (() => new Date()),
      ...(deps.metrics ? { onRatingStored: (score: number) => deps.metrics!.ratings.inc({ score: String(score), source: 'api' }) } : {}),
    }),
  );
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
