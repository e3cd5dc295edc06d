// Numbered plain-SQL migrations from sql/, each applied exactly once, in order, inside a transaction,
// and recorded in schema_migrations. A changed or unknown applied migration stops the engine.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export const SQLITE_MIGRATIONS_DIR = fileURLToPath(new URL('../../sql/sqlite/', import.meta.url));
export const POSTGRES_MIGRATIONS_DIR = fileURLToPath(new URL('../../sql/postgres/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** Splits on `;` at the end of a line; the project's migrations hold no triggers or ;-bearing strings. */
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/.exec(file);
      if (!match) throw new Error(`${join(dir, file)}: migration files are named NNN_name.sql`);
      return {
        version: Number(match[1]),
        name: match[2]!,
        statements: splitStatements(readFileSync(join(dir, file), 'utf8')),
      };
    });
  migrations.forEach((migration, index) => {
    if (index > 0 && migration.version === migrations[index - 1]!.version) {
      throw new Error(`${dir}: two migrations share version ${migration.version}`);
    }
  });
  return migrations;
}

export async function migrate(db: Kysely<Database>, migrations: readonly Migration[]): Promise<Migration[]> {
  // Looked for before it is created: PostgreSQL checks the schema's CREATE privilege even for CREATE
  // TABLE IF NOT EXISTS, and an engine whose role may only read and write the tables (README) must
  // still start once they exist.
  const exists = await db
    .selectFrom('schema_migrations')
    .select('version')
    .limit(1)
    .execute()
    .then(
      () => true,
      () => false,
    );
  if (!exists) {
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`.execute(db);
  }
  const applied = await db.selectFrom('schema_migrations').select(['version', 'name']).execute();
  const appliedByVersion = new Map(applied.map((row) => [row.version, row.name]));
  const known = new Set(migrations.map((migration) => migration.version));
  for (const row of applied) {
    if (!known.has(row.version)) {
      throw new Error(`database has migration ${row.version}_${row.name}, which this version of cc-csat does not know (a newer release wrote it?)`);
    }
  }
  const newlyApplied: Migration[] = [];
  for (const migration of migrations) {
    const appliedName = appliedByVersion.get(migration.version);
    if (appliedName !== undefined) {
      if (appliedName !== migration.name) {
        throw new Error(`migration ${migration.version} is recorded as "${appliedName}" but the file is "${migration.name}"`);
      }
      continue;
    }
    await db.transaction().execute(async (trx) => {
      for (const statement of migration.statements) await sql.raw(statement).execute(trx);
      await trx
        .insertInto('schema_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: new Date().toISOString() })
        .execute();
    });
    newlyApplied.push(migration);
  }
  return newlyApplied;
}
