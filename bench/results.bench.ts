// Target 1: a full rollup rebuild over 1,000,000 ratings costs at most 3x one raw
// `GROUP BY agent, queue, day` scan (the floor); an incremental run after 1,000 new ratings
// costs under 1/50 of a full rebuild. Both sides measured in the same run, on the same file.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { startCheckpointer } from '../src/db/sqlite/checkpointer.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { fmt, machine, median, seedRatings, time, writeResult } from './lib.js';

const RATINGS = Number(process.env['BENCH_RATINGS'] ?? 1_000_000);
const REPEATS = 5;

async function main(): Promise<void> {
  const path = join(tmpdir(), `cc-csat-bench-results-${process.pid}.db`);
  rmSync(path, { force: true });
  // The engine's own configuration: commits do not checkpoint; a worker thread does.
  const storage = openSqliteStorage(path, { walAutocheckpointPages: 20_000 });
  const { db, sqlite } = storage.database;
  await storage.migrate();
  const seeded = await time(() => seedRatings(path, RATINGS));
  console.log(`seeded ${RATINGS} ratings in ${fmt(seeded.ms)} ms (${path})`);
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  const checkpointer = startCheckpointer(path, 1000, createLogger('silent'));

  const report: Record<string, unknown> = { machine: machine(), ratings: RATINGS, repeats: REPEATS };
  for (const timezone of ['UTC', 'Europe/Paris']) {
    const service = new ResultService({ rollups: storage.rollups, timezone, log: createLogger('silent'), now: () => new Date('2026-11-20T19:00:00Z') });
    await service.run('full'); // warm the page cache and SQLite's schema
    const floor: number[] = [];
    const full: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      // Interleaved, so drift in the machine's load hits both sides alike.
      floor.push(
        (await time(() => sql`SELECT agent_id, queue_id, substr(created_at, 1, 10) AS day, count(*) AS n FROM cc_csat GROUP BY agent_id, queue_id, day`.execute(db))).ms,
      );
      full.push((await time(() => service.run('full'))).ms);
    }
    // 1,000 ratings since the last run: within the last hour (one local day, the usual case on a
    // 5-minute schedule), and spread over 24 hours (two local days, the worst case).
    const incremental: Record<'hour' | 'day', number[]> = { hour: [], day: [] };
    for (const spread of ['hour', 'day'] as const) {
      for (let i = 0; i < REPEATS; i++) {
        seedRatings(path, 1_000, { days: spread === 'hour' ? 1 / 24 : 1, endMs: Date.parse('2026-11-20T18:30:00Z'), seed: 7 + i, prefix: `inc-${timezone}-${spread}-${i}` });
        const run = await time(() => service.run('incremental'));
        if (run.value.kind !== 'incremental' || run.value.newRatings !== 1_000) throw new Error(`expected an incremental run over 1000 ratings, got ${JSON.stringify(run.value)}`);
        incremental[spread].push(run.ms);
      }
    }
    const result = {
      floor_group_by_ms: median(floor),
      full_rebuild_ms: median(full),
      full_over_floor: median(full) / median(floor),
      incremental_1000_last_hour_ms: median(incremental.hour),
      incremental_1000_last_hour_over_full: median(incremental.hour) / median(full),
      incremental_1000_last_day_ms: median(incremental.day),
      incremental_1000_last_day_over_full: median(incremental.day) / median(full),
      samples: { floor, full, incremental },
    };
    report[timezone] = result;
    console.log(
      `${timezone.padEnd(13)} floor GROUP BY ${fmt(result.floor_group_by_ms)} ms | full rebuild ${fmt(result.full_rebuild_ms)} ms = ${result.full_over_floor.toFixed(2)}x floor (target <= 3x)`,
    );
    console.log(
      `${''.padEnd(13)} incremental after 1,000 new: last hour ${fmt(result.incremental_1000_last_hour_ms)} ms = 1/${(1 / result.incremental_1000_last_hour_over_full).toFixed(0)} of full,` +
        ` last 24 h ${fmt(result.incremental_1000_last_day_ms)} ms = 1/${(1 / result.incremental_1000_last_day_over_full).toFixed(0)} of full (target < 1/50)`,
    );
  }
  await checkpointer.stop();
  writeResult('results', report);
  await storage.close();
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
}

await main();
