// One "engine" of bench/write-pg.bench.ts, in a process of its own (child_process.fork): a PostgreSQL
// storage opened as the engine opens it (pool of 10), inserting ratings through storage.ratings.insert,
// the call the survey controller makes when a caller presses a key.
// Messages in: { kind: 'open', url }, then per round { kind: 'round', ... }, then 'exit'.
// Messages out: 'ready', 'armed' (round set up, waiting for its start time), then the round's result.
import { openPostgresStorage, type PostgresStorage } from '../src/db/postgres/open.js';
import { AGENTS, QUEUES, prng } from './lib.js';

export interface WriterRound {
  kind: 'round';
  /** Call ids are `${prefix}-${i}`, i = 0, 1, 2... in the order the inserts are issued. */
  prefix: string;
  /** performance.timeOrigin-based epoch milliseconds at which to start, shared by every writer. */
  startAt: number;
  durationMs: number;
  /** closed: `concurrency` inserts always in flight. paced: Poisson arrivals at `ratePerS`, each insert on its own, however many are in flight. */
  mode: 'closed' | 'paced';
  concurrency?: number;
  ratePerS?: number;
  seed: number;
}

export interface WriterResult {
  prefix: string;
  issued: number;
  inserted: number;
  /** inserted: false (the call id already stood): never expected here. */
  duplicates: number;
  failures: string[];
  wallMs: number;
  /** Milliseconds of each acknowledged insert, in issue order. */
  latencies: number[];
}

let storage: PostgresStorage | undefined;

async function runRound(round: WriterRound): Promise<WriterResult> {
  const s = storage!;
  const random = prng(round.seed);
  const latencies: number[] = [];
  const failures: string[] = [];
  let issued = 0;
  let inserted = 0;
  let duplicates = 0;
  const insertOne = async (): Promise<void> => {
    const i = issued++;
    const agent = Math.floor(random() * AGENTS);
    const rating = {
      call_id: `${round.prefix}-${i}`,
      agent_id: `agent-${agent}`,
      queue_id: `queue-${(agent + (random() < 0.5 ? 0 : 1)) % QUEUES}`,
      score: 1 + Math.floor(random() * 5),
      comment: null,
      created_at: new Date().toISOString(),
    };
    const started = performance.now();
    try {
      const result = await s.ratings.insert(rating, 'rating');
      latencies[i] = performance.now() - started;
      if (result.inserted) inserted++;
      else duplicates++;
    } catch (err) {
      failures.push(`${rating.call_id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const wait = round.startAt - (performance.timeOrigin + performance.now());
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const started = performance.now();
  const endAt = started + round.durationMs;
  if (round.mode === 'closed') {
    const worker = async (): Promise<void> => {
      while (performance.now() < endAt) await insertOne();
    };
    await Promise.all(Array.from({ length: round.concurrency ?? 1 }, worker));
  } else {
    // Open loop: arrivals do not wait for earlier inserts, as surveys do not wait for each other.
    const rate = round.ratePerS ?? 100;
    const pending: Array<Promise<void>> = [];
    let nextArrival = started;
    while (nextArrival < endAt) {
      const now = performance.now();
      while (nextArrival <= now && nextArrival < endAt) {
        pending.push(insertOne());
        nextArrival += (-Math.log(1 - random()) * 1000) / rate;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
  }
  const wallMs = performance.now() - started;
  return { prefix: round.prefix, issued, inserted, duplicates, failures: failures.slice(0, 20), wallMs, latencies: latencies.filter((ms) => ms !== undefined) };
}

process.on('message', (message: { kind: 'open'; url: string; name: string } | WriterRound | 'exit') => {
  void (async () => {
    if (message === 'exit') {
      await storage?.close();
      process.exit(0);
    }
    if (message.kind === 'open') {
      storage = await openPostgresStorage({ url: message.url, applicationName: message.name });
      // Warm the pool (10 connections) and the prepared paths, as an engine that has been up a while.
      await Promise.all(Array.from({ length: 10 }, (_, i) => storage!.ratings.findByCallId(`warm-${i}`)));
      process.send!('ready');
      return;
    }
    process.send!('armed');
    process.send!(await runRound(message));
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
