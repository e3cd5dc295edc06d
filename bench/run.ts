// npm run bench: each benchmark in its own process (so one's heap and JIT never colour another's),
// in sequence. Results go to bench/results/*.json; BENCHMARKS.md explains them.
import { spawnSync } from 'node:child_process';

const benches: Array<[string, string[]]> = [
  ['results.bench.ts', []],
  ['api.bench.ts', []],
  ['controller.bench.ts', ['--expose-gc']],
  ['write.bench.ts', []],
  // Skipped (one line) without CC_CSAT_ASTERISK.
  ['real.bench.ts', []],
];
const only = process.argv.slice(2);
for (const [file, flags] of benches) {
  if (only.length > 0 && !only.some((name) => file.startsWith(name))) continue;
  console.log(`\n== ${file}`);
  const result = spawnSync(process.execPath, [...flags, '--import', 'tsx', new URL(`./${file}`, import.meta.url).pathname], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
