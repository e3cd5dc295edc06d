// The Express app: /cc/csat API (keyed), /openapi.json, health endpoints; JSON everywhere.
import type SqliteDatabase from 'better-sqlite3';
import express, { type Express } from 'express';
import type { Kysely } from 'kysely';
import type { AppConfig } from '../config/load.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../log.js';
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
  readonly log: Logger;
  readonly telephony: Pick<Telephony, 'state'>;
  readonly now?: () => Date;
  readonly onRatingStored?: (score: number) => void;
}

export function createHttpApp(deps: HttpDeps): Express {
  const { engine } = deps.config;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '16kb', strict: true }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const openapi = buildOpenApi('0.1.0');
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  app.use(
    csatRoutes({
      db: deps.db,
      zone: new ZoneCalendar(engine.results.timezone),
      knownQueues: new Set(deps.config.queues.keys()),
      minRatingsToRank: engine.results.min_ratings_to_rank,
      defaultDays: engine.results.trend_days,
      keyRing: new KeyRing(engine.api_keys, engine.api.rate_limit_per_minute),
      limiter: new RateLimiter(),
      now: deps.now ?? (() => new Date()),
      ...(deps.onRatingStored ? { onRatingStored: deps.onRatingStored } : {}),
    }),
  );
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
