import { createBenchDatabase, seedRatingsPg, vacuumAnalyze, explainAnalyze } from './pg.js';
import { openPostgresStorage } from '../src/db/postgres/open.js';
import { exportPageQuery } from '../src/db/ratings.js';
import { sql } from 'kysely';
const database = await createBenchDatabase(process.env['U']!, 'plan');
const storage = await openPostgresStorage({ url: database.url });
try {
  await storage.migrate();
  await seedRatingsPg(database.url, 1_000_000);
  await vacuumAnalyze(database.url);
  const db = storage.db;
  const range = { fromIso: '2025-11-20T00:00:00.000Z', toIso: '2026-11-21T00:00:00.000Z' };
  for (const [name, filter] of [['queue', { queueId: 'queue-3', ...range }], ['agent', { agentId: 'agent-17', ...range }], ['team', { agentIds: ['agent-1','agent-2','agent-3','agent-4','agent-5','agent-6','agent-7','agent-8','agent-9','agent-10'], ...range }]] as const) {
    const page = exportPageQuery(db, filter as any, { createdAt: '2026-01-01T00:00:00.000Z', id: 1 }, 1000).compile();
    const plan = await explainAnalyze(database.url, page.sql, [...page.parameters]);
    console.log('== export page', name, '\n' + plan.split('\n').filter((l) => /Scan|Sort|Limit|Execution/.test(l)).join('\n'));
  }
} finally { await storage.close(); await database.drop(); }
