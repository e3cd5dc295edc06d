// The browser tier: the dashboard at /dashboard in a real Chromium (Debian's, driven by
// playwright-core), against a real engine HTTP app over a real SQLite database with seeded ratings,
// answers and survey outcomes. What is asserted is what a supervisor sees: the numbers on screen
// equal an independent computation from the rows this test inserted, and the API's own answers.
// Runs when CC_CSAT_CHROMIUM names a Chromium binary (`bash .ci/run` installs Debian's and sets it).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DATABASES, KEY_AGENT_ID, KEYS, startApi, type ApiHarness, type DatabaseKind } from './helpers/api.js';
import { REPO_ROOT } from './helpers/cli.js';
import { localDay, reference, type SeedRating } from './helpers/reference-stats.js';
import type { RecordingSource } from '../src/telephony/recordings.js';

const CHROMIUM = process.env['CC_CSAT_CHROMIUM'] || undefined;
const SKIP = CHROMIUM
  ? false
  : 'browser tier skipped: set CC_CSAT_CHROMIUM to a Chromium binary, e.g. /usr/bin/chromium from apt-get install chromium (bash .ci/run does it)';

// This machine's network is closed: without these, Chromium waits on update, sync and QUIC probes.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'dashboard');
const WAIT_MS = 15_000;

const TZ = 'America/New_York';
const NOW = new Date('2026-11-20T17:00:00.000Z');
const FROM = '2026-11-02';
const TO = '2026-11-19';
const QUEUES = ['sales-queue', 'quiet-queue'] as const;
const AGENTS = [KEY_AGENT_ID, 'agent-002', 'agent-003', 'agent-004'] as const;
const TEAMS = { north: ['agent-001', 'agent-002'], south: ['agent-003', 'agent-004'] } as const;
const TEAMS_TOML = `
[[team]]
id = "north"
name = "North floor"
agents = ["agent-001", "agent-002"]

[[team]]
id = "south"
agents = ["agent-003", "agent-004"]
`;
const MIN_RATINGS_TO_RANK = 3;

interface SeedAnswer {
  call_id: string;
  question_id: string;
  kind: 'csat' | 'nps' | 'comment';
  value: number | null;
  agent_id: string;
  queue_id: string;
  answered_at: string;
  recording: string | null;
}
interface SeedOutcome {
  call_id: string;
  agent_id: string;
  queue_id: string;
  outcome: 'completed' | 'declined' | 'abandoned' | 'no_input' | 'skipped';
  started_at: string;
}
interface Seeded {
  ratings: Array<SeedRating & { comment: string | null }>;
  answers: SeedAnswer[];
  outcomes: SeedOutcome[];
}

