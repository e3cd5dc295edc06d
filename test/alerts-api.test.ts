// GET /cc/csat/alerts (csat:admin) and `cc-csat alerts list|show|retry`: the outbox as an operator
// sees it, on SQLite and PostgreSQL. Rows are queued as an answer queues them (insertAlerts) and
// moved through their states by the store's own marks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertAlerts, type NewAlert } from '../src/db/alert-outbox.js';
import { insertSurveyLink } from '../src/db/survey-links.js';
import { linkFor } from '../src/links/link-fallback.js';
import { AlertsPage } from '../src/http/schemas.js';
import { runAlertsCommand } from '../src/alerts/alerts-command.js';
import { AlertOutboxPurge } from '../src/alerts/outbox-purge.js';
import { pino } from 'pino';
import { DATABASES, KEYS, startApi, type ApiHarness } from './helpers/api.js';

const OWNER = 'engine-a';
const silent = pino({ level: 'silent' });

function fired(n: number, destination = 'supervisors'): NewAlert {
  const key = `alert.fired:low-csat:call-${n}:ask`;
  return {
    idempotencyKey: key,
    event: 'alert.fired',
    destination,
    callId: `call-${n}`,
    payload: JSON.stringify({ event: 'alert.fired', id: key, call: { call_id: `call-${n}` }, answer: { question_id: 'ask', kind: 'csat', value: 1 } }),
    createdAt: `2026-11-29T10:00:0${n}.000Z`,
  };
}

