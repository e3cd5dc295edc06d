// Alerts end to end: `cc-csat start` as its own process, callers from the ARI simulator, a real HTTP
// receiver. A bad score reaches the receiver signed, with the call, agent, queue, team and answers;
// a good one sends nothing; a receiver that is down and an engine killed -9 (before the POST, and in
// the middle of it) still end with every alert delivered, exactly the ones that should, on SQLite and
// PostgreSQL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifySignature } from '../src/alerts/signing.js';
import { AriSimulator, type SimChannel } from './ari-sim/simulator.js';
import { DATABASES } from './helpers/api.js';
import { runCli } from './helpers/cli.js';
import { TEST_IVR, TEST_QUEUES, writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import { spawnEngine, type EngineProcess } from './helpers/engine-process.js';
import { followScript } from './helpers/harness.js';
import { createPostgresDatabase, type PostgresDatabase } from './helpers/postgres.js';
import { freePort, until, within } from './helpers/wait.js';
import { answer, startReceiver, type Behaviour, type Receipt, type Receiver } from './helpers/webhook-receiver.js';

const SECRET = 'whsec-engine-alerts';
const SECRET_ENV = { CSAT_ALERT_SECRET: SECRET };
const READER_KEY = 'reader-key-alerts-engine';

const TEAMS = `
[[team]]
id = "north"
name = "North floor"
agents = ["agent-7"]
`;

/** The test IVR: key 5 is score 1, key 1 is score 5. A first rating then a yes/no. */
const TWO_QUESTION_IVR = TEST_IVR.replace('next = "confirm"', 'next = "resolved"').replace(
  '[[step]]\nid = "confirm"',
  `[[step]]
id = "resolved"
type = "collect"
kind = "yes_no"
prompt = ["sound:csat/resolved"]
scores = { "1" = 1, "2" = 0 }
timeout_ms = 15000
max_retries = 0
next = "confirm"
on_failure = "goodbye"

[[step]]
id = "confirm"`,
);

function alertsToml(receiverUrl: string, publicUrl = 'https://csat.example.com/'): string {
  return `
[alerts]
public_url = "${publicUrl}"

[[alerts.destination]]
name = "supervisors"
url = "${receiverUrl}"
secret_env = "CSAT_ALERT_SECRET"
timeout_ms = 1500
headers = { "X-Tenant" = "acme" }

[[alerts.destination]]
name = "sms"
url = "${receiverUrl}"
secret_env = "CSAT_ALERT_SECRET"

[[api_keys]]
name = "reader"
key_sha256 = "${createHash('sha256').update(READER_KEY).digest('hex')}"
scopes = ["csat:read"]

[[alerts.rule]]
name = "low-csat"
type = "answer"
kind = "csat"
at_most = 2
destination = "supervisors"

[[alerts.rule]]
name = "hung-up-unhappy"
type = "abandoned"
kind = "csat"
at_most = 2
destination = "supervisors"
`;
}

interface Running {
  readonly sim: AriSimulator;
  readonly tree: ConfigTree;
  engine: EngineProcess;
  base: string;
  /** Starts another engine process on the same tree (after a kill). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function startEngine(kind: 'sqlite' | 'postgres', receiverUrl: string, ivr = TEST_IVR, options: { queues?: string } = {}): Promise<Running> {
  const postgres: PostgresDatabase | undefined = kind === 'postgres' ? await createPostgresDatabase('alerts-engine') : undefined;
  const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
  // A fixed port: the engine id (host:port) is the same across a restart, as for a service restarted
  // in place; and the rating links point at this engine's own API.
  const httpPort = await freePort();
  const tree = writeConfigTree({
    ariUrl: sim.url,
    logLevel: 'info',
    httpPort,
    ivrs: { survey: ivr },
    engineExtra: alertsToml(receiverUrl, `http://127.0.0.1:${httpPort}`),
    ...(options.queues ? { queues: options.queues } : {}),
    ...(postgres ? { databaseUrl: postgres.url } : {}),
  });
  writeFileSync(join(tree.dir, 'config', 'teams.toml'), TEAMS);
  const spawn = async (): Promise<{ engine: EngineProcess; base: string }> => {
    const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir, env: SECRET_ENV });
    try {
      const base = await engine.started(20_000);
      await sim.waitForClients(1);
      return { engine, base };
    } catch (err) {
      engine.child.kill('SIGKILL');
      throw err;
    }
  };
  try {
    const first = await spawn();
    const running: Running = {
      sim,
      tree,
      ...first,
      async restart() {
        const next = await spawn();
        running.engine = next.engine;
        running.base = next.base;
      },
      async close() {
        try {
          if (running.engine.child.exitCode === null && running.engine.child.signalCode === null) assert.equal(await running.engine.stop('SIGTERM'), 0, running.engine.output());
        } finally {
          await sim.close();
          await postgres?.drop();
        }
      },
    };
    return running;
  } catch (err) {
    await sim.close();
    await postgres?.drop();
    throw err;
  }
}

/** A caller on sales-queue, agent-7, who presses `keys` one per question; resolves once the call has ended. */
async function call(running: Running, callId: string, keys: string, options: { hangUpAfterFirst?: boolean } = {}): Promise<SimChannel> {
  const { sim } = running;
  const channel = sim.enterStasis({ args: [callId, 'agent-7', 'sales-queue'] });
  const script = [{ whenPlaying: 'rate-keys', after: 20, press: keys[0]! }];
  if (options.hangUpAfterFirst) script.push({ whenPlaying: 'resolved', after: 20, hangup: true } as never);
  else if (keys[1]) script.push({ whenPlaying: 'resolved', after: 20, press: keys[1] });
  const stop = followScript(sim, channel, script);
  try {
    await within(channel.ended, 10_000, () => `call ${callId} to end\n${running.engine.output()}`);
  } finally {
    stop();
  }
  return channel;
}

/** The receipts, each checked: a valid signature under the secret, and the headers every delivery carries. */
function checked(receipts: readonly Receipt[], event = 'alert.fired'): Array<{ key: string; body: any }> {
  return receipts.filter((receipt) => receipt.headers['x-csat-event'] === event).map((receipt) => {
    assert.ok(verifySignature(SECRET, receipt.body, receipt.headers['x-csat-signature'] as string | undefined, Date.now() / 1000), `a valid signature: ${receipt.headers['x-csat-signature']}`);
    assert.equal(receipt.headers['content-type'], 'application/json');
    if (event === 'alert.fired') assert.equal(receipt.headers['x-tenant'], 'acme', 'the destination\'s own headers');
    const key = receipt.headers['idempotency-key'] as string;
    const body = JSON.parse(receipt.body);
    assert.equal(body.id, key, 'the body carries the idempotency key too');
    return { key, body };
  });
}

async function metric(base: string, series: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((each) => each.startsWith(`${series} `));
  assert.ok(line, `${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

async function outboxStatuses(running: Running): Promise<string[]> {
  const listed = await runCli(['alerts', 'list', '--json', '--config', running.tree.enginePath], { cwd: running.tree.dir, env: SECRET_ENV });
  assert.equal(listed.code, 0, listed.stderr);
  return (JSON.parse(listed.stdout) as Array<{ status: string }>).map((row) => row.status).sort();
}

/** A receiver on a port chosen now, not listening yet: "down" until `up()`. */
async function receiverLater(behaviour: Behaviour): Promise<{ url: string; up(): Promise<Receiver> }> {
  const port = await freePort();
  return { url: `http://127.0.0.1:${port}/hooks/csat?tenant=t1`, up: () => startReceiver(behaviour, port) };
}

const LINK_QUEUES = `${TEST_QUEUES}
[[queue]]
name = "link-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"
[queue.link_fallback]
destination = "sms"
link_expiry_days = 3
`;

/** A caller on link-queue: hangs up during the question, stays silent, or presses `key`. */
async function linkCall(running: Running, callId: string, how: { hangUp?: true; key?: string; silent?: true }, callerNumber?: string): Promise<void> {
  const { sim } = running;
  const channel = sim.enterStasis({ args: [callId, 'agent-7', 'link-queue'], ...(callerNumber ? { callerNumber } : {}) });
  const script = how.hangUp ? [{ whenPlaying: 'rate-keys', after: 20, hangup: true }] : how.key ? [{ whenPlaying: 'rate-keys', after: 20, press: how.key }] : [];
  const stop = followScript(sim, channel, script);
  try {
    await within(channel.ended, 15_000, () => `call ${callId} to end\n${running.engine.output()}`);
  } finally {
    stop();
  }
}

for (const database of DATABASES) {
  describe(`alerts from a running engine (${database.kind})`, { skip: database.skip }, () => {
    test('a low score reaches the receiver signed, with the call, agent, queue, team, answers and rule; a good score sends nothing', async () => {
      const receiver = await startReceiver(answer(200));
      const running = await startEngine(database.kind, receiver.url);
      try {
        await call(running, 'call-happy', '1'); // score 5
        await call(running, 'call-unhappy', '5'); // score 1
        await until(() => receiver.receipts.length >= 1, 10_000, () => `the alert to arrive\n${running.engine.output()}`);
        // The outbox is empty of pending rows once the receiver has it; nothing for the happy caller.
        await until(async () => (await metric(running.base, 'cc_csat_alerts_delivered_total{destination="supervisors"}')) === 1, 10_000, 'the delivery to be counted');
        const [alert, ...more] = checked(receiver.receipts);
        assert.equal(more.length, 0, 'one alert: the happy caller fired none');
        assert.equal(alert!.key, 'alert.fired:low-csat:call-unhappy:ask');
        assert.deepEqual(alert!.body.rule, { name: 'low-csat', type: 'answer' });
        assert.deepEqual(alert!.body.call, { call_id: 'call-unhappy', agent_id: 'agent-7', queue_id: 'sales-queue', team_id: 'north', ivr: 'survey' });
        assert.deepEqual(alert!.body.answer, { question_id: 'ask', kind: 'csat', value: 1 });
        assert.deepEqual(alert!.body.answers, [{ question_id: 'ask', kind: 'csat', value: 1 }]);
        assert.equal(alert!.body.recording_url, null, 'no spoken comment, no recording link');
        assert.equal(await metric(running.base, 'cc_csat_alerts_outbox{status="pending"}'), 0);
        assert.equal(await metric(running.base, 'cc_csat_alerts_outbox{status="dead"}'), 0);
        assert.deepEqual(await outboxStatuses(running), ['delivered']);
      } finally {
        await running.close();
        await receiver.close();
      }
    });

    test('a caller who hangs up after a bad first answer fires "abandoned"; one who finishes does not', async () => {
      const receiver = await startReceiver(answer(200));
      const running = await startEngine(database.kind, receiver.url, TWO_QUESTION_IVR);
      try {
        await call(running, 'call-gone', '5', { hangUpAfterFirst: true });
        await call(running, 'call-stayed', '52');
        await until(() => receiver.receipts.length >= 3, 10_000, () => `three alerts to arrive\n${running.engine.output()}`);
        await until(async () => (await metric(running.base, 'cc_csat_alerts_delivered_total{destination="supervisors"}')) === 3, 10_000, 'the deliveries to be counted');
        const keys = checked(receiver.receipts).map(({ key }) => key).sort();
        assert.deepEqual(keys, ['alert.fired:hung-up-unhappy:call-gone:abandoned', 'alert.fired:low-csat:call-gone:ask', 'alert.fired:low-csat:call-stayed:ask']);
        const abandoned = checked(receiver.receipts).find(({ key }) => key.includes('hung-up-unhappy'))!.body;
        assert.deepEqual(abandoned.rule, { name: 'hung-up-unhappy', type: 'abandoned' });
        assert.deepEqual(abandoned.answers, [{ question_id: 'ask', kind: 'csat', value: 1 }]);
        const stayed = checked(receiver.receipts).find(({ key }) => key.includes('call-stayed'))!.body;
        assert.deepEqual(stayed.answers, [{ question_id: 'ask', kind: 'csat', value: 1 }], 'the alert fired at the first answer, with the answers so far');
      } finally {
        await running.close();
        await receiver.close();
      }
    });

    test('receiver down, engine killed -9 before any delivery: the next engine delivers every alert once', async () => {
      const later = await receiverLater(answer(200));
      const running = await startEngine(database.kind, later.url);
      let receiver: Receiver | undefined;
      try {
        for (let i = 0; i < 3; i++) await call(running, `call-down-${i}`, '5');
        await call(running, 'call-fine', '1');
        // Committed with their answers, tried against a closed port, still pending.
        await until(async () => (await outboxStatuses(running)).length === 3, 10_000, 'three alerts in the outbox');
        await until(async () => (await metric(running.base, 'cc_csat_alerts_retried_total{destination="supervisors"}')) >= 1, 10_000, 'a failed attempt');
        running.engine.child.kill('SIGKILL');
        await within(running.engine.exited, 10_000, 'the killed engine to exit');
        receiver = await later.up();
        await running.restart();
        await until(() => receiver!.receipts.length >= 3, 30_000, () => `three alerts after the restart\n${running.engine.output()}`);
        // Once every row is delivered nothing more can be sent: a row is claimed only while pending.
        await until(async () => (await outboxStatuses(running)).every((status) => status === 'delivered'), 10_000, 'every row delivered');
        const keys = checked(receiver.receipts).map(({ key }) => key).sort();
        assert.deepEqual(keys, ['alert.fired:low-csat:call-down-0:ask', 'alert.fired:low-csat:call-down-1:ask', 'alert.fired:low-csat:call-down-2:ask']);
      } finally {
        await running.close();
        await receiver?.close();
      }
    });

    test('engine killed -9 while the receiver holds the POST: sent again after the restart with the same key, then delivered', async () => {
      // The first request is held open (the receiver is slow); later ones are answered.
      const receiver = await startReceiver((_receipt, index, res) => {
        if (index > 0) answer(200)(_receipt, index, res);
      });
      const running = await startEngine(database.kind, receiver.url);
      try {
        await call(running, 'call-in-flight', '5');
        await until(() => receiver.receipts.length === 1, 10_000, () => `the first POST\n${running.engine.output()}`);
        running.engine.child.kill('SIGKILL');
        await within(running.engine.exited, 10_000, 'the killed engine to exit');
        assert.deepEqual(await outboxStatuses(running), ['pending'], 'not marked: the engine died mid-POST');
        await running.restart();
        await until(() => receiver.receipts.length === 2, 10_000, () => `the delivery again\n${running.engine.output()}`);
        await until(async () => (await outboxStatuses(running))[0] === 'delivered', 10_000, 'the row delivered');
        const [first, second] = checked(receiver.receipts);
        assert.equal(first!.key, 'alert.fired:low-csat:call-in-flight:ask');
        assert.equal(second!.key, first!.key, 'the same Idempotency-Key: the receiver drops the repeat');
        assert.equal(second!.body.fired_at, first!.body.fired_at, 'the same body');
      } finally {
        await running.close();
        await receiver.close();
      }
    });
    test('rating links: a caller who hung up or stayed silent gets one by webhook; one click or the form rates the call', async () => {
      const receiver = await startReceiver(answer(200));
      const running = await startEngine(database.kind, receiver.url, TEST_IVR, { queues: LINK_QUEUES });
      try {
        await linkCall(running, 'call-gone', { hangUp: true }, '+33612345678');
        await linkCall(running, 'call-silent', { silent: true }, '+33687654321');
        await linkCall(running, 'call-rated', { key: '2' }, '+33600000000');
        await linkCall(running, 'call-no-number', { hangUp: true });
        // Each ending writes its link (or none) with its outcome row, before "survey ended" is logged.
        const calls = ['call-gone', 'call-silent', 'call-rated', 'call-no-number'];
        await until(() => calls.every((id) => running.engine.logLines().some((line) => line['msg'] === 'survey ended' && line['call_id'] === id)), 10_000, 'the four surveys to end');
        const queued = JSON.parse((await runCli(['alerts', 'list', '--json', '--config', running.tree.enginePath], { cwd: running.tree.dir, env: SECRET_ENV })).stdout) as Array<{ idempotency_key: string }>;
        assert.deepEqual(queued.map((row) => row.idempotency_key).sort(), ['survey.link:call-gone', 'survey.link:call-silent'], 'no link for a rated call, nor without a number');
        await until(() => checked(receiver.receipts, 'survey.link').length >= 2, 10_000, () => `two links to arrive\n${running.engine.output()}`);
        const links = checked(receiver.receipts, 'survey.link');
        assert.deepEqual(links.map(({ key }) => key).sort(), ['survey.link:call-gone', 'survey.link:call-silent']);
        const gone = links.find(({ key }) => key === 'survey.link:call-gone')!.body;
        assert.equal(gone.caller_number, '+33612345678');
        assert.equal(gone.outcome, 'abandoned');
        assert.deepEqual(gone.call, { call_id: 'call-gone', agent_id: 'agent-7', queue_id: 'link-queue', team_id: 'north', ivr: 'survey' });
        assert.equal(Date.parse(gone.expires_at) - Date.parse(gone.created_at), 3 * 86_400_000);
        assert.deepEqual(Object.keys(gone.links.rate), ['1', '2', '3', '4', '5']);
        assert.ok(gone.links.rate['4'].startsWith(`${running.base}/cc/csat/rate?token=`), gone.links.rate['4']);
        assert.equal(links.find(({ key }) => key === 'survey.link:call-silent')!.body.outcome, 'no_input');

        // Delivered: the link reads "sent"; the outbox keeps no token and no number.
        const survey = gone.links.survey as string;
        await until(async () => ((await (await fetch(survey, { headers: { accept: 'application/json' } })).json()) as any).status === 'sent', 10_000, 'the link to read sent');
        const shown = await runCli(['alerts', 'list', '--json', '--config', running.tree.enginePath], { cwd: running.tree.dir, env: SECRET_ENV });
        const linkRow = JSON.parse(shown.stdout).find((row: any) => row.idempotency_key === 'survey.link:call-gone');
        const detail = await runCli(['alerts', 'show', String(linkRow.id), '--json', '--config', running.tree.enginePath], { cwd: running.tree.dir, env: SECRET_ENV });
        assert.deepEqual([JSON.parse(detail.stdout).payload.links, JSON.parse(detail.stdout).payload.caller_number], ['[redacted]', '[redacted]']);

        const clicked = await fetch(gone.links.rate['4']);
        assert.equal(clicked.status, 200);
        assert.match(await clicked.text(), /You rated us 4 out of 5/);
        const rated = (await (await fetch(`${running.base}/cc/csat/call-gone`, { headers: { 'x-api-key': READER_KEY } })).json()) as any;
        assert.deepEqual([rated.score, rated.agent_id, rated.queue_id], [4, 'agent-7', 'link-queue']);
        assert.equal((await fetch(gone.links.rate['5'])).status, 410, 'single use');

        const silent = links.find(({ key }) => key === 'survey.link:call-silent')!.body;
        const submitted = await fetch(`${silent.links.survey}/submit`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'rating=1&feedback=nobody+answered' });
        assert.equal(submitted.status, 200);
        const second = (await (await fetch(`${running.base}/cc/csat/call-silent`, { headers: { 'x-api-key': READER_KEY } })).json()) as any;
        assert.deepEqual([second.score, second.comment], [1, 'nobody answered']);
        // A score of 1 by link goes through the alert rules like one by keys; the 4 by one click did not.
        await until(() => checked(receiver.receipts).some(({ key }) => key === 'alert.fired:low-csat:call-silent:ask'), 10_000, 'the low score by link to alert');
        assert.deepEqual(checked(receiver.receipts).map(({ key }) => key), ['alert.fired:low-csat:call-silent:ask']);

        // No token, no caller number in anything the engine printed.
        const output = running.engine.output();
        for (const secret of [gone.links.rate['4'].split('token=')[1].split('&')[0], '+33612345678', '33612345678']) assert.equal(output.includes(secret), false, `engine output holds ${secret}`);
      } finally {
        await running.close();
        await receiver.close();
      }
    });
  });
}
