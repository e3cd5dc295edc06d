// npm run bench: each benchmark in its own process (so one's heap and JIT never colour another's),
// in sequence. Results go to bench/results/*.json; BENCHMARKS.md explains them.
// `npm run bench -- api write-pg` runs the named ones (a name is the file without .bench.ts; a
// prefix works when it names no benchmark exactly); `npm run bench -- pg` runs the PostgreSQL ones.
import { spawnSync } from 'node:child_process';

const benches: Array<[string, string[]]> = [
  ['results.bench.ts', []],
  ['api.bench.ts', []],
  ['controller.bench.ts', ['--expose-gc']],
  ['write.bench.ts', []],
  // GET /cc/csat/export of 1,000,000 ratings; PostgreSQL too with CC_CSAT_BENCH_POSTGRES_URL.
  ['export.bench.ts', ['--expose-gc']],
  // PostgreSQL (issue 11): each skipped (one line) without CC_CSAT_BENCH_POSTGRES_URL.
  ['results-pg.bench.ts', []],
  ['api-pg.bench.ts', []],
  ['write-pg.bench.ts', []],
  // Skipped (one line) without CC_CSAT_ASTERISK.
  ['real.bench.ts', []],
  // Skipped (one line) without CC_CSAT_CHROMIUM.
  ['dashboard.bench.ts', []],
  // Per-question and funnel reads (answer_rollup, outcome_rollup) and their runs at 1,000,000 calls; PostgreSQL too with CC_CSAT_BENCH_POSTGRES_URL.
  ['survey-stats.bench.ts', []],
  // GET /cc/csat/health at 100,000 surveyed calls (issue 13); PostgreSQL too with CC_CSAT_BENCH_POSTGRES_URL.
  ['health.bench.ts', []],
  // The SIP front door (issue 15): INVITEs relayed per second and setup time added, against calls straight to Asterisk. Skipped (one line) without CC_CSAT_ASTERISK and CC_CSAT_DRACHTIO.
  ['sip-front-door.bench.ts', []],
];
const names = benches.map(([file]) => file.replace(/\.bench\.ts$/, ''));
const asked = process.argv.slice(2).flatMap((name) => (name === 'pg' ? names.filter((n) => n.endsWith('-pg')) : [name]));
const selected = (name: string): boolean =>
  asked.length === 0 || asked.some((wanted) => wanted === name || (!names.includes(wanted) && name.startsWith(wanted)));
for (const unknown of asked.filter((wanted) => !names.some((name) => name === wanted || name.startsWith(wanted)))) {
  console.error(`no benchmark named ${unknown} (known: ${names.join(', ')}, pg)`);
  process.exit(2);
}
for (const [file, flags] of benches) {
  if (!selected(file.replace(/\.bench\.ts$/, ''))) continue;
  console.log(`\n== ${file}`);
  const result = spawnSync(process.execPath, [...flags, '--import', 'tsx', new URL(`./${file}`, import.meta.url).pathname], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
