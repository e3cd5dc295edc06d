// The Express app: /cc/csat API (keyed), /openapi.json, health endpoints; JSON everywhere.
import type SqliteDatabase from 'better-sqlite3';
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
  readonly sqlite: SqliteDatabase.Database;
  /** The statistics connection (OpenDatabase.reader). */
  readonly reader: SqliteDatabase.Database;
  readonly log: Logger;
  readonly telephony: Pick<Telephony, 'state'>;
  readonly now?: () => Date;
  readonly metrics?: Metrics;
  /** Serve /metrics on this app (false when [metrics] port gives it a server of its own). */
  readonly serveMetrics?: boolean;
}

/** Proves the database takes writes (not read-only, not locked) without leaving anything behind. */
export function probeDatabaseWritable(sqlite: SqliteDatabase.Database): string {
  try {
    sqlite.exec("SAVEPOINT readyz; INSERT OR REPLACE INTO result_state (key, value) VALUES ('readyz_probe', 'x'); ROLLBACK TO readyz; RELEASE readyz");
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function createHttpApp(deps: HttpDeps): Express {
  const { engine } = deps.config;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  if (deps.metrics) app.use(deps.metrics.httpMiddleware());
  app.use(express.json({ limit: '16kb', strict: true }));

  // Liveness: the process answers. Readiness: it can take a survey (database writable, ARI in sync).
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const database = probeDatabaseWritable(deps.sqlite);
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
      stats: new StatsReader(deps.reader),
      zone: new ZoneCalendar(engine.results.timezone),
      knownQueues: new Set(deps.config.queues.keys()),
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
