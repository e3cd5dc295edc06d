// The README's receiver (examples/alert-receiver.mjs), run as a user runs it, fed by the real
// delivery worker: it accepts a delivery signed with its secret, drops a repeat by Idempotency-Key,
// and refuses a forged, a re-signed-with-another-secret and a stale delivery.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { AlertDelivery } from '../src/alerts/delivery.js';
import { deliveryHeaders } from '../src/alerts/signing.js';
import { insertAlerts } from '../src/db/alert-outbox.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { freePort, until, within } from './helpers/wait.js';

const EXAMPLE = fileURLToPath(new URL('../examples/alert-receiver.mjs', import.meta.url));
const SECRET = 'whsec-readme-example';

describe('the README alert receiver', () => {
  test('takes a signed delivery once, drops its repeat, refuses forged and stale ones', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [EXAMPLE], { env: { PATH: process.env['PATH'] ?? '', CSAT_ALERT_SECRET: SECRET, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const lines = (): any[] => output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    const storage = openSqliteStorage(':memory:');
    try {
      await until(() => lines().some((line) => line.listening === port) || child.exitCode !== null, 10_000, () => `the example to listen\n${output}`);
      await storage.migrate();
      const body = JSON.stringify({ event: 'alert.fired', id: 'alert.fired:low-csat:call-1:ask', rule: { name: 'low-csat', type: 'answer' }, call: { call_id: 'call-1', agent_id: 'agent-7' }, answer: { question_id: 'ask', kind: 'csat', value: 1 } });
      await insertAlerts(storage.db, [{ idempotencyKey: 'alert.fired:low-csat:call-1:ask', event: 'alert.fired', destination: 'example', callId: 'call-1', payload: body, createdAt: new Date().toISOString() }]);
      const delivery = new AlertDelivery({
        store: storage.alerts,
        destinations: new Map([['example', { url: `http://127.0.0.1:${port}/`, secret: SECRET, timeoutMs: 5_000, headers: {} }]]),
        owner: 'test',
        log: pino({ level: 'silent' }),
      });
      assert.equal(await within(delivery.deliverOnce(), 10_000, 'a delivery'), 1);
      assert.equal((await storage.alerts.counts()).delivered, 1, 'the example answered 2xx');
      await until(() => lines().some((line) => line.received), 5_000, () => `the example to print the alert\n${output}`);

      const post = (headers: Record<string, string>, sent = body) => fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body: sent }).then((res) => res.status);
      const now = Math.floor(Date.now() / 1000);
      const signed = deliveryHeaders(SECRET, {}, { event: 'alert.fired', idempotencyKey: 'alert.fired:low-csat:call-1:ask', body }, now);
      assert.equal(await post(signed), 204, 'a repeat is answered 2xx (or it would be sent again)');
      assert.equal(await post(deliveryHeaders('another-secret', {}, { event: 'alert.fired', idempotencyKey: 'k2', body }, now)), 401, 'another secret');
      assert.equal(await post(signed, body.replace('"value":1', '"value":5')), 401, 'a body changed after signing');
      assert.equal(await post(deliveryHeaders(SECRET, {}, { event: 'alert.fired', idempotencyKey: 'k3', body }, now - 3_600)), 401, 'signed an hour ago: a replay');
      assert.equal(await post({ 'Content-Type': 'application/json' }), 401, 'no signature');
      assert.deepEqual(
        lines().filter((line) => line.received).map((line) => [line.received, line.rule, line.call, line.agent, line.answer.value]),
        [['alert.fired:low-csat:call-1:ask', 'low-csat', 'call-1', 'agent-7', 1]],
        'the alert handled once, nothing forged handled',
      );
    } finally {
      child.kill();
      await storage.close();
    }
  });
});
