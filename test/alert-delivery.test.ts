// The alert outbox and its delivery worker against real HTTP receivers (node:http on 127.0.0.1), on
// SQLite and PostgreSQL. Time that matters to the worker (backoff, max age, breaker, leases) is
// driven through its `now` option; the only real waits are bounded request timeouts.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { AlertDelivery, type AlertDeliveryOptions, type DeliveryDestination } from '../src/alerts/delivery.js';
import { sign, verifySignature } from '../src/alerts/signing.js';
import { insertAlerts, type NewAlert } from '../src/db/alert-outbox.js';
import { insertSurveyLink } from '../src/db/survey-links.js';
import { openPostgresStorage } from '../src/db/postgres/open.js';
import type { Database } from '../src/db/schema.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import type { Storage } from '../src/storage/ports.js';
import { sql, type Kysely } from 'kysely';
import { DATABASES } from './helpers/api.js';
import { createPostgresDatabase } from './helpers/postgres.js';
import { freePort, until, within } from './helpers/wait.js';
import { answer, startReceiver, type Behaviour, type Receipt, type Receiver } from './helpers/webhook-receiver.js';

const SECRET = 'whsec-test-secret';
const silent = pino({ level: 'silent' });

// ------------------------------------------------------------------------------- helpers

/** A fresh, migrated database of `kind`: `open()` gives further storages on the same one (PostgreSQL: other engines). */
async function withStorage(kind: 'sqlite' | 'postgres', label: string, body: (storage: Storage, db: Kysely<Database>, open: () => Promise<Storage>) => Promise<void>): Promise<void> {
  if (kind === 'sqlite') {
    const storage = openSqliteStorage(':memory:');
    await storage.migrate();
    try {
      // One engine per SQLite file: "another engine" is another worker on the same storage.
      await body(storage, storage.db, async () => storage);
    } finally {
      await storage.close();
    }
    return;
  }
  const database = await createPostgresDatabase(label);
  const opened: Storage[] = [];
  const open = async (): Promise<Storage> => {
    const storage = await within(openPostgresStorage({ url: database.url, poolMax: 4 }), 20_000, 'opening a storage');
    opened.push(storage);
    return storage;
  };
  try {
    const first = (await open()) as Storage & { db: Kysely<Database> };
    await first.migrate();
    await body(first, first.db, open);
  } finally {
    for (const storage of opened) await within(storage.close(), 20_000, 'closing a storage');
    await database.drop();
  }
}