function prng(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * 320 rated calls from 2026-10-28 to 2026-11-20 (some outside the picked range), distinct times.
 * Three in four came through the IVR: a csat answer (question "ask", the score), an nps answer, a
 * completed outcome; agent-001's commented IVR calls also left a spoken comment (a recording).
 * Unrated surveys add declined, abandoned, no-input and skipped (not offered) outcomes.
 */
function seedData(): Seeded {
  const random = prng(13);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const start = Date.parse('2026-10-28T03:17:00.000Z');
  const data: Seeded = { ratings: [], answers: [], outcomes: [] };
  for (let i = 0; i < 320; i++) {
    const createdMs = start + i * 6_397_000 + Math.floor(random() * 1_000_000);
    const created_at = new Date(createdMs).toISOString();
    const agent_id = pick(AGENTS);
    const queue_id = random() < 0.7 ? QUEUES[0] : QUEUES[1];
    const score = 1 + Math.floor(random() ** 0.6 * 5);
    const call_id = `call-${String(i).padStart(4, '0')}`;
    const comment = i % 6 === 0 ? `Comment ${i}: the agent was ${score >= 4 ? 'helpful' : 'slow'}` : null;
    data.ratings.push({ call_id, agent_id, queue_id, score, created_at, comment });
    if (i % 4 === 3) continue; // rated through the API only
    data.answers.push({ call_id, question_id: 'ask', kind: 'csat', value: score, agent_id, queue_id, answered_at: created_at, recording: null });
    data.answers.push({ call_id, question_id: 'nps', kind: 'nps', value: Math.floor(random() * 11), agent_id, queue_id, answered_at: new Date(createdMs + 5_000).toISOString(), recording: null });
    if (comment && agent_id === KEY_AGENT_ID) {
      data.answers.push({ call_id, question_id: 'voice', kind: 'comment', value: null, agent_id, queue_id, answered_at: new Date(createdMs + 9_000).toISOString(), recording: `rec-${call_id}` });
    }
    data.outcomes.push({ call_id, agent_id, queue_id, outcome: 'completed', started_at: new Date(createdMs - 60_000).toISOString() });
  }
  const unrated = ['declined', 'abandoned', 'no_input', 'skipped'] as const;
  for (let i = 0; i < 90; i++) {
    const startedMs = start + i * 22_700_000 + Math.floor(random() * 1_000_000);
    data.outcomes.push({ call_id: `unrated-${i}`, agent_id: pick(AGENTS), queue_id: pick(QUEUES), outcome: unrated[i % unrated.length]!, started_at: new Date(startedMs).toISOString() });
  }
  return data;
}

async function insert(api: ApiHarness, data: Seeded): Promise<void> {
  await api.db.insertInto('cc_csat').values(data.ratings).execute();
  await api.db
    .insertInto('survey_answer')
    .values(
      data.answers.map((answer) => ({
        ...answer,
        digits: answer.value === null ? null : String(answer.value),
        recording_ms: answer.recording ? RECORDING_MS : null,
        recording_format: answer.recording ? 'wav' : null,
        recording_server: null,
        recording_deleted_at: null,
        language: 'en',
        ivr: 'survey',
      })),
    )
    .execute();
  await api.db
    .insertInto('survey_outcome')
    .values(
      data.outcomes.map((row, index) => ({
        ...row,
        channel_id: `chan-${index}`,
        ivr: 'survey',
        reason: row.outcome === 'skipped' ? 'queue_disabled' : null,
        attempts: 1,
        last_step: row.outcome === 'abandoned' ? 'ask' : null,
        score: null,
        ended_at: new Date(Date.parse(row.started_at) + 30_000).toISOString(),
        server: null,
        consent: null,
      })),
    )
    .execute();
}

// ---------------------------------------------------------------- the independent model

const inRange = (iso: string) => {
  const day = localDay(iso, TZ);
  return day >= FROM && day <= TO;
};
const round1 = (value: number) => Math.round(value * 10) / 10;
const shown = {
  average: (value: number | null) => (value === null ? '—' : value.toFixed(2)),
  percent: (value: number | null) => (value === null ? '—' : `${value.toFixed(1)} %`),
  signed: (value: number | null) => (value === null ? '—' : `${value > 0 ? '+' : ''}${value.toFixed(1)}`),
};

function csatPercent(distribution: Record<string, number>, count: number): number | null {
  return count === 0 ? null : round1(((distribution['4']! + distribution['5']!) / count) * 100);
}

function npsOf(answers: readonly SeedAnswer[]): number | null {
  const nps = answers.filter((answer) => answer.kind === 'nps' && inRange(answer.answered_at));
  if (nps.length === 0) return null;
  const promoters = nps.filter((answer) => answer.value! >= 9).length;
  const detractors = nps.filter((answer) => answer.value! <= 6).length;
  return round1(((promoters - detractors) / nps.length) * 100);
}

function funnelOf(outcomes: readonly SeedOutcome[]) {
  const mine = outcomes.filter((row) => inRange(row.started_at));
  const offered = mine.filter((row) => row.outcome !== 'skipped').length;
  const completed = mine.filter((row) => row.outcome === 'completed').length;
  return { offered, completed, response_rate: offered === 0 ? null : round1((completed / offered) * 100) };
}

// ---------------------------------------------------------------- browser helpers

const RECORDING_MS = 1500;
/** A WAV of RECORDING_MS of silence: what the fake Asterisk serves for every recording. */
function silentWav(): Buffer {
  const rate = 8000;
  const samples = (rate * RECORDING_MS) / 1000;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  return wav;
}

async function metric(page: Page, name: string): Promise<string> {
  return ((await page.locator(`[data-metric="${name}"]`).first().textContent({ timeout: WAIT_MS })) ?? '').trim();
}

/** Goes to a hash route and waits until its heading (and so its numbers) is drawn. */
async function open(page: Page, hash: string, title: string): Promise<void> {
  await page.evaluate((target) => {
    (globalThis as any).location.hash = target;
  }, hash);
  await page.locator('#view-title', { hasText: title }).waitFor({ timeout: WAIT_MS });
  await page.locator('#view:not([aria-busy])').waitFor({ timeout: WAIT_MS });
}

async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/dashboard/`, { timeout: WAIT_MS });
  // By keyboard, as a screen-reader user would: the key field has the focus, Enter submits.
  await page.locator('#api-key:focus').waitFor({ timeout: WAIT_MS });
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
}

async function pickRange(page: Page, period: string, from: string, to: string): Promise<void> {
  await page.selectOption('#period', period);
  await page.fill('#from', from);
  await page.fill('#to', to);
  await page.click('#range-form button[type="submit"]');
}

/** test-artifacts/dashboard/<name>.png (the PostgreSQL run's with a -postgres suffix). */
async function screenshot(page: Page, name: string, kind: DatabaseKind, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}${kind === 'sqlite' ? '' : `-${kind}`}.png`), fullPage });
}

