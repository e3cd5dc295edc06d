import type SqliteDatabase from 'better-sqlite3';
import express, { type Express } from 'express';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { Telephony } from '../telephony/port.js';

export interface HttpDeps {
  readonly db: Kysely<Database>;
  readonly sqlite: SqliteDatabase.Database;
  readonly log: Logger;
  readonly telephony: Pick<Telephony, 'state'>;
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use((_req, res) => {
    res.status(404).json({ detail: 'not found' });
  });
  return app;
}
