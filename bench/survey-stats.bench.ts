// Per-question and funnel reads (storage.surveyStats) beside the existing queue statistics read, on
// SQLite and (with CC_CSAT_BENCH_POSTGRES_URL) PostgreSQL: 1,000,000 calls over a year, each with a
// rating, three answers (csat, nps, ces) and a survey outcome; medians of REPEATS reads of the last
// 30 days for one queue and for the whole contact center. Also what the rollups cost a run: a full
// rebuild, an incremental run after 1,000 more calls, and the longest event-loop stall during the
// rebuild, and the longest wait of a rating stored every 10 ms during it (SQLite builds aside on a worker
// thread and swaps the result in: src/db/sqlite/rollup-scratch.ts). Prints a table; results in bench/results/survey-stats.json.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import type { StatsRange, Storage } from '../src/storage/ports.js';
import { fmt, generateRatings, machine, median, prng, time, writeResult, type SeedOptions } from './lib.js';
import { BENCH_POSTGRES_URL, createBenchDatabase, describeServer, serverFacts, vacuumAnalyze } from './pg.js';

const CALLS = Number(process.env['BENCH_CALLS'] ?? 1_000_000);
const REPEATS = 30;
const TIMEZONE = 'Europe/Paris';
const NOW = new Date('2026-11-20T19:00:00Z');
const RANGE: StatsRange = { period: 'day', from: '2026-10-22', to: '2026-11-20' };
const QUEUE = 'queue-3';
const OUTCOMES = ['completed', 'completed', 'completed', 'completed', 'abandoned', 'no_input', 'invalid', 'skipped', 'failed', 'declined'] as const;
const STEPS = ['consent', 'q-csat', 'q-nps', 'q-ces'];
const REASONS = ['caller_hung_up', 'not_eligible', 'no_channel', 'recently_surveyed'];

interface Call {
  readonly rating: [string, string, string, number, string];
  readonly answers: Array<[string, string, number]>;
  readonly outcome: [string, string | null, string | null, string | null];
}

/** Each seeded rating's call: its three answers and its outcome, deterministic. */
function calls(count: number, options: SeedOptions): Call[] {
  const random = prng((options.seed ?? 1) + 1000);
  return generateRatings(count, options).map((rating) => {
    const outcome = OUTCOMES[Math.floor(random() * OUTCOMES.length)]!;
    const left = outcome === 'abandoned' || outcome === 'no_input' || outcome === 'invalid';
    return {
      rating,
      answers: [
        ['q-csat', 'csat', rating[3]],
        ['q-nps', 'nps', Math.floor(random() * 11)],
        ['q-ces', 'ces', 1 + Math.floor(random() * 7)],
      ],
      outcome: [
        outcome,
        left ? null : REASONS[Math.floor(random() * REASONS.length)]!,
        left ? STEPS[Math.floor(random() * STEPS.length)]! : null,
        random() < 0.5 ? null : random() < 0.8 ? 'accepted' : 'declined',
      ],
    };
  });
}

export function seedSqlite(path: string, count: number, options: SeedOptions = {}): void {
  const sqlite = new SqliteDatabase(path);
  const rating = sqlite.prepare('INSERT INTO cc_csat (call_id, agent_id, queue_id, score, comment, created_at) VALUES (?, ?, ?, ?, NULL, ?)');
  const answer = sqlite.prepare(
    `INSERT INTO survey_answer (call_id, question_id, kind, value, digits, agent_id, queue_id, ivr, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'main', ?)`,
  );
  const outcome = sqlite.prepare(
    `INSERT INTO survey_outcome (call_id, channel_id, agent_id, queue_id, ivr, outcome, reason, attempts, last_step, started_at, ended_at, consent)
     VALUES (?, ?, ?, ?, 'main', ?, ?, 1, ?, ?, ?, ?)`,
  );
  const insert = sqlite.transaction((batch: Call[]) => {
    for (const call of batch) {
      const [callId, agent, queue, , at] = call.rating;
      rating.run(...call.rating);
      for (const [question, kind, value] of call.answers) answer.run(callId, question, kind, value, String(value), agent, queue, at);
      outcome.run(callId, `ch-${callId}`, agent, queue, call.outcome[0], call.outcome[1], call.outcome[2], at, at, call.outcome[3]);
    }
  });
  const rows = calls(count, options);
  for (let i = 0; i < rows.length; i += 20_000) insert(rows.slice(i, i + 20_000));
  sqlite.close();
}