/** Rows of a table as text cells (th and td), header row excluded. */
async function tableRows(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(`${selector} tbody tr`, (rows) => rows.map((row) => [...row.children].map((cell) => (cell.textContent ?? '').trim())));
}

/**
 * Text whose contrast with its background is under 4.5:1 (WCAG AA), as rendered. Plain JavaScript
 * run in the page (a string: the test's TypeScript has no DOM types, and tsx's helpers are not there).
 */
const LOW_CONTRAST_SCRIPT = `(() => {
  const rgb = (color) => {
    const parts = (/rgba?\\(([^)]+)\\)/.exec(color)?.[1] ?? '0,0,0,1').split(',').map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts[3] ?? 1 };
  };
  const linear = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const luminance = (c) => 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const color = rgb(getComputedStyle(node).backgroundColor);
      if (color.a > 0) return color;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const problems = [];
  for (const node of document.querySelectorAll('body *')) {
    if (![...node.childNodes].some((child) => child.nodeType === Node.TEXT_NODE && child.textContent.trim() !== '')) continue;
    const box = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    const a = luminance(rgb(style.color));
    const b = luminance(background(node));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) problems.push(node.tagName.toLowerCase() + '.' + node.className + ' "' + node.textContent.trim().slice(0, 30) + '": ' + ratio.toFixed(2) + ':1');
  }
  return problems;
})()`;

async function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(LOW_CONTRAST_SCRIPT);
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

// ---------------------------------------------------------------- the tier

