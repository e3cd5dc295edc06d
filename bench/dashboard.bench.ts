// The dashboard's first paint over 1,000,000 ratings: Chromium (CC_CSAT_CHROMIUM) opens the overview of
// 10 queues (the last 30 days) served by the real HTTP app on a SQLite file whose rollups are built.
// Reported: time to first paint and to "numbers shown" (the overview's average on screen), from the
// navigation's start, for the first load (server cache cold) and the median of later loads (each in
// a new browser context: nothing cached in the browser, the server's snapshot cache warm).
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config/load.js';
import { createHttpApp } from '../src/http/app.js';
import { listenFirst } from '../src/http/server.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createLogger } from '../src/log.js';
import { ResultService } from '../src/results/service.js';
import { writeConfigTree } from '../test/helpers/config-tree.js';
import { fmt, machine, median, QUEUES, seedRatings, time, writeResult } from './lib.js';

const CHROMIUM = process.env['CC_CSAT_CHROMIUM'];
const RATINGS = Number(process.env['BENCH_RATINGS'] ?? 1_000_000);
const LOADS = 6;
const TIMEZONE = 'Europe/Paris';
const KEY = 'bench-key';
const NOW = new Date('2026-11-20T19:00:00Z');
const WAIT_MS = 60_000;

// Recorded in the page from its first script on: when the first number is drawn.
const OBSERVE_NUMBERS = `
  sessionStorage.setItem('cc-csat-api-key', ${JSON.stringify(KEY)});
  new MutationObserver((_changes, observer) => {
    const shown = document.querySelector('[data-metric="average"]');
    if (shown && /\\d/.test(shown.textContent)) {
      window.__numbersShownAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
`;

const READ_TIMES = `(() => {
  const paints = performance.getEntriesByType('paint');
  const paint = paints.find((entry) => entry.name === 'first-paint') ?? paints[0];
  const resources = performance.getEntriesByType('resource');
  const api = resources.filter((entry) => entry.name.includes('/cc/csat/'));
  const scripts = resources.filter((entry) => entry.name.endsWith('.js'));
  return {
    first_paint_ms: paint ? paint.startTime : NaN,
    numbers_shown_ms: window.__numbersShownAt,
    // Where the time goes: the page's own scripts loaded, then the API answered.
    scripts_loaded_ms: Math.max(...scripts.map((entry) => entry.responseEnd)),
    api_first_request_ms: Math.min(...api.map((entry) => entry.startTime)),
    api_last_answer_ms: Math.max(...api.map((entry) => entry.responseEnd)),
    api_requests: api.length,
  };
})()`;

async function main(): Promise<void> {
  if (!CHROMIUM) {
    console.log('dashboard benchmark skipped: set CC_CSAT_CHROMIUM to a Chromium binary (e.g. /usr/bin/chromium)');
    return;
  }
  const queues = Array.from({ length: QUEUES }, (_, i) => `[[queue]]\nname = "queue-${i}"\n[queue.after_call]\ncsat_enabled = true\ncsat_ivr = "survey"\n`).join('\n');
  const tree = writeConfigTree({
    queues,
    engineExtra: `
[results]
timezone = "${TIMEZONE}"

[[api_keys]]
name = "bench"
key_sha256 = "${createHash('sha256').update(KEY).digest('hex')}"
scopes = ["csat:read"]
rate_limit_per_minute = 1000000
`,
  });
  const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
  if (config.database.kind !== 'sqlite') throw new Error('the dashboard benchmark needs a sqlite: [database] url');
  const path = config.database.path;
  const seeding = openSqliteStorage(path, { walAutocheckpointPages: 20_000 });
  await seeding.migrate();
  seedRatings(path, RATINGS);
  const results = new ResultService({ rollups: seeding.rollups, timezone: TIMEZONE, log: createLogger('silent'), now: () => NOW });
  const rebuilt = await time(() => results.run('full'));
  seeding.database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  await seeding.close();
  console.log(`seeded ${RATINGS} ratings, rollups rebuilt in ${fmt(rebuilt.ms)} ms`);

  const storage = openSqliteStorage(path);
  storage.serving();
  const app = createHttpApp({ config, storage, log: createLogger('silent'), telephony: { state: 'connected' }, now: () => NOW });
  const listening = await listenFirst(0, '127.0.0.1', '[http]');
  listening.serve(app);
  const base = `http://127.0.0.1:${(listening.server.address() as AddressInfo).port}`;

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: WAIT_MS,
  });
  const loads: Array<{ first_paint_ms: number; numbers_shown_ms: number; scripts_loaded_ms: number; api_first_request_ms: number; api_last_answer_ms: number; api_requests: number }> = [];
  try {
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      await page.addInitScript(OBSERVE_NUMBERS);
      await page.goto(`${base}/dashboard/#/overview`);
      // A function, not a string: the page's CSP refuses eval.
      await page.waitForFunction(() => (globalThis as { __numbersShownAt?: number }).__numbersShownAt !== undefined, undefined, { timeout: WAIT_MS });
      const measured = await page.evaluate<(typeof loads)[number]>(READ_TIMES);
      loads.push(measured);
      console.log(
        `load ${i + 1}: first paint ${fmt(measured.first_paint_ms)} ms, numbers shown ${fmt(measured.numbers_shown_ms)} ms ` +
          `(scripts loaded ${fmt(measured.scripts_loaded_ms)} ms; ${measured.api_requests} API requests from ${fmt(measured.api_first_request_ms)} to ${fmt(measured.api_last_answer_ms)} ms)`,
      );
      await context.close();
    }
  } finally {
    await browser.close();
    listening.server.close();
    await storage.close();
    rmSync(tree.dir, { recursive: true, force: true });
  }
  const later = loads.slice(1);
  const result = {
    machine: machine(),
    ratings: RATINGS,
    queues: QUEUES,
    range: 'last 30 days, period=day',
    chromium: CHROMIUM,
    first_load: loads[0],
    later_loads_median: {
      first_paint_ms: median(later.map((load) => load.first_paint_ms)),
      numbers_shown_ms: median(later.map((load) => load.numbers_shown_ms)),
    },
    loads,
  };
  writeResult('dashboard', result);
  console.log(
    `first load (server cache cold): first paint ${fmt(loads[0]!.first_paint_ms)} ms, numbers shown ${fmt(loads[0]!.numbers_shown_ms)} ms; ` +
      `later loads (median of ${later.length}): ${fmt(result.later_loads_median.first_paint_ms)} ms, ${fmt(result.later_loads_median.numbers_shown_ms)} ms`,
  );
}

await main();