export async function seedPostgres(url: string, count: number, options: SeedOptions = {}): Promise<void> {
  const rows = calls(count, options);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < rows.length; i += 50_000) {
      const batch = rows.slice(i, i + 50_000);
      const column = (pickOne: (call: Call) => unknown) => batch.map(pickOne);
      await client.query(
        `INSERT INTO cc_csat (call_id, agent_id, queue_id, score, comment, created_at)
         SELECT c, a, q, s, NULL, t FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::timestamptz[]) WITH ORDINALITY AS r (c, a, q, s, t, n) ORDER BY n`,
        [0, 1, 2, 3, 4].map((index) => column((call) => call.rating[index])),
      );
      const answers = batch.flatMap((call) => call.answers.map((answer) => [call.rating[0], ...answer, call.rating[1], call.rating[2], call.rating[4]] as const));
      await client.query(
        `INSERT INTO survey_answer (call_id, question_id, kind, value, digits, agent_id, queue_id, ivr, answered_at)
         SELECT c, qn, k, v, v::text, a, q, 'main', t FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[])
           WITH ORDINALITY AS r (c, qn, k, v, a, q, t, n) ORDER BY n`,
        [0, 1, 2, 3, 4, 5, 6].map((index) => answers.map((answer) => answer[index])),
      );
      await client.query(
        `INSERT INTO survey_outcome (call_id, channel_id, agent_id, queue_id, ivr, outcome, reason, attempts, last_step, started_at, ended_at, consent)
         SELECT c, 'ch-' || c, a, q, 'main', o, re, 1, st, t, t, co FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
           WITH ORDINALITY AS r (c, a, q, o, re, st, t, co, n) ORDER BY n`,
        [
          column((call) => call.rating[0]),
          column((call) => call.rating[1]),
          column((call) => call.rating[2]),
          column((call) => call.outcome[0]),
          column((call) => call.outcome[1]),
          column((call) => call.outcome[2]),
          column((call) => call.rating[4]),
          column((call) => call.outcome[3]),
        ],
      );
    }
  } finally {
    await client.end();
  }
}

type Reads = Record<string, number>;

async function measure(storage: Storage, addCalls: (count: number, options: SeedOptions) => Promise<void>): Promise<Record<string, unknown>> {
  const service = new ResultService({ rollups: storage.rollups, timezone: TIMEZONE, log: createLogger('silent'), now: () => NOW });
  // The longest gap between two ticks of a 1 ms timer: how long the run held the event loop at once.
  let lastTick = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - lastTick);
    lastTick = now;
  }, 1);
  // A rating every 10 ms meanwhile, as live calls would store them: the longest any of them waited.
  let writing = true;
  let longestWrite = 0;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      const started = performance.now();
      await storage.ratings.insert({ call_id: `live-${written}`, agent_id: 'agent-1', queue_id: QUEUE, score: 4, comment: null, created_at: '2026-11-20T18:59:00.000Z' }, 'bench live rating');
      longestWrite = Math.max(longestWrite, performance.now() - started);
      written++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const full = await time(() => service.run('full'));
  writing = false;
  await writer;
  clearInterval(ticker);
  const fullAgain = await time(() => service.run('full'));
  await addCalls(1_000, { days: 1 / 24, endMs: Date.parse('2026-11-20T18:30:00Z'), seed: 77, prefix: 'inc' });
  const incremental = await time(() => service.run('incremental'));
  if (incremental.value.newAnswers !== 3_000 || incremental.value.newOutcomes !== 1_000) throw new Error(`unexpected incremental run ${JSON.stringify(incremental.value)}`);

  const reads: Array<[string, () => Promise<unknown>]> = [
    ['queue stats (existing)', () => storage.stats.queueStats(QUEUE, RANGE, 5, null)],
    ['answerRows queue', () => storage.surveyStats.answerRows({ queueId: QUEUE }, RANGE)],
    ['answerRows everyone', () => storage.surveyStats.answerRows({}, RANGE)],
    ['outcomeRows queue', () => storage.surveyStats.outcomeRows({ queueId: QUEUE }, RANGE)],
    ['outcomeRows everyone', () => storage.surveyStats.outcomeRows({}, RANGE)],
    ['answerRows team of 20', () => storage.surveyStats.answerRows({ agentIds: Array.from({ length: 20 }, (_, i) => `agent-${i * 10}`) }, RANGE)],
    ['agentCsatRows team of 20', () => storage.surveyStats.agentCsatRows(Array.from({ length: 20 }, (_, i) => `agent-${i * 10}`), RANGE)],
  ];
  const samples: Record<string, number[]> = Object.fromEntries(reads.map(([name]) => [name, []]));
  const rows: Reads = {};
  for (const [name, read] of reads) {
    const value = await read();
    rows[name] = Array.isArray(value) ? value.length : 1;
  }
  // Interleaved, so drift in the machine's load hits every read alike.
  for (let i = 0; i < REPEATS; i++) for (const [name, read] of reads) samples[name]!.push((await time(read)).ms);
  return {
    full_run_ms: full.ms,
    full_run_again_ms: fullAgain.ms,
    full_run_longest_event_loop_stall_ms: longestGap,
    full_run_longest_rating_write_ms: longestWrite,
    full_run_ratings_written_meanwhile: written,
    incremental_1000_calls_ms: incremental.ms,
    reads_median_ms: Object.fromEntries(reads.map(([name]) => [name, median(samples[name]!)])),
    rows_returned: rows,
    samples,
  };
}