for (const { kind, skip } of DATABASES) describe(`dashboard in a real browser (${kind})`, { skip: SKIP || skip }, () => {
  let api: ApiHarness;
  let browser: Browser;
  let page: Page;
  const data = seedData();
  const consoleErrors: string[] = [];
  const wav = silentWav();
  const recordings: RecordingSource = {
    open: async () => ({ body: Readable.from([wav]), contentLength: wav.length }),
    delete: async () => 'missing',
  };
  const apiGet = async (path: string, key: string = KEYS.supervisor) => {
    const answer = await api.request('GET', path, { key });
    assert.equal(answer.status, 200, `GET ${path}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    api = await startApi({ database: kind, timezone: TZ, now: NOW, minRatingsToRank: MIN_RATINGS_TO_RANK, teams: TEAMS_TOML, recordings });
    await insert(api, data);
    await api.results.run();
    const { chromium } = await import('playwright-core');
    // launch() gives the browser a new, empty --user-data-dir of its own (removed on close).
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  });

  after(async () => {
    await browser?.close();
    await api?.close();
  });

  test('the page is served with a Content-Security-Policy that allows no inline script', async () => {
    const response = await fetch(`${api.base}/dashboard/`);
    assert.equal(response.status, 200);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await response.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline <script> in index.html');
    for (const key of Object.values(KEYS)) assert.ok(!html.includes(key), 'no key in the page');
    for (const vendor of ['uPlot.iife.min.js', 'uPlot.min.css']) assert.equal((await fetch(`${api.base}/dashboard/vendor/${vendor}`)).status, 200, vendor);
    assert.equal((await fetch(`${api.base}/dashboard/vendor/package.json`)).status, 404, 'only the two uPlot files are served');
    const bare = await fetch(`${api.base}/dashboard`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/dashboard/');
  });

  test('GET /cc/csat/queues lists the configured queues and what the key may do', async () => {
    assert.equal((await api.request('GET', '/cc/csat/queues', { key: null })).status, 401);
    assert.equal((await api.request('GET', '/cc/csat/queues', { key: KEYS.writer })).status, 403);
    const body = await apiGet('/cc/csat/queues');
    assert.deepEqual(body.queues, [
      { queue_id: 'quiet-queue', csat_enabled: false },
      { queue_id: 'sales-queue', csat_enabled: true },
    ]);
    assert.deepEqual(body.key, { name: 'supervisor', scopes: ['csat:read', 'csat:export', 'csat:recordings'], agent_id: null });
    assert.equal((await apiGet('/cc/csat/queues', KEYS.agent)).key.agent_id, KEY_AGENT_ID);
  });

  test('a wrong key is refused with a clear message; the right one signs in', async () => {
    await signIn(page, api.base, 'not-a-key');
    const message = page.locator('#sign-in-message');
    await message.filter({ hasText: 'not accepted' }).waitFor();
    assert.match((await message.textContent()) ?? '', /That API key was not accepted \(invalid API key\)/);
    assert.equal(await page.evaluate(() => (globalThis as any).sessionStorage.length), 0, 'a refused key is not kept');
    assert.deepEqual(await lowContrast(page), []);
    await screenshot(page, 'sign-in-refused', kind);

    await page.keyboard.type(KEYS.supervisor);
    await page.keyboard.press('Enter');
    await page.locator('#view-title', { hasText: 'Overview' }).waitFor();
    assert.ok(!page.url().includes(KEYS.supervisor), 'the key is never in the URL');
  });

  test('overview: average, CSAT %, NPS, response rate and distribution equal the rows and the API', async () => {
    await pickRange(page, 'day', FROM, TO);
    await page.locator('#view-title + p', { hasText: `${FROM} to ${TO}` }).waitFor();
    const rated = data.ratings.filter((rating) => rating.queue_id === QUEUES[0] || rating.queue_id === QUEUES[1]);
    const model = reference(rated, TZ, { period: 'day', from: FROM, to: TO, minRatings: MIN_RATINGS_TO_RANK });
    assert.ok(model.count > 100, 'the range holds most ratings');
    assert.ok(model.count < rated.length, 'and leaves some out');
    assert.equal(await metric(page, 'average'), shown.average(model.average));
    assert.equal(await metric(page, 'count'), String(model.count));
    assert.equal(await metric(page, 'csat-percent'), shown.percent(csatPercent(model.distribution, model.count)));
    for (const score of ['1', '2', '3', '4', '5']) assert.equal(await metric(page, `dist-${score}`), String(model.distribution[score]), `score ${score}`);
    const nps = npsOf(data.answers);
    assert.equal(await metric(page, 'nps'), shown.signed(nps));
    const funnel = funnelOf(data.outcomes);
    assert.equal(await metric(page, 'response-rate'), shown.percent(funnel.response_rate));
    assert.equal(await metric(page, 'funnel-offered'), String(funnel.offered));
    assert.equal(await metric(page, 'funnel-completed'), String(funnel.completed));

    // The API says the same.
    const range = `period=day&from=${FROM}&to=${TO}`;
    const apiFunnel = await apiGet(`/cc/csat/funnel?${range}`);
    assert.equal(apiFunnel.response_rate, funnel.response_rate);
    const apiQuestions = await apiGet(`/cc/csat/questions?${range}`);
    assert.equal(apiQuestions.questions.find((q: { question_id: string }) => q.question_id === 'nps').nps, nps);
    let apiCount = 0;
    for (const queue of QUEUES) apiCount += (await apiGet(`/cc/csat/queue/${queue}?${range}`)).count;
    assert.equal(apiCount, model.count);

    // The queue table: each queue's numbers.
    const rows = await tableRows(page, '[data-table="queues"]');
    for (const queue of QUEUES) {
      const own = reference(rated, TZ, { period: 'day', from: FROM, to: TO, queueId: queue, minRatings: MIN_RATINGS_TO_RANK });
      const row = rows.find((cells) => cells[0] === queue);
      assert.deepEqual(row?.slice(2), [String(own.count), shown.average(own.average), shown.percent(csatPercent(own.distribution, own.count))], queue);
    }
    assert.deepEqual(await lowContrast(page), []);
    await screenshot(page, 'overview', kind);
  });

  test('queue view: agent ranking, trend and per question equal the rows', async () => {
    await open(page, '#/queue/sales-queue', 'Queue sales-queue');
    const model = reference(data.ratings, TZ, { period: 'day', from: FROM, to: TO, queueId: 'sales-queue', minRatings: MIN_RATINGS_TO_RANK });
    assert.equal(await metric(page, 'average'), shown.average(model.average));
    assert.equal(await metric(page, 'count'), String(model.count));
    const ranking = model.ranking('sales-queue').map((row) => [row.rank === null ? 'not ranked' : String(row.rank), row.agent_id, shown.average(row.average), String(row.count)]);
    assert.deepEqual(await tableRows(page, '[data-table="ranking"]'), ranking);
    const trend = model.trend.map((point) => [point.period_start, String(point.count), shown.average(point.average)]);
    assert.deepEqual(await tableRows(page, '[data-table="trend"]'), trend);
    const asked = data.answers.filter((answer) => answer.queue_id === 'sales-queue' && answer.question_id === 'ask' && inRange(answer.answered_at));
    assert.equal(await metric(page, 'q-ask-count'), String(asked.length));
    const api = await apiGet(`/cc/csat/queue/sales-queue?period=day&from=${FROM}&to=${TO}`);
    assert.equal(api.average, model.average);
    assert.ok(await page.locator('.plot canvas').first().isVisible(), 'the trend chart is drawn');
    await screenshot(page, 'queue', kind);
  });

  test('period=week: the trend has one row per week with the rows of that week', async () => {
    await pickRange(page, 'week', FROM, TO);
    await page.locator('#view-title + p', { hasText: 'Weekly' }).waitFor();
    const model = reference(data.ratings, TZ, { period: 'week', from: FROM, to: TO, queueId: 'sales-queue', minRatings: MIN_RATINGS_TO_RANK });
    assert.deepEqual(
      await tableRows(page, '[data-table="trend"]'),
      model.trend.map((point) => [point.period_start, String(point.count), shown.average(point.average)]),
    );
    await pickRange(page, 'day', FROM, TO);
    await page.locator('#view-title + p', { hasText: 'Daily' }).waitFor();
  });

  test('team view: the team members\' ratings in every queue', async () => {
    await open(page, '#/team/north', 'North floor');
    const members: readonly string[] = TEAMS.north;
    const model = reference(
      data.ratings.filter((rating) => members.includes(rating.agent_id)),
      TZ,
      { period: 'day', from: FROM, to: TO, minRatings: MIN_RATINGS_TO_RANK },
    );
    assert.equal(await metric(page, 'average'), shown.average(model.average));
    assert.equal(await metric(page, 'count'), String(model.count));
    const ranked = (await tableRows(page, '[data-table="ranking"]')).map((cells) => cells[1]);
    assert.deepEqual([...ranked].sort(), [...members].sort());
    const answer = await apiGet(`/cc/csat/team/north?period=day&from=${FROM}&to=${TO}`);
    assert.deepEqual([answer.average, answer.count], [model.average, model.count]);
    await screenshot(page, 'team', kind);
  });

  test('agent view: numbers, queues, recent comments and a recording played from a blob', async () => {
    await open(page, `#/agent/${KEY_AGENT_ID}`, `Agent ${KEY_AGENT_ID}`);
    const model = reference(data.ratings, TZ, { period: 'day', from: FROM, to: TO, agentId: KEY_AGENT_ID, minRatings: MIN_RATINGS_TO_RANK });
    assert.equal(await metric(page, 'average'), shown.average(model.average));
    assert.equal(await metric(page, 'count'), String(model.count));
    for (const score of ['1', '2', '3', '4', '5']) assert.equal(await metric(page, `dist-${score}`), String(model.distribution[score]));
    const commented = data.ratings
      .filter((rating) => rating.agent_id === KEY_AGENT_ID && rating.comment && inRange(rating.created_at))
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
      .slice(0, 10);
    assert.ok(commented.length > 0);
    const listed = await page.$$eval('.comment', (items) => items.map((item) => (item as any).dataset['call']));
    assert.deepEqual(listed, commented.map((rating) => rating.call_id));
    assert.equal(await page.locator('.comment blockquote').first().textContent(), commented[0]!.comment);

    const recorded = await page.locator('.comment', { has: page.locator('.recording button') }).first().getAttribute('data-call');
    const withRecording = page.locator(`.comment[data-call="${recorded}"]`);
    await withRecording.locator('.recording button').click();
    await withRecording.locator('audio, .recording .error-text').first().waitFor();
    assert.equal(await withRecording.locator('.recording .error-text').count(), 0, await withRecording.locator('.recording').textContent() ?? '');
    const audio = withRecording.locator('audio');
    assert.match((await audio.getAttribute('src')) ?? '', /^blob:/, 'the audio is a blob fetched with the key header');
    const duration = await audio.evaluate(
      (node: any) =>
        new Promise<number>((resolve, reject) => {
          if (node.readyState >= 1) return resolve(node.duration);
          node.addEventListener('loadedmetadata', () => resolve(node.duration));
          node.addEventListener('error', () => reject(new Error('audio did not load')));
        }),
    );
    assert.ok(Math.abs(duration - RECORDING_MS / 1000) < 0.01, `duration ${duration}`);
    const answer = await apiGet(`/cc/csat/agent/${KEY_AGENT_ID}?period=day&from=${FROM}&to=${TO}`);
    assert.deepEqual([answer.average, answer.count, answer.distribution], [model.average, model.count, model.distribution]);
    assert.deepEqual(await lowContrast(page), []);
    await screenshot(page, 'agent', kind);
  });

  test('drilldown: filters and paging show the calls the rows say, newest first', async () => {
    await open(page, '#/responses', 'Responses');
    await page.selectOption('#f-queue', 'sales-queue');
    await page.fill('#f-agent', 'agent-002');
    await page.selectOption('#f-limit', '20');
    await page.click('#filters-form button[type="submit"]');
    const expected = data.ratings
      .filter((rating) => rating.queue_id === 'sales-queue' && rating.agent_id === 'agent-002' && inRange(rating.created_at))
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
      .map((rating) => rating.call_id);
    assert.ok(expected.length > 40, `several pages (${expected.length} calls)`);
    await page.locator('[data-metric="total"]', { hasText: `${expected.length} responses` }).waitFor();
    const callsOnPage = async () => (await tableRows(page, '#responses-table')).map((cells) => cells[1]);
    assert.deepEqual(await callsOnPage(), expected.slice(0, 20));
    assert.deepEqual(await lowContrast(page), []);
    await screenshot(page, 'responses', kind);
    const pages = Math.ceil(expected.length / 20);
    for (let number = 2; number <= pages; number++) {
      await page.click('#next-page');
      await page.locator('[data-metric="page"]', { hasText: `Page ${number}` }).waitFor();
      assert.deepEqual(await callsOnPage(), expected.slice((number - 1) * 20, number * 20), `page ${number}`);
    }
    assert.equal(await page.locator('#next-page').count(), 0, 'no next page after the last');

    // A question filter: promoters only (nps 9-10).
    await page.fill('#f-agent', '');
    await page.fill('#f-question', 'nps');
    await page.fill('#f-min', '9');
    await page.click('#filters-form button[type="submit"]');
    const promoters = new Set(data.answers.filter((answer) => answer.question_id === 'nps' && answer.value! >= 9).map((answer) => answer.call_id));
    const expectedPromoters = data.ratings.filter((rating) => rating.queue_id === 'sales-queue' && promoters.has(rating.call_id) && inRange(rating.created_at));
    await page.locator('[data-metric="total"]', { hasText: `${expectedPromoters.length} responses` }).waitFor();
    await page.locator('[data-metric="page"]', { hasText: 'Page 1' }).waitFor();
    assert.ok((await tableRows(page, '#responses-table')).every((cells) => /nps=(9|10)\b/.test(cells[5]!)), 'every row shows a promoter answer');

    // With a comment only: a typed one or a spoken one.
    await page.click('#filters-form button[type="reset"]');
    await page.selectOption('#f-queue', 'sales-queue');
    await page.selectOption('#f-comment', 'true');
    await page.click('#filters-form button[type="submit"]');
    const spoken = new Set(data.answers.filter((answer) => answer.kind === 'comment').map((answer) => answer.call_id));
    const commented = data.ratings.filter((rating) => rating.queue_id === 'sales-queue' && (rating.comment !== null || spoken.has(rating.call_id)) && inRange(rating.created_at));
    await page.locator('[data-metric="total"]', { hasText: `${commented.length} responses` }).waitFor();
  });

  test('export: the downloaded file holds the rows of the selection', async () => {
    await page.click('#filters-form button[type="reset"]');
    await page.fill('#f-agent', 'agent-003');
    await page.click('#filters-form button[type="submit"]');
    const expected = data.ratings.filter((rating) => rating.agent_id === 'agent-003' && inRange(rating.created_at)).map((rating) => rating.call_id);
    await page.locator('[data-metric="total"]', { hasText: `${expected.length} responses` }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.click('#export-button')]);
    const file = await download.path();
    assert.ok(file, 'the download is saved');
    const [header, ...rows] = parseCsv(readFileSync(file, 'utf8')).filter((row) => row.length > 1);
    const callColumn = header!.indexOf('call_id');
    const agentColumn = header!.indexOf('agent_id');
    assert.ok(callColumn >= 0, `a call_id column in ${header}`);
    assert.deepEqual(rows.map((row) => row[callColumn]).sort(), [...expected].sort());
    assert.ok(rows.every((row) => row[agentColumn] === 'agent-003'));
    assert.match(download.suggestedFilename(), /\.csv$/);
  });

  test('keyboard: Tab goes through the page in reading order, and the focus is always visible', async () => {
    await open(page, '#/overview', 'Overview');
    // Into the page from its first element by keyboard (a focus() by script is not shown as keyboard focus).
    await page.locator('.skip-link').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const order: string[] = [];
    // A date field takes several Tabs (day, month, year, its calendar button): counted once.
    for (let presses = 0; order.length < 16 && presses < 40; presses++) {
      const focused = await page.evaluate(() => {
        const { document, getComputedStyle } = globalThis as any;
        const active = document.activeElement;
        const style = getComputedStyle(active);
        const name = active.id ? `#${active.id}` : (active.textContent ?? '').trim();
        return { name, outline: style.outlineStyle, width: parseFloat(style.outlineWidth), visible: active.getBoundingClientRect().top >= 0 };
      });
      assert.ok(focused.outline !== 'none' && focused.width >= 2 && focused.visible, `${focused.name} shows its focus: ${JSON.stringify(focused)}`);
      if (order.at(-1) !== focused.name) order.push(focused.name);
      await page.keyboard.press('Tab');
    }
    assert.deepEqual(order, [
      'Skip to content',
      'Overview',
      'Responses',
      '#sign-out',
      '#period',
      '#from',
      '#to',
      'Apply',
      '#queue-picker',
      'Show queue',
      '#team-picker',
      'Show team',
      '#agent-picker',
      'Show agent',
      '#auto-refresh',
      'Show the numbers',
    ]);
  });

  test('refresh every minute: If-None-Match, nothing redrawn on 304; a new rating shows after the next run', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    phone.setDefaultTimeout(WAIT_MS);
    await phone.clock.install({ time: NOW });
    await signIn(phone, api.base, KEYS.supervisor);
    await pickRange(phone, 'day', FROM, TO);
    await phone.locator('#view-title + p', { hasText: `${FROM} to ${TO}` }).waitFor();
    const before = Number(await metric(phone, 'count'));
    assert.deepEqual(await lowContrast(phone), []);
    await screenshot(phone, 'overview-phone', kind);
    await screenshot(phone, 'overview-phone-screen', kind, false);
    const conditional: string[] = [];
    phone.on('request', (request) => {
      if (request.headers()['if-none-match']) conditional.push(request.url());
    });
    await phone.clock.runFor(61_000);
    await phone.locator('#status', { hasText: /Up to date|Updated/ }).waitFor();
    assert.match((await phone.locator('#status').textContent()) ?? '', /Up to date/, `every answer was a 304: ${conditional.join(' ')}`);
    assert.ok(conditional.some((url) => url.includes('/cc/csat/queue/sales-queue')), 'revalidated with the ETag');
    assert.ok(conditional.every((url) => !url.includes(KEYS.supervisor)));

    await api.db.insertInto('cc_csat').values({ call_id: 'late-call', agent_id: 'agent-004', queue_id: 'sales-queue', score: 5, comment: null, created_at: '2026-11-10T15:00:00.000Z' }).execute();
    await api.results.run();
    await phone.clock.runFor(61_000);
    await phone.locator('[data-metric="count"]', { hasText: String(before + 1) }).waitFor();
    await phone.close();
  });

  test('an agent key sees its own agent only', async () => {
    const agentPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    agentPage.setDefaultTimeout(WAIT_MS);
    await signIn(agentPage, api.base, KEYS.agent);
    await agentPage.locator('#view-title', { hasText: `Agent ${KEY_AGENT_ID}` }).waitFor();
    assert.equal(await agentPage.locator('#nav a[data-route="overview"]').isVisible(), false, 'no overview for an agent');
    await open(agentPage, '#/agent/agent-002', 'Agent').catch(() => undefined);
    await agentPage.locator('#error', { hasText: `may only read agent "${KEY_AGENT_ID}"` }).waitFor();
    assert.equal(await agentPage.locator('#view [data-metric]').count(), 0, 'no numbers are drawn under the refusal');
    assert.deepEqual(await lowContrast(agentPage), [], 'the error message is readable');
    await screenshot(agentPage, 'agent-key-refused', kind);
    await open(agentPage, '#/responses', 'Responses');
    const agents = (await tableRows(agentPage, '#responses-table')).map((cells) => cells[2]);
    assert.ok(agents.length > 0);
    assert.ok(agents.every((agent) => agent === KEY_AGENT_ID), `only ${KEY_AGENT_ID}: ${agents.join(', ')}`);
    await agentPage.close();
  });

  test('no script error and no CSP violation in the console; no key in the engine\'s logs', () => {
    assert.deepEqual(consoleErrors.filter((text) => !/401|403/.test(text)), []);
    const logged = JSON.stringify(api.logs.lines);
    for (const key of [...Object.values(KEYS), 'not-a-key']) assert.ok(!logged.includes(key), `key ${key} is not logged`);
  });
});
