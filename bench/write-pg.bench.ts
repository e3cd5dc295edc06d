// Write rate on PostgreSQL with three engines at once (issue 11): three processes (bench/pg-writer.ts),
// each with its own pool as an engine has, inserting ratings through storage.ratings.insert into one
// database that already holds 1,000,000 ratings; the same with one process for comparison. Rounds:
//   sequential  1 process, one insert at a time (the figure SQLite's "IVR write" row gives);
//   closed      16 inserts always in flight per process (a saturating load: the most it takes);
//   paced       Poisson arrivals at 400 ratings/s per process, each insert on its own: the peak of
//               1,000 concurrent surveys per engine (bench/controller.bench.ts: 1,000 keys within 2.5 s).
// After each round every acknowledged rating is checked to be stored exactly once; at the end one
// result-service run folds them all, and the rollups are checked to count every rating once.
// Skipped without CC_CSAT_BENCH_POSTGRES_URL.
import { fork, type ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { openPostgresStorage } from '../src/db/postgres/open.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { fmt, machine, percentile, writeResult } from './lib.js';
import { createBenchDatabase, describeServer, seedRatingsPg, serverFacts, skipWithoutPostgres, vacuumAnalyze } from './pg.js';
import type { WriterResult, WriterRound } from './pg-writer.js';

const RATINGS = Number(process.env['BENCH_RATINGS'] ?? 1_000_000);
const DURATION_MS = Number(process.env['BENCH_WRITE_SECONDS'] ?? 10) * 1000;
const CONCURRENCY = 16;
const PACED_PER_S = 400;

interface Writer {
  child: ChildProcess;
  next(): Promise<any>;
}

function startWriter(index: number, url: string): Promise<Writer> {
  const child = fork(new URL('./pg-writer.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'] });
  const waiting: Array<(message: unknown) => void> = [];
  child.on('message', (message) => waiting.shift()?.(message));
  child.on('exit', (code) => {
    if (code !== 0) {
      console.error(`writer ${index} exited with ${code}`);
      process.exit(1);
    }
  });
  const writer: Writer = { child, next: () => new Promise((resolve) => waiting.push(resolve)) };
  const ready = writer.next();
  child.send({ kind: 'open', url, name: `cc-csat bench writer ${index}` });
  return ready.then(() => writer);
}

async function round(writers: Writer[], name: string, shape: Pick<WriterRound, 'mode' | 'concurrency' | 'ratePerS'>, durationMs = DURATION_MS): Promise<WriterResult[]> {
  const startAt = performance.timeOrigin + performance.now() + 500;
  const results = writers.map(async (writer, index) => {
    const armed = writer.next();
    const result = writer.next();
    const message: WriterRound = { kind: 'round', prefix: `${name}-p${index}`, startAt, durationMs, seed: 1000 + index, ...shape };
    writer.child.send(message);
    await armed;
    return (await result) as WriterResult;
  });
  return Promise.all(results);
}

