// The operator's surface: simulate, health and readiness, Prometheus metrics, secrets kept out of logs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { AriSimulator } from './ari-sim/simulator.js';
import { startApi } from './helpers/api.js';
import { CLI, runCli } from './helpers/cli.js';
import { writeConfigTree } from './helpers/config-tree.js';
import { startHarness } from './helpers/harness.js';
import { spawnEngine } from './helpers/engine-process.js';
import { freePort, until, within } from './helpers/wait.js';

describe('cc-csat simulate', () => {
  test('--digits 9,3: invalid key, then 3; prints the prompts and the outcome; stores what a call would', async () => {
    const tree = writeConfigTree();
    const result = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits', '9,3', '--agent', 'agent-ops', '--call-id', 'sim-1'], { cwd: tree.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      '☎ call sim-1 from queue sales-queue, agent agent-ops, IVR survey',
      '  ♪ sound:csat/rate-intro  sound:csat/rate-keys',
      '  ⌨ caller pressed 9',
      '  ♪ sound:csat/invalid  sound:csat/rate-intro  sound:csat/rate-keys',
      '  ⌨ caller pressed 3',
      '  ♪ sound:csat/you-pressed  digits:3',
      '  ♪ sound:csat/thank-you',
      '  ☎ cc-csat hung up',
      '  ✎ ask (csat): 3 [keys 3]',
      '✔ outcome: completed, score 3 stored in cc_csat; 2 attempt(s), last step bye',
    ]);
    const db = new SqliteDatabase(tree.dbPath, { readonly: true });
    assert.deepEqual(db.prepare('SELECT call_id, agent_id, queue_id, score FROM cc_csat').all(), [{ call_id: 'sim-1', agent_id: 'agent-ops', queue_id: 'sales-queue', score: 3 }]);
    assert.deepEqual(db.prepare('SELECT outcome, attempts FROM survey_outcome').all(), [{ outcome: 'completed', attempts: 2 }]);
    db.close();
  });

  test('silence until retries run out, a repeated call, a disabled queue: outcome printed, exit 3', async () => {
    const tree = writeConfigTree();
    const silent = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits=-,-,-', '--call-id', 'quiet'], { cwd: tree.dir });
    assert.equal(silent.code, 3);
    assert.match(silent.stdout, /✘ outcome: no_input; 3 attempt\(s\), last step bye/);
    assert.match(silent.stdout, /♪ sound:csat\/goodbye/);
    await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits', '5', '--call-id', 'twice'], { cwd: tree.dir });
    const repeated = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits', '5', '--call-id', 'twice'], { cwd: tree.dir });
    assert.equal(repeated.code, 3);
    assert.match(repeated.stdout, /↩ no survey: the call goes back to the dialplan\n✘ outcome: skipped \(already_rated\)/);
    const disabled = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'quiet-queue', '--digits', '1'], { cwd: tree.dir });
    assert.match(disabled.stdout, /skipped \(csat_disabled\)/);
  });

  test('keys from standard input when --digits is absent; bad arguments are explained', async () => {
    const tree = writeConfigTree();
    const child = spawn(process.execPath, [CLI, 'simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--call-id', 'piped'], { cwd: tree.dir });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stdin.write('2');
    const code = await within(new Promise((resolve) => child.on('exit', resolve)), 20_000, () => `simulate to exit\n${out}`);
    assert.equal(code, 0, out);
    assert.match(out, /⌨ caller pressed 2[\s\S]*score 4 stored in cc_csat/);
    const bad = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits', '1x'], { cwd: tree.dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--digits: "1x" is not a key or keys; use the keys of one answer per question/);
    const missing = await runCli(['simulate', '--config', tree.enginePath], { cwd: tree.dir });
    assert.match(missing.stderr, /--queue NAME is required \(known: sales-queue, quiet-queue\)/);
  });
});

