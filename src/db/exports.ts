// Repository for csat_export, the audit trail of exports: free functions taking `db` first.
import type { Kysely } from 'kysely';
import type { ExportAuditStore, ExportRecord } from '../storage/ports.js';
import type { Database } from './schema.js';

type StartedExport = Parameters<ExportAuditStore['start']>[0];
type FinishedExport = Parameters<ExportAuditStore['finish']>[1];

export async function startExport(db: Kysely<Database>, record: StartedExport): Promise<number> {
  const row = await db
    .insertInto('csat_export')
    .values({ key_name: record.keyName, format: record.format, filters: JSON.stringify(record.filters), rows: 0, status: 'running', started_at: record.startedAt, finished_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Only a running export is finished: a row is never finished twice. */
export async function finishExport(db: Kysely<Database>, id: number, outcome: FinishedExport): Promise<void> {
  await db
    .updateTable('csat_export')
    .set({ status: outcome.status, rows: outcome.rows, finished_at: outcome.finishedAt })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .execute();
}

export async function listExports(db: Kysely<Database>, limit: number, beforeId?: number): Promise<ExportRecord[]> {
  let query = db.selectFrom('csat_export').selectAll();
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  const rows = await query.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((row) => ({
    id: Number(row.id),
    keyName: row.key_name,
    format: row.format,
    filters: JSON.parse(row.filters) as Record<string, unknown>,
    rows: Number(row.rows),
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  }));
}