/** Runs the command's logic on the harness's store; what it printed, by stream. */
async function alertsCli(api: ApiHarness, args: string[], options: { status?: string; limit?: string; dead?: boolean; json?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAlertsCommand(api.storage.alerts, args, { dead: false, json: false, ...options }, { out: (line) => out.push(line), err: (line) => err.push(line) }, () => new Date('2026-11-29T12:00:00.000Z'));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

for (const { kind, skip } of DATABASES) {
  describe(`the alert outbox for operators (${kind})`, { skip }, () => {
    let api: ApiHarness;
    let ids: number[];

    before(async () => {
      api = await startApi({ database: kind });
      await insertAlerts(api.db, [fired(1), fired(2), fired(3), fired(4, 'crm')]);
      ids = (await api.db.selectFrom('alert_outbox').select('id').orderBy('id').execute()).map((row) => Number(row.id));
      // 1 delivered, 2 dead, 3 and 4 pending.
      const claimed = await api.storage.alerts.claimDue(OWNER, '2026-11-29T11:00:00.000Z', 10, 60_000);
      assert.equal(claimed.length, 4, 'four rows claimed');
      assert.ok(await api.storage.alerts.markDelivered(ids[0]!, OWNER, '2026-11-29T11:00:01.000Z'), 'marked delivered');
      assert.ok(await api.storage.alerts.markDead(ids[1]!, OWNER, 'HTTP 410', '2026-11-29T11:00:01.000Z'), 'marked dead');
      assert.ok(await api.storage.alerts.markRetry(ids[2]!, OWNER, '2026-11-29T11:05:00.000Z', 'HTTP 500', '2026-11-29T11:00:01.000Z'), 'marked for retry');
      assert.ok(await api.storage.alerts.markRetry(ids[3]!, OWNER, '2026-11-29T11:05:00.000Z', 'timeout after 5000 ms', '2026-11-29T11:00:01.000Z'), 'marked for retry');
    });
    after(async () => {
      await api.close();
    });

    test('an admin key gets every delivery newest first, with its state, error and payload, and the backlog', async () => {
      const res = await api.request('GET', '/cc/csat/alerts', { key: KEYS.admin });
      assert.equal(res.status, 200);
      AlertsPage.parse(res.body);
      assert.deepEqual(res.body.backlog, { pending: 2, dead: 1 });
      assert.deepEqual(
        res.body.items.map((item: any) => [item.id, item.status, item.destination, item.attempts, item.last_error]),
        [
          [ids[3], 'pending', 'crm', 1, 'timeout after 5000 ms'],
          [ids[2], 'pending', 'supervisors', 1, 'HTTP 500'],
          [ids[1], 'dead', 'supervisors', 1, 'HTTP 410'],
          [ids[0], 'delivered', 'supervisors', 1, null],
        ],
      );
      const delivered = res.body.items[3];
      assert.equal(delivered.idempotency_key, 'alert.fired:low-csat:call-1:ask');
      assert.equal(delivered.delivered_at, '2026-11-29T11:00:01.000Z');
      assert.deepEqual(delivered.payload.answer, { question_id: 'ask', kind: 'csat', value: 1 });
      assert.equal('lease_owner' in delivered, false, "an engine's lease is not the operator's business");
      assert.equal(res.body.next_cursor, null);
    });

    test('filtered by status, paged by cursor', async () => {
      const dead = await api.request('GET', '/cc/csat/alerts?status=dead', { key: KEYS.admin });
      assert.deepEqual(dead.body.items.map((item: any) => item.id), [ids[1]]);
      const first = await api.request('GET', '/cc/csat/alerts?limit=3', { key: KEYS.admin });
      assert.equal(first.body.items.length, 3);
      const second = await api.request('GET', `/cc/csat/alerts?limit=3&cursor=${first.body.next_cursor}`, { key: KEYS.admin });
      assert.deepEqual(second.body.items.map((item: any) => item.id), [ids[0]]);
      assert.equal(second.body.next_cursor, null);
    });

    test('keys without csat:admin are refused; mistakes are 400s naming the field', async () => {
      for (const key of [KEYS.reporting, KEYS.supervisor, KEYS.reader]) {
        const res = await api.request('GET', '/cc/csat/alerts', { key });
        assert.equal(res.status, 403, key);
        assert.match(res.body.detail, /csat:admin/);
      }
      assert.equal((await api.request('GET', '/cc/csat/alerts', { key: null })).status, 401);
      const status = await api.request('GET', '/cc/csat/alerts?status=sent', { key: KEYS.admin });
      assert.equal(status.status, 400);
      assert.match(status.body.detail, /status/);
      const cursor = await api.request('GET', '/cc/csat/alerts?cursor=bm9wZQ', { key: KEYS.admin });
      assert.equal(cursor.status, 400);
      assert.match(cursor.body.detail, /cursor/);
      // An export's cursor is not an alert cursor.
      const exportCursor = Buffer.from('export:5').toString('base64url');
      assert.equal((await api.request('GET', `/cc/csat/alerts?cursor=${exportCursor}`, { key: KEYS.admin })).status, 400);
      const limit = await api.request('GET', '/cc/csat/alerts?limit=0', { key: KEYS.admin });
      assert.equal(limit.status, 400);
      assert.match(limit.body.detail, /limit/);
    });

    test('cc-csat alerts list and show: the rows an operator acts on, the payload only when shown', async () => {
      const listed = await alertsCli(api, ['list'], { json: true });
      assert.equal(listed.code, 0, listed.err);
      const rows = JSON.parse(listed.out);
      assert.deepEqual(rows.map((row: any) => row.status), ['pending', 'pending', 'dead', 'delivered']);
      assert.equal('payload' in rows[0], false, 'list leaves caller data out');
      const deadOnly = await alertsCli(api, ['list'], { status: 'dead' });
      assert.equal(deadOnly.out.split('\n').length, 1);
      assert.match(deadOnly.out, new RegExp(`^\\s*${ids[1]}\\s+dead\\s+supervisors\\s+alert\\.fired:low-csat:call-2:ask.*\\(HTTP 410\\)$`));
      const shown = await alertsCli(api, ['show', String(ids[1])], { json: true });
      assert.equal(shown.code, 0);
      assert.equal(JSON.parse(shown.out).payload.call.call_id, 'call-2');
      const missing = await alertsCli(api, ['show', '999999']);
      assert.deepEqual([missing.code, missing.err], [1, 'cc-csat alerts: no alert 999999']);
      for (const args of [['show'], ['show', 'x1'], ['frobnicate'], [], ['list', 'extra']]) {
        const wrong = await alertsCli(api, args);
        assert.equal(wrong.code, 2, args.join(' '));
        assert.match(wrong.err, /usage: cc-csat alerts/);
      }
      assert.equal((await alertsCli(api, ['list'], { status: 'sent' })).code, 2);
      assert.equal((await alertsCli(api, ['list'], { limit: '0' })).code, 2);
    });

    test('cc-csat alerts retry ID and retry --dead make deliveries due now; a delivered one is not sent again', async () => {
      const delivered = await alertsCli(api, ['retry', String(ids[0])]);
      assert.equal(delivered.code, 1);
      assert.match(delivered.err, /was delivered at 2026-11-29T11:00:01.000Z; nothing to retry/);
      const one = await alertsCli(api, ['retry', String(ids[2])]);
      assert.deepEqual([one.code, one.out], [0, `alert ${ids[2]} due again now`]);
      assert.equal((await api.storage.alerts.get(ids[2]!))!.nextAttemptAt, '2026-11-29T12:00:00.000Z');
      const dead = await alertsCli(api, ['retry'], { dead: true });
      assert.deepEqual([dead.code, dead.out], [0, '1 dead alert(s) due again now']);
      const row = (await api.storage.alerts.get(ids[1]!))!;
      assert.deepEqual([row.status, row.nextAttemptAt, row.attempts], ['pending', '2026-11-29T12:00:00.000Z', 1], 'attempts kept: they tell how hard it was');
      assert.deepEqual(await api.storage.alerts.backlog(), { pending: 3, dead: 0 });
      // Due now: the next claim takes them (and the one whose retry was due at 11:05 anyway).
      const claimed = await api.storage.alerts.claimDue(OWNER, '2026-11-29T12:00:00.000Z', 10, 60_000);
      assert.deepEqual(claimed.map((each) => each.id).sort((a, b) => a - b), [ids[1], ids[2], ids[3]]);
      assert.equal((await alertsCli(api, ['retry', '42'], { dead: true })).code, 2, 'retry --dead takes no id');
    });

    test('delivered rows go after keep_delivered_days; pending and dead rows stay whatever their age', async () => {
      const purgeAt = (iso: string) => new AlertOutboxPurge({ store: api.storage.alerts, keepDeliveredMs: 30 * 86_400_000, log: silent, now: () => new Date(iso) });
      assert.equal(await purgeAt('2026-12-20T00:00:00.000Z').sweep(), 0, 'delivered 21 days ago: kept');
      assert.equal(await purgeAt('2027-03-01T00:00:00.000Z').sweep(), 1, 'delivered 3 months ago: deleted');
      assert.equal(await api.storage.alerts.get(ids[0]!), undefined);
      assert.deepEqual(await api.storage.alerts.counts(), { pending: 3, delivered: 0, dead: 0 });
      assert.equal(await purgeAt('2027-03-01T00:00:00.000Z').sweep(), 0);
    });
  });
}

for (const { kind, skip } of DATABASES) {
  describe(`rating-link deliveries in the outbox (${kind})`, { skip }, () => {
    test('shown redacted while pending; an expired one is redacted by the sweep and never sent', async () => {
      const api = await startApi({ database: kind });
      try {
        const link = linkFor(
          { destination: 'sms', on: ['abandoned', 'no_input'], link_expiry_days: 1 },
          'https://csat.example.com',
          { callId: 'call-link', agentId: 'agent-7', queueId: 'sales-queue', teamId: undefined, ivr: 'survey', questionId: 'ask', callerNumber: '+33612345678' },
          { outcome: 'abandoned', rated: false },
          new Date('2026-11-29T10:00:00.000Z'),
          'T'.repeat(43),
        )!;
        await insertSurveyLink(api.db, link.link);
        await insertAlerts(api.db, [link.delivery]);
        const listed = await api.request('GET', '/cc/csat/alerts', { key: KEYS.admin });
        const shown = JSON.stringify(listed.body);
        assert.equal(shown.includes('T'.repeat(43)), false, 'no token in the API');
        assert.equal(shown.includes('33612345678'), false, 'no caller number in the API');
        assert.equal(listed.body.items[0].payload.links, '[redacted]');
        const cli = await alertsCli(api, ['show', String(listed.body.items[0].id)], { json: true });
        assert.equal(cli.out.includes('T'.repeat(43)) || cli.out.includes('33612345678'), false, 'nor in cc-csat alerts show');
        // Still sendable until it expires: the stored payload is whole.
        const stored = (await api.storage.alerts.get(listed.body.items[0].id))!;
        assert.ok(stored.payload.includes('33612345678'));

        // A day and a bit later, undelivered: the sweep redacts it; the worker never sends it.
        const later = new Date('2026-11-30T10:00:01.000Z');
        assert.equal(await new AlertOutboxPurge({ store: api.storage.alerts, keepDeliveredMs: 30 * 86_400_000, log: silent, now: () => later }).sweep(), 0);
        const redacted = (await api.storage.alerts.get(stored.id))!;
        assert.equal(redacted.payload.includes('33612345678') || redacted.payload.includes('T'.repeat(43)), false, 'redacted once expired');
        assert.equal(JSON.parse(redacted.payload).call.call_id, 'call-link', 'what the operator needs stays');
      } finally {
        await api.close();
      }
    });
  });
}