/** The worker's clock: moves only when the test says so. */
class Clock {
  ms = Math.floor(Date.now() / 1000) * 1000;
  readonly now = (): Date => new Date(this.ms);
  iso(): string {
    return new Date(this.ms).toISOString();
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

function alert(key: string, destination: string, createdAt: string, extra: Partial<NewAlert> = {}): NewAlert {
  return {
    idempotencyKey: key,
    event: 'alert.fired',
    destination,
    callId: `call-${key}`,
    payload: JSON.stringify({ event: 'alert.fired', id: key, call: { call_id: `call-${key}`, caller: '+33612345678' } }),
    createdAt,
    ...extra,
  };
}

function destination(url: string, extra: Partial<DeliveryDestination> = {}): DeliveryDestination {
  return { url, secret: SECRET, timeoutMs: 2000, headers: { 'X-Tenant': 'acme' }, concurrency: 4, ...extra };
}

const CAP_MS = 60_000;

function worker(storage: Storage, clock: Clock, destinations: Record<string, DeliveryDestination>, extra: Partial<AlertDeliveryOptions> = {}): AlertDelivery {
  return new AlertDelivery({
    store: storage.alerts,
    destinations: new Map(Object.entries(destinations)),
    owner: 'engine-a',
    backoff: { baseMs: 1000, capMs: CAP_MS },
    breaker: { failures: 100, openMs: 60_000 },
    now: clock.now,
    log: silent,
    ...extra,
  });
}

const rounds = (delivery: AlertDelivery, what: string) => within(delivery.deliverOnce(), 20_000, what);

// ------------------------------------------------------------------------------- signing

describe('alert signatures', () => {
  test('a signature verifies with its secret and body, within the tolerance, and nothing else', () => {
    const body = '{"a":1}';
    const header = sign(SECRET, body, 1_700_000_000);
    const expected = createHmac('sha256', SECRET).update(`1700000000.${body}`).digest('hex');
    assert.equal(header, `t=1700000000,v1=${expected}`);
    assert.equal(verifySignature(SECRET, body, header, 1_700_000_100), true);
    assert.equal(verifySignature(SECRET, '{"a":2}', header, 1_700_000_100), false, 'another body');
    assert.equal(verifySignature('other-secret', body, header, 1_700_000_100), false, 'another secret');
    assert.equal(verifySignature(SECRET, body, header, 1_700_000_301), false, 'too old: a replay');
    assert.equal(verifySignature(SECRET, body, `t=1700000000,v1=${'0'.repeat(64)},v1=${expected}`, 1_700_000_000), true, 'one of several v1 (secret rotation)');
    for (const bad of [undefined, '', 'garbage', 't=1700000000', `v1=${expected}`, `t=abc,v1=${expected}`, `t=1700000000,v1=${expected.slice(2)}`]) {
      assert.equal(verifySignature(SECRET, body, bad, 1_700_000_000), false, String(bad));
    }
  });
});

// ------------------------------------------------------------------------------- per database

for (const { kind, skip } of DATABASES) {
  describe(`alert delivery on ${kind}`, { skip }, () => {
    test('a rating link past its expiry is not sent: a dead letter saying so', async () => {
      await withStorage(kind, 'alert link expired', async (storage, db) => {
        const clock = new Clock();
        const receiver = await startReceiver(answer(200));
        try {
          const expiresAt = new Date(clock.ms + 60_000).toISOString();
          await insertAlerts(db, [alert('survey.link:call-x', 'sms', clock.iso(), { event: 'survey.link', payload: JSON.stringify({ event: 'survey.link', expires_at: expiresAt, links: {} }) })]);
          clock.advance(60_000);
          assert.equal(await rounds(worker(storage, clock, { sms: destination(receiver.url) }), 'a round'), 1);
          assert.equal(receiver.receipts.length, 0, 'the caller gets no expired link');
          const [row] = await storage.alerts.list({ limit: 10 });
          assert.deepEqual([row!.status, row!.lastError], ['dead', 'rating link expired before delivery']);
        } finally {
          await receiver.close();
        }
      });
    });

    test('a rating link for a call rated meanwhile is not sent (a dead letter retried late)', async () => {
      await withStorage(kind, 'alert link rated', async (storage, db) => {
        const clock = new Clock();
        const receiver = await startReceiver(answer(200));
        try {
          const expiresAt = new Date(clock.ms + 86_400_000).toISOString();
          for (const callId of ['call-rated', 'call-waiting']) {
            await insertSurveyLink(db, { token_sha256: callId.padEnd(64, '0'), call_id: callId, agent_id: 'a', queue_id: 'q', ivr: 'survey', question_id: 'ask', status: 'pending', created_at: clock.iso(), expires_at: expiresAt });
            await insertAlerts(db, [alert(`survey.link:${callId}`, 'sms', clock.iso(), { event: 'survey.link', callId, payload: JSON.stringify({ event: 'survey.link', expires_at: expiresAt }) })]);
          }
          await storage.ratings.insert({ call_id: 'call-rated', agent_id: 'a', queue_id: 'q', score: 5, comment: null, created_at: clock.iso() }, 'test');
          const delivery = worker(storage, clock, { sms: destination(receiver.url) }, { linkStillWanted: (callId) => storage.links.stillWanted(callId) });
          assert.equal(await rounds(delivery, 'a round'), 2);
          assert.deepEqual(receiver.receipts.map((receipt) => receipt.headers['idempotency-key']), ['survey.link:call-waiting'], 'only the link still wanted');
          const rows = Object.fromEntries((await storage.alerts.list({ limit: 10 })).map((row) => [row.callId, [row.status, row.lastError]]));
          assert.deepEqual(rows, { 'call-rated': ['dead', 'rating link not sent: the call was rated meanwhile'], 'call-waiting': ['delivered', null] });
        } finally {
          await receiver.close();
        }
      });
    });

    test('a 200 receiver gets the frozen body, signed, with the idempotency key; the row is delivered', async () => {
      await withStorage(kind, 'alert 200', async (storage, db) => {
        const clock = new Clock();
        const receiver = await startReceiver(answer(200));
        try {
          const row = alert('k-200', 'ops', clock.iso());
          await insertAlerts(db, [row]);
          // The answer's write retried after a commit: the same key adds nothing.
          await insertAlerts(db, [{ ...row, payload: '{"changed":true}' }]);
          assert.equal(await rounds(worker(storage, clock, { ops: destination(receiver.url) }), 'a round'), 1);

          assert.equal(receiver.receipts.length, 1);
          const [receipt] = receiver.receipts;
          assert.equal(receipt!.body, row.payload);
          assert.equal(receipt!.headers['idempotency-key'], 'k-200');
          assert.equal(receipt!.headers['x-csat-event'], 'alert.fired');
          assert.equal(receipt!.headers['content-type'], 'application/json');
          assert.equal(receipt!.headers['x-tenant'], 'acme');
          const signature = String(receipt!.headers['x-csat-signature']);
          assert.equal(verifySignature(SECRET, receipt!.body, signature, clock.ms / 1000), true);
          const { t, v1 } = Object.fromEntries(signature.split(',').map((part) => part.split('=') as [string, string]));
          assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${receipt!.body}`).digest('hex'));

          const [stored] = await storage.alerts.list({ limit: 10 });
          assert.equal(stored!.status, 'delivered');
          assert.equal(stored!.attempts, 1);
          assert.equal(stored!.deliveredAt, clock.iso());
          assert.equal(stored!.leaseOwner, null);
          assert.equal(stored!.createdAt, row.createdAt, 'timestamps come back as the ISO strings written');
          assert.deepEqual(await storage.alerts.counts(), { pending: 0, delivered: 1, dead: 0 });
          assert.deepEqual((await storage.alerts.get(stored!.id))?.idempotencyKey, 'k-200');
        } finally {
          await receiver.close();
        }
      });
    });

    test('500 then 200: delivered on the second attempt with the same idempotency key', async () => {
      await withStorage(kind, 'alert 500', async (storage, db) => {
        const clock = new Clock();
        const receiver = await startReceiver((request, index, res) => answer(index === 0 ? 500 : 200)(request, index, res));
        try {
          await insertAlerts(db, [alert('k-500', 'ops', clock.iso())]);
          const delivery = worker(storage, clock, { ops: destination(receiver.url) });
          await rounds(delivery, 'first round');
          const [retried] = await storage.alerts.list({ limit: 10 });
          assert.equal(retried!.status, 'pending');
          assert.equal(retried!.attempts, 1);
          assert.equal(retried!.lastError, 'HTTP 500');
          assert.ok(retried!.nextAttemptAt! >= clock.iso() && retried!.nextAttemptAt! <= new Date(clock.ms + 1000).toISOString(), 'first backoff within baseMs');

          clock.advance(CAP_MS);
          await rounds(delivery, 'second round');
          const [delivered] = await storage.alerts.list({ limit: 10 });
          assert.equal(delivered!.status, 'delivered');
          assert.equal(delivered!.attempts, 2);
          assert.deepEqual(receiver.receipts.map((receipt) => receipt.headers['idempotency-key']), ['k-500', 'k-500']);
          assert.equal(receiver.receipts[0]!.body, receiver.receipts[1]!.body);
        } finally {
          await receiver.close();
        }
      });
    });

    test('a receiver that never answers: timeout recorded, retried later', async () => {
      await withStorage(kind, 'alert hang', async (storage, db) => {
        const clock = new Clock();
        const receiver = await startReceiver(() => undefined);
        try {
          await insertAlerts(db, [alert('k-hang', 'ops', clock.iso())]);
          await rounds(worker(storage, clock, { ops: destination(receiver.url, { timeoutMs: 200 }) }), 'a round that times out');
          const [row] = await storage.alerts.list({ limit: 10 });
          assert.equal(row!.status, 'pending');
          assert.equal(row!.lastError, 'timeout after 200 ms');
          assert.equal(row!.attempts, 1);
          assert.equal(row!.leaseOwner, null, 'the lease is given back at once');
          assert.ok(row!.nextAttemptAt! >= clock.iso(), 'due again after its backoff');
        } finally {
          await receiver.close();
        }
      });
    });

    test("the receiver's answer decides: 410 and 400 are dead at once, 429 waits its Retry-After, 302 is no delivery", async () => {
      await withStorage(kind, 'alert statuses', async (storage, db) => {
        const clock = new Clock();
        const gone = await startReceiver(answer(410));
        const bad = await startReceiver(answer(400));
        const busy = await startReceiver(answer(429, { 'Retry-After': '30' }));
        const moved = await startReceiver(answer(302, { Location: 'http://127.0.0.1:1/elsewhere' }));
        try {
          await insertAlerts(db, [alert('k-410', 'gone', clock.iso()), alert('k-400', 'bad', clock.iso()), alert('k-429', 'busy', clock.iso()), alert('k-302', 'moved', clock.iso())]);
          const delivery = worker(storage, clock, {
            gone: destination(gone.url),
            bad: destination(bad.url),
            busy: destination(busy.url),
            moved: destination(moved.url),
          });
          await rounds(delivery, 'a round');
          const byKey = new Map((await storage.alerts.list({ limit: 10 })).map((row) => [row.idempotencyKey, row]));
          assert.deepEqual([byKey.get('k-410')!.status, byKey.get('k-410')!.attempts, byKey.get('k-410')!.lastError], ['dead', 1, 'HTTP 410']);
          assert.deepEqual([byKey.get('k-400')!.status, byKey.get('k-400')!.lastError], ['dead', 'HTTP 400']);
          assert.equal(byKey.get('k-429')!.status, 'pending');
          assert.ok(byKey.get('k-429')!.nextAttemptAt! >= new Date(clock.ms + 30_000).toISOString(), 'Retry-After honoured');
          assert.equal(byKey.get('k-302')!.status, 'pending');
          assert.match(byKey.get('k-302')!.lastError!, /^HTTP 302/);

          clock.advance(29_000);
          await rounds(delivery, 'a round before Retry-After');
          assert.equal(busy.receipts.length, 1, 'not asked again before Retry-After');
          assert.equal(gone.receipts.length, 1, 'a dead letter is not sent again');
          assert.deepEqual(await storage.alerts.counts(), { pending: 2, delivered: 0, dead: 2 });
        } finally {
          for (const receiver of [gone, bad, busy, moved]) await receiver.close();
        }
      });
    });

    test('a receiver down for a while, then up: delivered once it is back', async () => {
      await withStorage(kind, 'alert down', async (storage, db) => {
        const clock = new Clock();
        const port = await freePort();
        await insertAlerts(db, [alert('k-down', 'ops', clock.iso())]);
        const delivery = worker(storage, clock, { ops: destination(`http://127.0.0.1:${port}/hook`) });
        for (let attempt = 0; attempt < 3; attempt++) {
          await rounds(delivery, 'a round against a closed port');
          clock.advance(CAP_MS);
        }
        const [failing] = await storage.alerts.list({ limit: 10 });
        assert.deepEqual([failing!.status, failing!.attempts, failing!.lastError], ['pending', 3, 'connect ECONNREFUSED']);

        const receiver = await startReceiver(answer(204), port);
        try {
          await rounds(delivery, 'a round with the receiver up');
          const [delivered] = await storage.alerts.list({ limit: 10 });
          assert.deepEqual([delivered!.status, delivered!.attempts], ['delivered', 4]);
          assert.equal(receiver.receipts.length, 1);
        } finally {
          await receiver.close();
        }
      });
    });

    test('past max age a failing delivery is a dead letter; retryDead and retry send them again', async () => {
      await withStorage(kind, 'alert dead', async (storage, db) => {
        const clock = new Clock();
        let healthy = false;
        const receiver = await startReceiver((request, index, res) => answer(healthy ? 200 : 503)(request, index, res));
        try {
          const maxAgeMs = 3_600_000;
          // Fired long ago (the engine was down): one last try, then dead.
          await insertAlerts(db, [alert('k-old-1', 'ops', new Date(clock.ms - maxAgeMs - 1).toISOString()), alert('k-old-2', 'ops', new Date(clock.ms - maxAgeMs - 1).toISOString())]);
          // Fired now: its retries never go past its deadline, and the attempt there is its last.
          await insertAlerts(db, [alert('k-young', 'ops', clock.iso())]);
          const delivery = worker(storage, clock, { ops: destination(receiver.url) }, { maxAgeMs, backoff: { baseMs: 2 * maxAgeMs, capMs: 10 * maxAgeMs }, random: () => 0.999 });
          await rounds(delivery, 'a round');
          const young = (await storage.alerts.list({ limit: 10 })).find((row) => row.idempotencyKey === 'k-young')!;
          assert.equal(young.status, 'pending');
          assert.equal(young.nextAttemptAt, new Date(clock.ms + maxAgeMs).toISOString(), 'the next attempt is capped at the deadline');
          assert.deepEqual(await storage.alerts.counts(), { pending: 1, delivered: 0, dead: 2 });

          clock.advance(maxAgeMs);
          await rounds(delivery, 'the last attempt');
          const dead = await storage.alerts.list({ status: 'dead', limit: 10 });
          assert.equal(dead.length, 3);
          assert.deepEqual(
            dead.map((row) => [row.idempotencyKey, row.lastError, row.nextAttemptAt, row.deadAt]),
            [
              ['k-young', 'HTTP 503', null, clock.iso()],
              ['k-old-2', 'HTTP 503', null, new Date(clock.ms - maxAgeMs).toISOString()],
              ['k-old-1', 'HTTP 503', null, new Date(clock.ms - maxAgeMs).toISOString()],
            ],
          );
          assert.equal(receiver.receipts.length, 4);

          healthy = true;
          const oldest = dead.find((row) => row.idempotencyKey === 'k-old-1')!;
          assert.equal(await storage.alerts.retry(oldest.id, clock.iso()), true);
          await rounds(delivery, 'a round after retry(id)');
          assert.equal((await storage.alerts.get(oldest.id))!.status, 'delivered');
          assert.equal((await storage.alerts.get(oldest.id))!.attempts, 2, 'attempts are kept across a retry');
          assert.equal(await storage.alerts.retry(oldest.id, clock.iso()), false, 'a delivered row is not sent again');

          assert.equal(await storage.alerts.retryDead(clock.iso()), 2);
          await rounds(delivery, 'a round after retryDead');
          assert.deepEqual(await storage.alerts.counts(), { pending: 0, delivered: 3, dead: 0 });
        } finally {
          await receiver.close();
        }
      });
    });

    test("a failing destination's open breaker does not hold up a healthy one; half-open lets one trial through", async () => {
      await withStorage(kind, 'alert breaker', async (storage, db) => {
        const clock = new Clock();
        const failing = await startReceiver(answer(500));
        const healthy = await startReceiver(answer(200));
        try {
          await insertAlerts(db, Array.from({ length: 6 }, (_, index) => alert(`k-fail-${index}`, 'failing', clock.iso())));
          await insertAlerts(db, Array.from({ length: 3 }, (_, index) => alert(`k-ok-${index}`, 'healthy', clock.iso())));
          const delivery = worker(storage, clock, { failing: destination(failing.url, { concurrency: 3 }), healthy: destination(healthy.url) }, { breaker: { failures: 3, openMs: 5 * CAP_MS } });
          await rounds(delivery, 'round 1');
          assert.equal(failing.receipts.length, 3, 'three failures open the breaker');
          assert.equal(healthy.receipts.length, 3, 'the healthy destination got its alerts in the same round');

          for (let round = 2; round <= 4; round++) {
            clock.advance(CAP_MS);
            await insertAlerts(db, [alert(`k-ok-r${round}`, 'healthy', clock.iso())]);
            await rounds(delivery, `round ${round}`);
            assert.equal(failing.receipts.length, 3, `round ${round}: the open breaker leaves the failing destination alone`);
            assert.equal(healthy.receipts.length, round + 2, `round ${round}: the healthy one is delivered in the same round`);
          }

          clock.advance(2 * CAP_MS);
          await rounds(delivery, 'half-open round');
          assert.equal(failing.receipts.length, 4, 'half-open: exactly one trial');
          await rounds(delivery, 'right after a failed trial');
          assert.equal(failing.receipts.length, 4, 'the failed trial opened the breaker again');
          const counts = await storage.alerts.counts();
          assert.deepEqual(counts, { pending: 6, delivered: 6, dead: 0 });
        } finally {
          await failing.close();
          await healthy.close();
        }
      });
    });

    test('a slow receiver never sees more than `concurrency` requests at once (the running worker)', async () => {
      await withStorage(kind, 'alert concurrency', async (storage, db) => {
        const clock = new Clock();
        const slow = await startReceiver((request, index, res) => setTimeout(() => answer(200)(request, index, res), 100));
        const delivery = worker(storage, clock, { slow: destination(slow.url, { concurrency: 2 }) }, { pollMs: 20 });
        try {
          await insertAlerts(db, Array.from({ length: 8 }, (_, index) => alert(`k-slow-${index}`, 'slow', clock.iso())));
          delivery.start();
          await until(() => slow.receipts.length >= 8, 20_000, 'eight deliveries');
          await within(delivery.stop(), 10_000, 'the worker stopping');
          assert.equal(slow.maxConcurrent(), 2);
          assert.deepEqual(await storage.alerts.counts(), { pending: 0, delivered: 8, dead: 0 });
        } finally {
          await delivery.stop();
          await slow.close();
        }
      });
    });

    test('two engines never deliver the same row; a dead engine’s lease is taken over once it runs out', async () => {
      await withStorage(kind, 'alert two engines', async (first, db, open) => {
        const clock = new Clock();
        const receiver = await startReceiver(answer(200));
        try {
          const second = await open();
          await insertAlerts(db, Array.from({ length: 40 }, (_, index) => alert(`k-many-${index}`, 'ops', clock.iso())));
          const ops = { ops: destination(receiver.url, { concurrency: 3 }) };
          const a = worker(first, clock, ops, { owner: 'engine-a' });
          const b = worker(second, clock, ops, { owner: 'engine-b' });
          for (let round = 0; round < 20 && receiver.receipts.length < 40; round++) {
            await within(Promise.all([a.deliverOnce(), b.deliverOnce()]), 20_000, 'two engines delivering');
          }
          const perKey = new Map<string, number>();
          for (const receipt of receiver.receipts) perKey.set(String(receipt.headers['idempotency-key']), (perKey.get(String(receipt.headers['idempotency-key'])) ?? 0) + 1);
          assert.equal(perKey.size, 40);
          assert.ok([...perKey.values()].every((count) => count === 1), 'no row delivered twice');
          assert.deepEqual(await first.alerts.counts(), { pending: 0, delivered: 40, dead: 0 });

          // An engine claims a row and dies (kill -9) before its POST.
          await insertAlerts(db, [alert('k-orphan', 'ops', clock.iso())]);
          const [orphan] = await first.alerts.claimDue('engine-dead', clock.iso(), 10, 30_000, ['ops']);
          assert.equal(orphan?.idempotencyKey, 'k-orphan');
          assert.equal(await b.deliverOnce(), 0, 'a live lease is left to its owner');
          clock.advance(30_001);
          assert.equal(await b.deliverOnce(), 1, 'the expired lease is taken over');
          assert.equal((await second.alerts.get(orphan.id))!.status, 'delivered');
          assert.equal(await first.alerts.markRetry(orphan.id, 'engine-dead', clock.iso(), 'HTTP 500', clock.iso()), false, 'the old owner cannot overwrite it');
          assert.equal((await first.alerts.get(orphan.id))!.status, 'delivered');
        } finally {
          await receiver.close();
        }
      });
    });

    test('stop() waits a bounded time for a hanging delivery, then gives the row back', async () => {
      await withStorage(kind, 'alert stop', async (storage, db) => {
        const clock = new Clock();
        const receiver = await startReceiver(() => undefined);
        const delivery = worker(storage, clock, { ops: destination(receiver.url, { timeoutMs: 60_000 }) }, { pollMs: 20 });
        try {
          await insertAlerts(db, [alert('k-stop', 'ops', clock.iso())]);
          delivery.start();
          await until(() => receiver.receipts.length === 1, 10_000, 'the request reaching the receiver');
          await within(delivery.stop(100), 5000, 'stop() with a delivery hanging');
          const [row] = await storage.alerts.list({ limit: 10 });
          assert.deepEqual([row!.status, row!.leaseOwner], ['pending', null], 'pending, and free for the next engine at once');
        } finally {
          await delivery.stop(0);
          await receiver.close();
        }
      });
    });

    test('logs name the row, destination and error, never the secret, signature, payload or receiver body', async () => {
      await withStorage(kind, 'alert logs', async (storage, db) => {
        const clock = new Clock();
        const lines: string[] = [];
        const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
        const receiver = await startReceiver((request, index, res) => answer([500, 200, 410][index % 3]!)(request, index, res));
        try {
          await insertAlerts(db, [alert('k-log-1', 'ops', clock.iso()), alert('k-log-2', 'ops', clock.iso())]);
          const delivery = worker(storage, clock, { ops: destination(receiver.url, { concurrency: 1 }) }, { log });
          for (let round = 0; round < 3; round++) {
            await rounds(delivery, 'a round');
            clock.advance(CAP_MS);
          }
          assert.ok(lines.length >= 3, 'every outcome is logged');
          const text = lines.join('');
          const signatures = receiver.receipts.map((receipt) => String(receipt.headers['x-csat-signature']));
          for (const forbidden of [SECRET, '+33612345678', 'receiver internals', 'tenant=t1', ...signatures]) {
            assert.equal(text.includes(forbidden), false, `logs hold ${forbidden}`);
          }
        } finally {
          await receiver.close();
        }
      });
    });

    test('rows of a destination no longer configured stay pending and unclaimed', async () => {
      await withStorage(kind, 'alert unknown destination', async (storage, db) => {
        const clock = new Clock();
        const receiver = await startReceiver(answer(200));
        try {
          await insertAlerts(db, [alert('k-renamed', 'old-name', clock.iso()), alert('k-known', 'ops', clock.iso())]);
          const delivery = worker(storage, clock, { ops: destination(receiver.url) });
          assert.equal(await rounds(delivery, 'a round'), 1);
          const renamed = (await storage.alerts.list({ limit: 10 })).find((row) => row.idempotencyKey === 'k-renamed')!;
          assert.deepEqual([renamed.status, renamed.attempts, renamed.leaseOwner], ['pending', 0, null]);

          delivery.setDestinations(new Map([['old-name', destination(receiver.url)]]));
          assert.equal(await rounds(delivery, 'a round after the reload'), 1);
          assert.deepEqual(await storage.alerts.counts(), { pending: 0, delivered: 2, dead: 0 });
        } finally {
          await receiver.close();
        }
      });
    });
  });
}

// ------------------------------------------------------------------------------- with the answer

const answerRow = (callId: string, value: number) => ({
  call_id: callId,
  question_id: 'ask',
  kind: 'csat' as const,
  value,
  digits: String(value),
  recording: null,
  recording_ms: null,
  recording_format: null,
  recording_server: null,
  language: null,
  agent_id: 'agent-7',
  queue_id: 'sales-queue',
  ivr: 'survey',
  answered_at: '2026-11-29T10:00:00.000Z',
});
const ratingRow = (callId: string, score: number) => ({ call_id: callId, agent_id: 'agent-7', queue_id: 'sales-queue', score, comment: null, created_at: '2026-11-29T10:00:00.000Z' });
const outcomeRow = (callId: string) => ({
  call_id: callId,
  channel_id: `chan-${callId}`,
  agent_id: 'agent-7',
  queue_id: 'sales-queue',
  ivr: 'survey',
  outcome: 'completed' as const,
  reason: null,
  attempts: 1,
  last_step: 'nps',
  score: 1,
  started_at: '2026-11-29T10:00:00.000Z',
  ended_at: '2026-11-29T10:00:30.000Z',
  server: 'asterisk',
  consent: null,
});

async function rowsOf(db: Kysely<Database>, callId: string): Promise<{ answers: number; ratings: number; outcomes: number; alerts: string[] }> {
  const count = async (table: 'survey_answer' | 'cc_csat' | 'survey_outcome'): Promise<number> =>
    Number((await db.selectFrom(table).where('call_id', '=', callId).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const alerts = await db.selectFrom('alert_outbox').where('call_id', '=', callId).select('idempotency_key').orderBy('idempotency_key').execute();
  return { answers: await count('survey_answer'), ratings: await count('cc_csat'), outcomes: await count('survey_outcome'), alerts: alerts.map((row) => row.idempotency_key) };
}

for (const { kind, skip } of DATABASES) {
  describe(`an alert commits with what fired it, on ${kind}`, { skip }, () => {
    test('the answer, its rating and its alerts commit together; the same answer again queues nothing more', async () => {
      await withStorage(kind, 'alert atomic', async (storage, db) => {
        const fired = [alert('low-csat:call-1', 'ops', '2026-11-29T10:00:00.000Z', { callId: 'call-1' }), alert('any-csat:call-1', 'audit', '2026-11-29T10:00:00.000Z', { callId: 'call-1' })];
        const first = await storage.answers.record(answerRow('call-1', 1), ratingRow('call-1', 1), fired);
        assert.equal(first.answerInserted, true);
        assert.deepEqual(await rowsOf(db, 'call-1'), { answers: 1, ratings: 1, outcomes: 0, alerts: ['any-csat:call-1', 'low-csat:call-1'] });
        // A write retried after its commit (the connection dropped with the answer): stored once, alerted once.
        const again = await storage.answers.record(answerRow('call-1', 1), ratingRow('call-1', 1), [alert('low-csat:call-1:again', 'ops', '2026-11-29T10:00:01.000Z', { callId: 'call-1' })]);
        assert.equal(again.answerInserted, false);
        assert.deepEqual((await rowsOf(db, 'call-1')).alerts, ['any-csat:call-1', 'low-csat:call-1'], 'no alert for an answer that was already there');
      });
    });

    test('an alert that cannot be written takes its answer and rating with it (and an ending its outcome): nothing half-written, no transaction left open', async () => {
      await withStorage(kind, 'alert rollback', async (storage, db) => {
        // A row the database refuses (event NOT NULL), after the answer and rating went in within the transaction.
        const broken = { ...alert('broken:call-2', 'ops', '2026-11-29T10:00:00.000Z', { callId: 'call-2' }), event: null as unknown as string };
        await assert.rejects(storage.answers.record(answerRow('call-2', 1), ratingRow('call-2', 1), [alert('fine:call-2', 'ops', '2026-11-29T10:00:00.000Z', { callId: 'call-2' }), broken]));
        assert.deepEqual(await rowsOf(db, 'call-2'), { answers: 0, ratings: 0, outcomes: 0, alerts: [] }, 'neither the answer, the rating nor any alert');
        await assert.rejects(storage.outcomes.insert(outcomeRow('call-3'), { alerts: [broken] }));
        assert.deepEqual(await rowsOf(db, 'call-3'), { answers: 0, ratings: 0, outcomes: 0, alerts: [] }, 'no outcome without its alert');
        // The writer is free again: the same call stores at once, with its alert.
        await storage.answers.record(answerRow('call-2', 1), ratingRow('call-2', 1), [alert('fine:call-2', 'ops', '2026-11-29T10:00:00.000Z', { callId: 'call-2' })]);
        await storage.outcomes.insert(outcomeRow('call-3'), { alerts: [alert('abandoned:call-3', 'ops', '2026-11-29T10:00:30.000Z', { callId: 'call-3' })] });
        assert.deepEqual(await rowsOf(db, 'call-2'), { answers: 1, ratings: 1, outcomes: 0, alerts: ['fine:call-2'] });
        assert.deepEqual(await rowsOf(db, 'call-3'), { answers: 0, ratings: 0, outcomes: 1, alerts: ['abandoned:call-3'] });
        if (kind === 'postgres') {
          const idle = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`.execute(db);
          assert.equal(idle.rows[0]!.n, 0, 'no session left inside a transaction');
        }
      });
    });
  });
}
