// Target 4: sustained ratings per second through POST /cc/csat/:call_id (autocannon, its own
// process, a unique call id per request) and through the IVR's write (insertRating, the repository
// the controller calls per key), with SQLite's durability settings stated and compared.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import SqliteDatabase from 'better-sqlite3';
import { loadConfig } from '../src/config/load.js';
import { insertRating } from '../src/db/ratings.js';
import { startCheckpointer } from '../src/db/sqlite/checkpointer.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createHttpApp } from '../src/http/app.js';
import { createLogger } from '../src/log.js';
import { makeTempDir, writeConfigTree } from '../test/helpers/config-tree.js';
import { fmt, machine, writeResult } from './lib.js';

const run = promisify(execFile);
const KEY = 'bench-writer';
const INSERTS = 20_000;

async function repositoryRate(synchronous: 'NORMAL' | 'FULL'): Promise<{ repository_per_s: number; raw_per_s: number }> {
  const dir = makeTempDir();
  const storage = openSqliteStorage(`${dir}/w.db`, { walAutocheckpointPages: 20_000 });
  const { db, sqlite } = storage.database;
  sqlite.pragma(`synchronous = ${synchronous}`);
  await storage.migrate();
  const checkpointer = startCheckpointer(`${dir}/w.db`, 1000, createLogger('silent'));
  const row = (i: number, prefix: string) => ({ call_id: `${prefix}-${i}`, agent_id: `agent-${i % 200}`, queue_id: `queue-${i % 10}`, score: 1 + (i % 5), comment: null, created_at: new Date().toISOString() });
  // The IVR path: one awaited insertRating (kysely, ON CONFLICT DO NOTHING RETURNING) per key.
  let started = performance.now();
  for (let i = 0; i < INSERTS; i++) await insertRating(db, row(i, 'repo'));
  const repository = INSERTS / ((performance.now() - started) / 1000);
  // The floor: a prepared better-sqlite3 insert, one transaction per row, nothing else.
  const raw = new SqliteDatabase(`${dir}/w.db`);
  raw.pragma(`synchronous = ${synchronous}`);
  raw.pragma('wal_autocheckpoint = 20000');
  const insert = raw.prepare('INSERT INTO cc_csat (call_id, agent_id, queue_id, score, comment, created_at) VALUES (@call_id, @agent_id, @queue_id, @score, @comment, @created_at)');
  started = performance.now();
  for (let i = 0; i < INSERTS; i++) insert.run(row(i, 'raw'));
  const rawRate = INSERTS / ((performance.now() - started) / 1000);
  raw.close();
  await checkpointer.stop();
  await storage.close();
  return { repository_per_s: repository, raw_per_s: rawRate };
}

async function main(): Promise<void> {
  const tree = writeConfigTree({
    engineExtra: `
[[api_keys]]
name = "writer"
key_sha256 = "${createHash('sha256').update(KEY).digest('hex')}"
scopes = ["csat:write"]
rate_limit_per_minute = 1000000000
`,
  });
  const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
  if (config.database.kind !== 'sqlite') throw new Error('the SQLite write benchmark needs a sqlite: [database] url');
  const storage = openSqliteStorage(config.database.path, { walAutocheckpointPages: 20_000 });
  const { database } = storage;
  await storage.migrate();
  const checkpointer = startCheckpointer(database.path, 1000, createLogger('silent'));
  const app = createHttpApp({ config, storage, log: createLogger('silent'), telephony: { state: 'connected' } });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cc/csat/`;
  const post: Record<string, unknown> = {};
  let expectedRows = 0;
  for (const connections of [1, 16]) {
    const config = {
      url,
      connections,
      duration: 10,
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      post: { body: JSON.stringify({ score: 4, comment: 'bench', agent_id: 'agent-1', queue_id: 'sales-queue' }), pathPrefix: `/cc/csat/c${connections}-` },
    };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', new URL('./load.ts', import.meta.url).pathname, JSON.stringify(config)], { maxBuffer: 1 << 20 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { requests_per_second: number; total: number; latency_p50_ms: number; latency_p99_ms: number; non2xx: number; errors: number; status: Record<string, { count: number }> };
    const created = result.status['201']?.count ?? 0;
    // Every request has a fresh call id for a configured queue: anything but 201 means the benchmark measures errors.
    if (created === 0 || result.non2xx > 0) throw new Error(`POST answered ${JSON.stringify(result.status)}: not 201 every time`);
    expectedRows += created;
    post[`c${connections}`] = { ...result, created };
    console.log(
      `POST /cc/csat/:call_id, ${String(connections).padStart(2)} connections, 10 s: ${result.requests_per_second.toFixed(0)} ratings/s, p50 ${result.latency_p50_ms} ms, p99 ${result.latency_p99_ms} ms, ${created} x 201, non-2xx ${result.non2xx}, errors ${result.errors}`,
    );
  }
  const stored = (database.sqlite.prepare('SELECT count(*) AS n FROM cc_csat').get() as { n: number }).n;
  // Requests still in flight when autocannon stops are stored but not counted: at most one per connection.
  const inFlight = 1 + 16;
  if (stored < expectedRows || stored > expectedRows + inFlight) {
    throw new Error(`${expectedRows} ratings answered 201 but ${stored} rows are stored`);
  }
  console.log(`every 201 is a stored row: ${stored} rows = ${expectedRows} counted 201s + ${stored - expectedRows} in flight at the cut-off (at most ${inFlight})`);
  server.closeAllConnections();
  server.close();
  await checkpointer.stop();
  await storage.close();

  const repository: Record<string, unknown> = {};
  for (const synchronous of ['NORMAL', 'FULL'] as const) {
    const rates = await repositoryRate(synchronous);
    repository[synchronous] = { ...rates, repository_over_raw: rates.repository_per_s / rates.raw_per_s };
    console.log(
      `IVR write (insertRating per key), synchronous=${synchronous}: ${rates.repository_per_s.toFixed(0)} ratings/s vs raw prepared insert ${rates.raw_per_s.toFixed(0)}/s (${fmt((100 * rates.repository_per_s) / rates.raw_per_s)}% of the floor)`,
    );
  }
  writeResult('write', { machine: machine(), durability: 'WAL, synchronous=NORMAL (engine default); FULL shown for comparison', post, repository });
}

await main();
