// `cc-csat migrate-data`: copies an existing database (ratings and survey outcomes, ids kept) into an
// empty one, typically a SQLite file into PostgreSQL when a contact center scales out; verifies the
// copy and rebuilds the rollups there. The export audit trail (csat_export) goes along: who took which
// ratings out stays answerable after the move; so does the alert outbox (alert_outbox): an alert not
// yet delivered is sent by the engines on the target, a dead letter can still be retried there; and
// the rating links (survey_link): a link a caller received before the move still works after it.
// Claims and rollups are not copied: claims belong to live surveys, and the rollups (csat_rollup and the rest, answer_rollup, outcome_rollup) are rebuilt from
// the copied ratings, answers and outcomes in the target's own SQL by one full result-service run.
import { sql, type Kysely } from 'kysely';
import type { DatabaseTarget } from './config/database-target.js';
import type { Database } from './db/schema.js';
import type { Logger } from './log.js';
import { ResultService, type RunReport } from './results/service.js';
import type { Storage } from './storage/ports.js';

/** A storage and its Kysely handle: a bulk copy reads and writes tables whole. */
type Endpoint = Storage & { readonly db: Kysely<Database> };

export interface CopyReport {
  readonly ratings: number;
  readonly outcomes: number;
  readonly answers: number;
  /** Rows of the export audit trail (GET /cc/csat/exports). */
  readonly exports: number;
  /** Alert deliveries (pending ones are sent by the engines on the target; dead letters stay retryable). */
  readonly alerts: number;
  /** Rating links: a link sent before the move still rates the call after it. */
  readonly links: number;
  /** Hashed caller numbers with when each was last surveyed (resurvey_after_hours). */
  readonly surveyedCallers: number;
  readonly rollups: RunReport;
}

/** Refused before anything is written: the message says what to do. */
export class MigrateDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrateDataError';
  }
}

const BATCH_ROWS = 2_000;
const COPIED_TABLES = ['cc_csat', 'survey_outcome', 'survey_answer', 'csat_export', 'alert_outbox', 'survey_link'] as const;

export async function openEndpoint(target: DatabaseTarget, applicationName: string): Promise<Endpoint> {
  if (target.kind === 'postgres') {
    const { openPostgresStorage } = await import('./db/postgres/open.js');
    return openPostgresStorage({ url: target.url, password: target.password, poolMax: 2, applicationName });
  }
  if (target.path === ':memory:') throw new MigrateDataError('an in-memory database has nothing to copy, and keeps nothing copied');
  const { openSqliteStorage } = await import('./db/sqlite/storage.js');
  return openSqliteStorage(target.path);
}

async function rowCount(db: Kysely<Database>, table: (typeof COPIED_TABLES)[number] | 'survey_caller'): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Copies `table` in id order, a batch per transaction on the target. Ids are kept, so a rating's id
 * (the API's keyset cursor, the rollups' watermark) means the same row on both sides.
 */
async function copyTable(from: Kysely<Database>, to: Kysely<Database>, table: (typeof COPIED_TABLES)[number], onBatch: (rows: number) => void): Promise<number> {
  let after = 0;
  let copied = 0;
  for (;;) {
    const rows = await from.selectFrom(table).selectAll().where('id', '>', after).orderBy('id').limit(BATCH_ROWS).execute();
    if (rows.length === 0) return copied;
    await to.transaction().execute(async (trx) => {
      await trx.insertInto(table).values(rows as never).execute();
    });
    after = rows.at(-1)!.id;
    copied += rows.length;
    onBatch(copied);
  }
}

async function copySurveyedCallers(from: Kysely<Database>, to: Kysely<Database>): Promise<number> {
  let after = '';
  let copied = 0;
  for (;;) {
    const rows = await from.selectFrom('survey_caller').selectAll().where('caller_hash', '>', after).orderBy('caller_hash').limit(BATCH_ROWS).execute();
    if (rows.length === 0) break;
    await to.transaction().execute(async (trx) => {
      await trx.insertInto('survey_caller').values(rows).execute();
    });
    after = rows.at(-1)!.caller_hash;
    copied += rows.length;
  }
  const landed = await rowCount(to, 'survey_caller');
  if (landed !== copied) throw new MigrateDataError(`survey_caller: ${copied} row(s) copied, ${landed} in the target: run again into an empty database`);
  return copied;
}

export async function copyDatabase(from: Endpoint, to: Endpoint, options: { timezone: string; log: Logger; progress?: (line: string) => void }): Promise<CopyReport> {
  await from.migrate();
  await to.migrate();
  for (const table of [...COPIED_TABLES, 'survey_caller'] as const) {
    const present = await rowCount(to.db, table);
    if (present > 0) {
      throw new MigrateDataError(
        `${to.description} already has ${present} row(s) in ${table}: migrate-data copies into an empty database only (nothing was written; after an interrupted copy, drop and create the target database, then run again)`,
      );
    }
  }
  const counts: Record<string, number> = {};
  for (const table of COPIED_TABLES) {
    const expected = await rowCount(from.db, table);
    const copied = await copyTable(from.db, to.db, table, (rows) => options.progress?.(`${table}: ${rows}/${expected}`));
    const landed = await rowCount(to.db, table);
    if (copied !== expected || landed !== expected) {
      throw new MigrateDataError(`${table}: ${expected} row(s) in ${from.description}, ${copied} copied, ${landed} in ${to.description}: the source changed during the copy? Stop the engine writing to it and run again into an empty database`);
    }
    counts[table] = landed;
  }
  if (to.kind === 'postgres') {
    // Ids were given explicitly: the identities must continue after them, or the next rating's insert collides.
    for (const table of COPIED_TABLES) {
      await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), coalesce((SELECT max(id) FROM ${sql.table(table)}), 0) + 1, false)`.execute(to.db);
    }
  }
  // When each (hashed) caller number was last surveyed: without it, resurvey_after_hours would ask
  // every recent caller again after the move. Keyed by the hash, not an id.
  const callers = await copySurveyedCallers(from.db, to.db);
  const rollups = await new ResultService({ rollups: to.rollups, timezone: options.timezone, log: options.log }).run('full');
  return {
    ratings: counts['cc_csat']!,
    outcomes: counts['survey_outcome']!,
    answers: counts['survey_answer']!,
    exports: counts['csat_export']!,
    alerts: counts['alert_outbox']!,
    links: counts['survey_link']!,
    surveyedCallers: callers,
    rollups,
  };
}