describe('health, readiness and metrics', () => {
  test('/healthz always 200; /readyz 503 naming what is down (ARI, then a read-only database)', async () => {
    const api = await startApi();
    try {
      assert.deepEqual(await api.request('GET', '/readyz', { key: null }).then((r) => [r.status, r.body]), [200, { status: 'ready', database: 'ok', ari: 'connected' }]);
      api.telephony.state = 'connecting';
      assert.deepEqual(await api.request('GET', '/readyz', { key: null }).then((r) => [r.status, r.body]), [503, { status: 'not_ready', database: 'ok', ari: 'connecting' }]);
      assert.equal((await api.request('GET', '/healthz', { key: null })).status, 200);
      // SQLite's own read-only state (query_only answers SQLITE_READONLY, as a read-only file does for a non-root user).
      api.database.sqlite.pragma('query_only = ON');
      // The database is probed at most once a second, however many ask (an unauthenticated endpoint).
      let res = await api.request('GET', '/readyz', { key: null });
      for (const deadline = Date.now() + 5_000; res.body.database === 'ok' && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        res = await api.request('GET', '/readyz', { key: null });
      }
      assert.equal(res.status, 503);
      assert.match(res.body.database, /read-only/);
    } finally {
      await api.close();
    }
  });

  test('/metrics: cc_csat_* series for surveys, ratings, DTMF latency, ARI and HTTP', async () => {
    const h = await startHarness();
    const api = await startApi();
    try {
      await h.call({ args: ['m-1', 'agent-1', 'sales-queue'], script: [{ whenPlaying: 'rate-intro', after: 20, press: '1' }] });
      await h.call({ args: ['m-2', 'agent-1', 'sales-queue'], script: [{ whenPlaying: 'rate-intro', after: 20, hangup: true }] });
      await h.call({ args: ['m-3', 'agent-1', 'quiet-queue'] });
      const ivr = await h.metrics.registry.metrics();
      assert.match(ivr, /^cc_csat_surveys_total\{outcome="completed"\} 1$/m);
      assert.match(ivr, /^cc_csat_surveys_total\{outcome="abandoned"\} 1$/m);
      assert.match(ivr, /^cc_csat_surveys_total\{outcome="skipped"\} 1$/m);
      assert.match(ivr, /^cc_csat_surveys_live 0$/m);
      assert.match(ivr, /^cc_csat_ratings_total\{score="5",source="ivr"\} 1$/m);
      assert.match(ivr, /^cc_csat_dtmf_to_stored_seconds_count 1$/m);
      assert.match(ivr, /^cc_csat_ari_connected 1$/m);

      await api.request('POST', '/cc/csat/m-api', { body: { score: 2, agent_id: 'a', queue_id: 'sales-queue' } });
      await api.request('GET', '/cc/csat/m-api');
      await api.request('GET', '/cc/csat/nope', { key: null });
      await api.results.run();
      const res = await api.request('GET', '/metrics', { key: null });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
      const text = res.body as string;
      assert.match(text, /^cc_csat_ratings_total\{score="2",source="api"\} 1$/m);
      assert.match(text, /^cc_csat_http_requests_total\{route="\/cc\/csat\/:call_id",method="POST",status="201"\} 1$/m);
      assert.match(text, /^cc_csat_http_requests_total\{route="\/cc\/csat\/:call_id",method="GET",status="401"\} 1$/m);
      assert.match(text, /^cc_csat_http_request_duration_seconds_count\{route="\/cc\/csat\/:call_id",method="GET",status="200"\} 1$/m);
      assert.ok(!text.includes('m-api'), 'call ids never become label values');
      assert.match(text, /^cc_csat_results_run_errors_total 0$/m);
    } finally {
      await h.close();
      await api.close();
    }
  });

  test('cc-csat start serves the API while Asterisk is down, becomes ready when it appears; metrics on their own port; no secrets logged', async () => {
    const ariPort = await freePort();
    const metricsPort = await freePort();
    const key = 'operator-key';
    const tree = writeConfigTree({
      ariUrl: `http://127.0.0.1:${ariPort}`,
      logLevel: 'debug',
      engineExtra: `
[metrics]
port = ${metricsPort}

[[api_keys]]
name = "ops"
key_sha256 = "${(await import('node:crypto')).createHash('sha256').update(key).digest('hex')}"
scopes = ["csat:read", "csat:write"]
`,
    });
    const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir });
    const output = engine.output;
    let sim: AriSimulator | undefined;
    try {
      const base = await engine.started();
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const notReady = await fetch(`${base}/readyz`);
      assert.equal(notReady.status, 503);
      const { config: loadedConfig, ...readiness } = (await notReady.json()) as Record<string, unknown>;
      assert.deepEqual(readiness, { status: 'not_ready', database: 'ok', ari: 'connecting' });
      assert.equal((loadedConfig as { last_reload: unknown }).last_reload, null, 'no reload yet');
      const posted = await fetch(`${base}/cc/csat/while-down`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ score: 4, agent_id: 'a', queue_id: 'sales-queue' }),
      });
      assert.equal(posted.status, 201, 'the API works without Asterisk');
      assert.equal((await fetch(`${base}/metrics`)).status, 404, '/metrics lives on its own port');
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /^cc_csat_ari_connected 0$/m);

      sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start(ariPort);
      await until(() => output().includes('"msg":"connected to ARI"'), 10_000, 'connection once Asterisk appears');
      let ready = 0;
      for (let i = 0; i < 50 && ready !== 200; i++) {
        ready = (await fetch(`${base}/readyz`)).status;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(ready, 200);
      assert.match(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), /^cc_csat_ari_connected 1$/m);
    } finally {
      try {
        await engine.stop('SIGTERM');
      } finally {
        await sim?.close();
      }
    }
    for (const line of output().trim().split('\n')) JSON.parse(line);
    assert.ok(!output().includes('secret'), 'the ARI password is never logged');
    assert.ok(!output().includes(key), 'API keys are never logged');
    assert.match(output(), /"msg":"ARI not reachable; will retry"/);
  });
});