async function main(): Promise<void> {
  const adminUrl = skipWithoutPostgres('write-pg.bench.ts');
  const database = await createBenchDatabase(adminUrl, 'write');
  const storage = await openPostgresStorage({ url: database.url, applicationName: 'cc-csat bench write-pg' });
  const writers: Writer[] = [];
  try {
    await storage.migrate();
    await seedRatingsPg(database.url, RATINGS);
    await vacuumAnalyze(database.url);
    const results = new ResultService({ rollups: storage.rollups, timezone: 'Europe/Paris', log: createLogger('silent') });
    await results.run('full');
    await vacuumAnalyze(database.url);
    console.log(`seeded ${RATINGS} ratings (database ${database.name}) and built the rollups`);
    const server = await serverFacts(adminUrl);
    console.log(describeServer(server));
    const durable = server['fsync'] === 'on' && server['synchronous_commit'] === 'on';
    if (!durable) {
      console.log(`warning: the server runs with fsync=${server['fsync']}, synchronous_commit=${server['synchronous_commit']}: these rates are not those of durable commits (ALTER SYSTEM SET fsync = on; ALTER SYSTEM SET synchronous_commit = on; SELECT pg_reload_conf())`);
    }
    for (let i = 0; i < 3; i++) writers.push(await startWriter(i, database.url));
    // Warm-up, not measured: each writer's insert path compiled and its pool's connections busy once.
    const warm = await round(writers, 'warm', { mode: 'closed', concurrency: CONCURRENCY }, 2000);

    const plan: Array<{ name: string; processes: number; shape: Pick<WriterRound, 'mode' | 'concurrency' | 'ratePerS'>; label: string }> = [
      { name: 'seq1', processes: 1, shape: { mode: 'closed', concurrency: 1 }, label: '1 process, 1 in flight' },
      { name: 'seq3', processes: 3, shape: { mode: 'closed', concurrency: 1 }, label: '3 processes, 1 in flight each' },
      { name: 'closed1', processes: 1, shape: { mode: 'closed', concurrency: CONCURRENCY }, label: `1 process, ${CONCURRENCY} in flight` },
      { name: 'closed3', processes: 3, shape: { mode: 'closed', concurrency: CONCURRENCY }, label: `3 processes, ${CONCURRENCY} in flight each` },
      { name: 'paced1', processes: 1, shape: { mode: 'paced', ratePerS: PACED_PER_S }, label: `1 process, ${PACED_PER_S}/s Poisson` },
      { name: 'paced3', processes: 3, shape: { mode: 'paced', ratePerS: PACED_PER_S }, label: `3 processes, ${PACED_PER_S}/s Poisson each` },
    ];
    const report: Record<string, unknown> = {};
    let acknowledged = warm.reduce((n, r) => n + r.inserted, 0);
    for (const step of plan) {
      const out = await round(writers.slice(0, step.processes), step.name, step.shape);
      const all = out.flatMap((r) => r.latencies).sort((a, b) => a - b);
      const wallS = Math.max(...out.map((r) => r.wallMs)) / 1000;
      const inserted = out.reduce((n, r) => n + r.inserted, 0);
      acknowledged += inserted;
      // Exactly once: each process's acknowledged ratings are in cc_csat, once each, and nothing else with its prefix.
      for (const r of out) {
        const row = (
          await sql<{ n: number; distinct_ids: number }>`SELECT count(*) AS n, count(DISTINCT call_id) AS distinct_ids FROM cc_csat WHERE call_id LIKE ${`${r.prefix}-%`}`.execute(storage.db)
        ).rows[0]!;
        if (r.failures.length > 0 || r.duplicates > 0 || r.inserted !== r.issued || row.n !== r.inserted || row.distinct_ids !== r.inserted) {
          throw new Error(`${r.prefix}: issued ${r.issued}, acknowledged ${r.inserted}, duplicates ${r.duplicates}, stored ${row.n} (${row.distinct_ids} distinct); failures: ${r.failures.join('; ')}`);
        }
      }
      const perProcess = out.map((r) => {
        const sorted = [...r.latencies].sort((a, b) => a - b);
        return { ratings_per_s: r.inserted / (r.wallMs / 1000), inserted: r.inserted, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99) };
      });
      const entry = {
        label: step.label,
        processes: step.processes,
        ...step.shape,
        ratings_per_s: inserted / wallS,
        inserted,
        latency_p50_ms: percentile(all, 50),
        latency_p99_ms: percentile(all, 99),
        latency_max_ms: all.at(-1),
        per_process: perProcess,
        stored_exactly_once: true,
      };
      report[step.name] = entry;
      console.log(
        `${step.label.padEnd(36)} ${entry.ratings_per_s.toFixed(0).padStart(6)} ratings/s (per process ${perProcess.map((p) => p.ratings_per_s.toFixed(0)).join(' / ')})` +
          ` | insert p50 ${fmt(entry.latency_p50_ms)} ms p99 ${fmt(entry.latency_p99_ms)} ms max ${fmt(entry.latency_max_ms ?? NaN)} ms | ${inserted} stored exactly once`,
      );
    }
    // Folded once each: one incremental run takes every rating written above.
    const run = await results.run('incremental');
    const counts = (
      await sql<{ ratings: number; folded: number }>`SELECT (SELECT count(*) FROM cc_csat) AS ratings,
        (SELECT sum(count) FROM csat_rollup WHERE scope = 'agent_queue' AND period = 'day') AS folded`.execute(storage.db)
    ).rows[0]!;
    if (run.newRatings !== acknowledged || counts.ratings !== counts.folded || counts.ratings !== RATINGS + acknowledged) {
      throw new Error(`${acknowledged} ratings acknowledged since the seed, the run folded ${run.newRatings}; rollups count ${counts.folded} ratings, cc_csat holds ${counts.ratings}`);
    }
    console.log(`one incremental run folded ${run.newRatings} new ratings in ${run.durationMs} ms; rollups count ${counts.folded} = ${counts.ratings} rows in cc_csat`);
    writeResult('write-pg', { machine: machine(), server, durable_commits: durable, seeded_ratings: RATINGS, duration_s: DURATION_MS / 1000, rounds: report, fold: { run, ...counts } });
  } finally {
    await Promise.all(
      writers.map((writer) => {
        const exited = new Promise((resolve) => writer.child.once('exit', resolve));
        writer.child.send('exit');
        return exited;
      }),
    );
    await storage.close();
    await database.drop();
  }
}

await main();
