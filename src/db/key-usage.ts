// Repository for api_key_usage (PostgreSQL: engines sharing a database): free functions taking `db` first.
import { sql, type Kysely } from 'kysely';
import type { KeyUsage } from '../storage/ports.js';
import type { Database } from './schema.js';

// Ages are measured on the database's clock: engines on several hosts compare stamps they did not write.
export async function publishKeyUsage(db: Kysely<Database>, usage: readonly KeyUsage[]): Promise<void> {
  if (usage.length === 0) return;
  await db
    .insertInto('api_key_usage')
    .values(usage.map((entry) => ({ key_name: entry.keyName, engine_id: entry.engineId, epoch: entry.epoch, used: entry.used, updated_at: sql<string>`now()` })))
    .onConflict((conflict) =>
      conflict.columns(['key_name', 'engine_id']).doUpdateSet((eb) => ({
        epoch: eb.ref('excluded.epoch'),
        used: eb.ref('excluded.used'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

export async function keyUsageOfOthers(db: Kysely<Database>, engineId: string, maxAgeMs: number): Promise<KeyUsage[]> {
  const rows = await db
    .selectFrom('api_key_usage')
    .select(['key_name', 'engine_id', 'epoch', 'used'])
    .where('engine_id', '<>', engineId)
    .where('updated_at', '>=', sql<string>`now() - ${Math.max(0, Math.round(maxAgeMs))} * interval '1 millisecond'`)
    .execute();
  return rows.map((row) => ({ keyName: row.key_name, engineId: row.engine_id, epoch: row.epoch, used: Number(row.used) }));
}