async function sqliteRun(): Promise<Record<string, unknown>> {
  const { openSqliteStorage } = await import('../src/db/sqlite/storage.js');
  const path = join(tmpdir(), `cc-csat-bench-survey-${process.pid}.db`);
  rmSync(path, { force: true });
  const storage = openSqliteStorage(path, { walAutocheckpointPages: 20_000 });
  try {
    await storage.migrate();
    const seeded = await time(() => seedSqlite(path, CALLS));
    console.log(`sqlite: seeded ${CALLS} calls in ${fmt(seeded.ms)} ms`);
    storage.database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    return await measure(storage, async (count, options) => seedSqlite(path, count, options));
  } finally {
    await storage.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }
}

async function postgresRun(adminUrl: string): Promise<Record<string, unknown>> {
  const { openPostgresStorage } = await import('../src/db/postgres/open.js');
  const database = await createBenchDatabase(adminUrl, 'survey');
  const storage = await openPostgresStorage({ url: database.url, applicationName: 'cc-csat bench survey-stats' });
  try {
    await storage.migrate();
    const seeded = await time(() => seedPostgres(database.url, CALLS));
    console.log(`postgres: seeded ${CALLS} calls in ${fmt(seeded.ms)} ms`);
    await vacuumAnalyze(database.url);
    const result = await measure(storage, (count, options) => seedPostgres(database.url, count, options));
    return { server: describeServer(await serverFacts(database.url)), ...result };
  } finally {
    await storage.close();
    await database.drop();
  }
}

function table(results: Record<string, Record<string, unknown>>): void {
  const kinds = Object.keys(results);
  const cell = (text: string, width: number) => text.padStart(width);
  console.log(`\n${'median of 30 reads, last 30 days (ms)'.padEnd(40)}${kinds.map((kind) => cell(kind, 12)).join('')}${kinds.map((kind) => cell(`${kind} rows`, 15)).join('')}`);
  const names = Object.keys((results[kinds[0]!]!['reads_median_ms'] as Reads) ?? {});
  for (const name of names) {
    const ms = kinds.map((kind) => cell(fmt((results[kind]!['reads_median_ms'] as Reads)[name]!), 12)).join('');
    const rows = kinds.map((kind) => cell(String((results[kind]!['rows_returned'] as Reads)[name]), 15)).join('');
    console.log(`${name.padEnd(40)}${ms}${rows}`);
  }
  for (const metric of ['full_run_ms', 'full_run_again_ms', 'full_run_longest_event_loop_stall_ms', 'full_run_longest_rating_write_ms', 'full_run_ratings_written_meanwhile', 'incremental_1000_calls_ms']) {
    console.log(`${metric.padEnd(40)}${kinds.map((kind) => cell(fmt(results[kind]![metric] as number), 12)).join('')}`);
  }
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, unknown>> = {};
  if (!process.env['BENCH_SKIP_SQLITE']) results['sqlite'] = await sqliteRun();
  if (BENCH_POSTGRES_URL) results['postgres'] = await postgresRun(BENCH_POSTGRES_URL);
  else console.log('postgres: skipped, set CC_CSAT_BENCH_POSTGRES_URL to a PostgreSQL admin URL (bash .ci/postgres.sh starts a server and prints one)');
  table(results);
  writeResult('survey-stats', { machine: machine(), calls: CALLS, repeats: REPEATS, timezone: TIMEZONE, range: RANGE, ...results });
}

// bench/health.bench.ts imports the seeders: the measurement runs only when this file is the one started.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
