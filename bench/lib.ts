// Shared by the benchmarks: a fast seeder, timing helpers, machine facts, result files.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import SqliteDatabase from 'better-sqlite3';

export const AGENTS = 200;
export const QUEUES = 10;

/** Deterministic LCG so every run seeds the same data. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface SeedOptions {
  days?: number;
  endMs?: number;
  seed?: number;
  prefix?: string;
}

/** A seeded rating: call_id, agent_id, queue_id, score, created_at (UTC ISO). */
export type SeedRow = [string, string, string, number, string];

/**
 * `count` ratings spread over `days` days ending at `endMs`: 200 agents, 10 queues (each agent works
 * 2 queues), scores skewed towards 4-5 like real CSAT. The same rows for the same options, whichever
 * database they are written to.
 */
export function generateRatings(count: number, options: SeedOptions = {}): SeedRow[] {
  const days = options.days ?? 365;
  const endMs = options.endMs ?? Date.parse('2026-11-20T18:00:00Z');
  const random = prng(options.seed ?? 1);
  const scores = [1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5];
  const spanMs = days * 86_400_000;
  const rows: SeedRow[] = [];
  for (let i = 0; i < count; i++) {
    const agent = Math.floor(random() * AGENTS);
    const queue = (agent + (random() < 0.5 ? 0 : 1)) % QUEUES;
    // ascending time, as ratings arrive in production
    const at = endMs - spanMs + Math.floor(((i + random()) / count) * spanMs);
    rows.push([`${options.prefix ?? 'seed'}-${i}`, `agent-${agent}`, `queue-${queue}`, scores[Math.floor(random() * scores.length)]!, new Date(at).toISOString()]);
  }
  return rows;
}

/** Writes generateRatings(count, options) into the SQLite file at `path`. */
export function seedRatings(path: string, count: number, options: SeedOptions = {}): void {
  const rows = generateRatings(count, options);
  const sqlite = new SqliteDatabase(path);
  const insert = sqlite.prepare('INSERT INTO cc_csat (call_id, agent_id, queue_id, score, comment, created_at) VALUES (?, ?, ?, ?, NULL, ?)');
  const insertAll = sqlite.transaction((batch: typeof rows) => {
    for (const row of batch) insert.run(...row);
  });
  for (let i = 0; i < rows.length; i += 50_000) insertAll(rows.slice(i, i + 50_000));
  sqlite.close();
}

export async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    sqlite: (new SqliteDatabase(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
  };
}

// Linux reports process CPU in clock ticks of 1/100 s (CLK_TCK on every mainstream architecture).
export const TICKS_PER_SECOND = 100;

/** utime + stime of a process so far, in seconds, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ')'; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function writeResult(name: string, result: unknown): void {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${name}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
}

export const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
