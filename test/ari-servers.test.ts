// Several Asterisk servers ([[ari]]) behind one engine: each has its own connection, backoff and
// overload admission; every call is surveyed once, its outcome names the server it ran on, and
// /readyz says which servers are up (ready while at least one is).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/problems.js';
import { outcomesForCall } from '../src/db/outcomes.js';
import { findRatingByCallId } from '../src/db/ratings.js';
import { createHttpApp } from '../src/http/app.js';
import { listenFirst } from '../src/http/server.js';
import { openStorage } from '../src/storage/open.js';
import { AriSimulator } from './ari-sim/simulator.js';
import { makeTempDir, writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import { spawnEngine } from './helpers/engine-process.js';
import { createPostgresDatabase, POSTGRES_SKIP } from './helpers/postgres.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { unhandledRejections } from './helpers/unhandled.js';
import { until, within } from './helpers/wait.js';

const PROMPT = 'sound:csat/rate-intro';

/**
 * A config tree whose [ari] table is replaced by `ari` ([[ari]] entries), or with `topLevel`, by a
 * line that must come before any table (`ari = 3`).
 */
function treeWithAri(ari: string, options: { topLevel?: boolean; logLevel?: string } = {}): ConfigTree {
  const tree = writeConfigTree({ logLevel: options.logLevel });
  const text = readFileSync(tree.enginePath, 'utf8');
  const start = text.indexOf('[ari]\n');
  const end = text.indexOf('[database]\n');
  assert.ok(start >= 0 && end > start, 'the tree has an [ari] table before [database]');
  const rest = `${text.slice(0, start)}${options.topLevel ? '' : `${ari}\n`}${text.slice(end)}`;
  writeFileSync(tree.enginePath, options.topLevel ? `${ari}\n${rest}` : rest);
  return tree;
}

function problemsOf(ari: string, options: { topLevel?: boolean } = {}): string[] {
  const tree = treeWithAri(ari, options);
  try {
    loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return [...err.problems];
  }
  return [];
}

const entry = (fields: string): string => `[[ari]]\nusername = "csat"\npassword = "secret"\n${fields}\n`;

describe('config: [[ari]] servers', () => {
  test('[[ari]] entries load in file order, each with its own settings and password; [ari] stays one server named "asterisk"', () => {
    const tree = treeWithAri(
      `${entry('name = "east"\nurl = "http://10.0.0.1:8088"\nmax_concurrent_requests = 8')}\n` +
        '[[ari]]\nname = "west"\nurl = "http://10.0.0.2:8088"\nusername = "csat"\npassword_env = "WEST_PW"\nrest_transport = "http"\n',
    );
    const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: { WEST_PW: 'from-env' } });
    assert.deepEqual(
      config.ariServers.map((server) => [server.name, server.config.url, server.password, server.config.max_concurrent_requests, server.config.rest_transport]),
      [
        ['east', 'http://10.0.0.1:8088', 'secret', 8, 'auto'],
        ['west', 'http://10.0.0.2:8088', 'from-env', 64, 'http'],
      ],
    );
    assert.equal(config.ariServers[1]!.config.admission_max_in_flight, 48, 'defaults are per entry');
    assert.ok(Object.isFrozen(config.ariServers[1]));

    const single = writeConfigTree();
    const one = loadConfig({ configPath: single.enginePath, cwd: single.dir, env: {} });
    assert.deepEqual(one.ariServers.map((server) => [server.name, server.password]), [['asterisk', 'secret']]);
    const unnamedEntry = treeWithAri(entry('url = "http://10.0.0.1:8088"'));
    assert.equal(loadConfig({ configPath: unnamedEntry.enginePath, cwd: unnamedEntry.dir, env: {} }).ariServers[0]!.name, 'asterisk');
  });

  test('a duplicate name names both entries; a missing name with several entries, and a bad url in entry 1, name their path', () => {
    assert.deepEqual(
      problemsOf([entry('name = "east"\nurl = "http://a:8088"'), entry('name = "west"\nurl = "http://b:8088"'), entry('name = "east"\nurl = "http://c:8088"')].join('\n')),
      ['config/engine.toml: ari[2].name: duplicate server name "east" (first at ari[0])'],
    );
    assert.deepEqual(problemsOf([entry('name = "east"\nurl = "http://a:8088"'), entry('url = "http://b:8088"')].join('\n')), [
      'config/engine.toml: ari[1].name: is required when there are several [[ari]] entries',
    ]);
    assert.deepEqual(problemsOf([entry('name = "east"\nurl = "http://a:8088"'), entry('name = "west"\nurl = "ftp://b"')].join('\n')), [
      'config/engine.toml: ari[1].url: must be an http:// or https:// URL',
    ]);
  });

  test('names are plain words; the same Asterisk and app twice, and each entry\'s password, are checked', () => {
    assert.deepEqual(problemsOf([entry('name = "east side"\nurl = "http://a:8088"'), entry('name = "west"\nurl = "http://b:8088"')].join('\n')), [
      'config/engine.toml: ari[0].name: must be 1 to 64 letters, digits, "_" or "-" (it names the server in metrics, /readyz and survey_outcome)',
    ]);
    assert.deepEqual(problemsOf([entry('name = "east"\nurl = "http://A:8088"'), entry('name = "west"\nurl = "http://a:8088/"')].join('\n')), [
      'config/engine.toml: ari[1]: same url and app as ari[0] (each caller would get two surveys)',
    ]);
    assert.deepEqual(
      problemsOf(
        '[[ari]]\nname = "east"\nurl = "http://a:8088"\n\n[[ari]]\nname = "west"\nurl = "http://b:8088"\npassword_env = "WEST_PW"\n\n[[ari]]\nname = "north"\nurl = "http://c:8088"\npassword = "x"\n',
      ),
      [
        'config/engine.toml: ari[0]: set password or password_env (the ARI user\'s password)',
        'config/engine.toml: ari[1].password_env: environment variable WEST_PW is not set',
      ],
    );
  });

  test('the [ari] table reports as before: its own paths and "did you mean" hints; neither table nor array is refused by name', () => {
    assert.deepEqual(problemsOf('[ari]\nurl = "ftp://a"\npassword = "x"\n'), ['config/engine.toml: ari.url: must be an http:// or https:// URL']);
    assert.deepEqual(problemsOf('[ari]\nusrname = "csat"\npassword = "x"\n').map((line) => line.split('; known keys')[0]), [
      'config/engine.toml: ari: unknown key "usrname" (did you mean "username"?)',
    ]);
    assert.deepEqual(problemsOf('ari = 3', { topLevel: true }), ['config/engine.toml: ari: must be a table ([ari]) or an array of tables ([[ari]]) (got number 3)']);
    assert.deepEqual(problemsOf('ari = []', { topLevel: true }), ['config/engine.toml: ari: needs at least one [[ari]] entry']);
    assert.deepEqual(problemsOf(entry('name = "east"\nurl = "http://a:8088"\nusrname = "x"')), ['config/engine.toml: ari[0]: unknown key "usrname"']);
  });
});

/** The engine's /readyz, served by the real HTTP app over loopback. */
async function readyz(h: Harness): Promise<{ status: number; body: Record<string, unknown> }> {
  const listening = await listenFirst(0, '127.0.0.1', '[http]');
  listening.serve(createHttpApp({ config: h.config, storage: h.storage, log: h.log, telephony: h.readiness }));
  try {
    const res = await within(fetch(`http://127.0.0.1:${(listening.server.address() as AddressInfo).port}/readyz`), 5000, '/readyz');
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } finally {
    listening.server.closeAllConnections();
    await new Promise<void>((resolve) => listening.server.close(() => resolve()));
  }
}

const serverOf = async (h: Harness, callId: string): Promise<Array<[string, string | null]>> =>
  (await outcomesForCall(h.database.db, callId)).map((row) => [row.outcome, row.server]);

describe('one engine, two Asterisk servers', () => {
  afterEach(() => {
    assert.deepEqual(unhandledRejections, [], 'no unhandled promise rejection');
  });

  test('calls on both servers are surveyed by the one engine; each outcome names its server; /readyz lists both', async () => {
    const h = await startHarness({ extraServers: ['east'] });
    try {
      assert.deepEqual([...h.servers.keys()], ['asterisk', 'east']);
      assert.deepEqual(await readyz(h), {
        status: 200,
        body: { status: 'ready', database: 'ok', ari: 'connected', ari_servers: { asterisk: 'connected', east: 'connected' } },
      });
      // At once, one caller on each server.
      const [main, east] = await within(
        Promise.all([
          h.call({ id: 'ch-1', args: ['on-main', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '1' }] }),
          h.call({ id: 'ch-2', server: 'east', args: ['on-east', 'agent-2', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '3' }] }),
        ]),
        15_000,
        'both surveys',
      );
      assert.equal(main.endedBy, 'app_hangup');
      assert.equal(east.endedBy, 'app_hangup');
      assert.equal((await findRatingByCallId(h.database.db, 'on-main'))?.score, 5);
      assert.equal((await findRatingByCallId(h.database.db, 'on-east'))?.score, 3);
      assert.deepEqual(await serverOf(h, 'on-main'), [['completed', 'asterisk']]);
      assert.deepEqual(await serverOf(h, 'on-east'), [['completed', 'east']]);
      // Each server was asked only about its own caller.
      assert.ok(h.servers.get('east')!.sim.received.every((request) => !request.path.includes('ch-1')));
      assert.ok(h.sim.received.every((request) => !request.path.includes('ch-2')));

      // One survey per call across servers: the same call offered on the other server is not surveyed twice.
      const again = await h.call({ server: 'east', args: ['on-main', 'agent-1', 'sales-queue'] });
      assert.equal(again.endedBy, 'continued');
      assert.deepEqual(await serverOf(h, 'on-main'), [['completed', 'asterisk'], ['skipped', 'east']]);

      const metrics = await h.metrics.registry.metrics();
      assert.match(metrics, /^cc_csat_ari_connected 1$/m);
      assert.match(metrics, /^cc_csat_ari_server_connected\{server="asterisk"\} 1$/m);
      assert.match(metrics, /^cc_csat_ari_server_connected\{server="east"\} 1$/m);
    } finally {
      await h.close();
    }
  });

  test('one server down: /readyz stays ready, "degraded", naming it; calls on the other still work; it comes back on its own', async () => {
    const h = await startHarness({ extraServers: ['east'] });
    try {
      const east = h.servers.get('east')!;
      east.sim.startOutage({ rest: true });
      await until(() => h.readiness.servers?.['east'] === 'connecting', 5000, 'the engine to see east down');
      assert.deepEqual(await readyz(h), {
        status: 200,
        body: { status: 'ready', database: 'ok', ari: 'degraded', ari_servers: { asterisk: 'connected', east: 'connecting' } },
      });
      const metrics = await h.metrics.registry.metrics();
      assert.match(metrics, /^cc_csat_ari_connected 0$/m, 'not every server is connected');
      assert.match(metrics, /^cc_csat_ari_server_connected\{server="asterisk"\} 1$/m);
      assert.match(metrics, /^cc_csat_ari_server_connected\{server="east"\} 0$/m);
      assert.match(metrics, /^cc_csat_ari_reconnect_attempts_total\{server="asterisk"\} 0$/m);
      assert.match(metrics, /^cc_csat_ari_reconnect_attempts_total\{server="east"\} [1-9]\d*$/m);

      const live = await within(h.call({ args: ['while-east-down', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '2' }] }), 10_000, 'a survey on the live server');
      assert.equal(live.endedBy, 'app_hangup');
      assert.deepEqual(await serverOf(h, 'while-east-down'), [['completed', 'asterisk']]);

      east.sim.endOutage();
      await until(() => h.readiness.state === 'connected', 10_000, 'east to be reconnected');
      const back = await within(h.call({ server: 'east', args: ['east-back', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '4' }] }), 10_000, 'a survey on east again');
      assert.equal(back.endedBy, 'app_hangup');
      assert.deepEqual(await serverOf(h, 'east-back'), [['completed', 'east']]);
    } finally {
      await h.close();
    }
  });

  test('every server down: /readyz 503 naming each', async () => {
    const h = await startHarness({ extraServers: ['east'] });
    try {
      for (const { sim } of h.servers.values()) sim.startOutage();
      await until(() => h.readiness.state === 'connecting', 5000, 'the engine to see both down');
      assert.deepEqual(await readyz(h), {
        status: 503,
        body: { status: 'not_ready', database: 'ok', ari: 'connecting', ari_servers: { asterisk: 'connecting', east: 'connecting' } },
      });
    } finally {
      await h.close();
    }
  });

  test('an overloaded server refuses its own new callers; the other server\'s callers are still surveyed', async () => {
    const h = await startHarness({ extraServers: ['east'], ariExtra: 'request_timeout_ms = 3000\nadmission_max_latency_ms = 100' });
    try {
      const east = h.servers.get('east')!;
      // East answers every request in 250 ms, well past the 100 ms bound; its first caller was admitted before.
      const running = east.sim.enterStasis({ args: ['east-running', 'agent-1', 'sales-queue'] });
      const runningDone = h.surveyDone(running.id, 'east');
      await until(() => running.played.length === 1, 5000, 'the first east caller to hear the question');
      east.sim.restDelay = () => 250;
      east.sim.press(running, '1');
      await until(() => east.telephony.load.recentLatencyMs() >= 100, 5000, 'east\'s slow answers to be noticed');

      const refused = east.sim.enterStasis({ args: ['east-refused', 'agent-1', 'sales-queue'] });
      const surveyed = await within(h.call({ args: ['main-surveyed', 'agent-1', 'sales-queue'], script: [{ whenPlaying: PROMPT, after: 20, press: '5' }] }), 10_000, 'the main server\'s caller');
      await within(Promise.all([h.surveyDone(refused.id, 'east'), runningDone]), 10_000, 'the east callers to settle');

      assert.equal(refused.endedBy, 'continued');
      assert.deepEqual(refused.played, [], 'the refused caller heard nothing');
      assert.deepEqual(
        (await outcomesForCall(h.database.db, 'east-refused')).map((row) => [row.outcome, row.reason, row.server]),
        [['skipped', 'overloaded', 'east']],
      );
      assert.equal(surveyed.endedBy, 'app_hangup');
      assert.deepEqual(await serverOf(h, 'main-surveyed'), [['completed', 'asterisk']]);
      assert.deepEqual(await serverOf(h, 'east-running'), [['completed', 'east']], 'the running survey kept its place');
      const shed = await h.metrics.registry.metrics();
      assert.match(shed, /^cc_csat_admission_shed_total\{server="east"\} 1$/m);
      assert.match(shed, /^cc_csat_admission_shed_total\{server="asterisk"\} 0$/m);
    } finally {
      await h.close();
    }
  });
});

/** Polls /readyz until `wanted` holds (every wait bounded); returns the last answer. */
async function readyzUntil(base: string, wanted: (body: Record<string, unknown>) => boolean, timeoutMs: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await within(fetch(`${base}/readyz`), 5000, '/readyz');
    // The config detail (when it was loaded, the last reload) is config-reload.test.ts's to check.
    const { config: _config, ...body } = (await res.json()) as Record<string, unknown>;
    const answer = { status: res.status, body };
    if (wanted(answer.body) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('cc-csat start with two servers', () => {
  test('logs each server, reports each in /readyz, stays ready while one is up, stops cleanly', { timeout: 60_000 }, async () => {
    const main = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
    const east = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
    const tree = treeWithAri(
      `${entry(`name = "main"\nurl = "${main.url}"\nreconnect_max_delay_ms = 500`)}\n${entry(`name = "east"\nurl = "${east.url}"\nreconnect_max_delay_ms = 500`)}`,
      { logLevel: 'info' },
    );
    const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir });
    let eastUp = true;
    try {
      const base = await engine.started();
      const configured = engine.logLines().filter((line) => line['msg'] === 'ARI server configured');
      assert.deepEqual(configured.map((line) => [line['server'], line['url']]), [['main', main.url], ['east', east.url]]);
      assert.deepEqual(await readyzUntil(base, (body) => body['ari'] === 'connected', 10_000), {
        status: 200,
        body: { status: 'ready', database: 'ok', ari: 'connected', ari_servers: { main: 'connected', east: 'connected' } },
      });
      await east.close();
      eastUp = false;
      assert.deepEqual(await readyzUntil(base, (body) => body['ari'] === 'degraded', 10_000), {
        status: 200,
        body: { status: 'ready', database: 'ok', ari: 'degraded', ari_servers: { main: 'connected', east: 'connecting' } },
      });
      await until(
        () => engine.logLines().some((line) => line['server'] === 'east' && line['msg'] === 'ARI event stream lost; reconnecting'),
        5000,
        () => `the lost server's reconnect logged under its name\n${engine.output()}`,
      );
    } finally {
      try {
        assert.equal(await engine.stop('SIGTERM'), 0, engine.output());
      } finally {
        await main.close();
        if (eastUp) await east.close();
      }
    }
    assert.match(engine.output(), /"msg":"stopped"/);
    const db = new SqliteDatabase(tree.dbPath, { readonly: true });
    try {
      assert.deepEqual(db.prepare("SELECT name FROM pragma_table_info('survey_outcome') WHERE name = 'server'").all(), [{ name: 'server' }]);
    } finally {
      db.close();
    }
  });
});

describe('survey_outcome.server on both databases', () => {
  const OUTCOME = {
    call_id: 'c-1', channel_id: 'ch-1', agent_id: 'a-1', queue_id: 'q-1', ivr: 'csat-survey', outcome: 'completed', reason: null,
    attempts: 1, last_step: 'bye', score: 5, started_at: '2026-11-27T10:00:00.000Z', ended_at: '2026-11-27T10:00:09.000Z',
  } as const;

  const storesTheServer = async (target: Parameters<typeof openStorage>[0]): Promise<void> => {
    const storage = await openStorage(target);
    try {
      assert.ok((await storage.migrate()).some((migration) => migration.name === 'outcome_server'), 'the migration adding server ran');
      await storage.outcomes.insert({ ...OUTCOME, server: 'pbx-east' });
      await storage.outcomes.insert({ ...OUTCOME, channel_id: 'ch-2' });
      const rows = await storage.outcomes.forCall('c-1');
      assert.deepEqual(rows.map((row) => [row.channel_id, row.server, row.score, row.ended_at]), [
        ['ch-1', 'pbx-east', 5, OUTCOME.ended_at],
        ['ch-2', null, 5, OUTCOME.ended_at],
      ]);
    } finally {
      await storage.close();
    }
  };

  test('SQLite: the compiled-once insert puts the server in its own column; left out, it is NULL', async () => {
    await storesTheServer({ kind: 'sqlite', path: `${makeTempDir()}/cc.db` });
  });

  test('PostgreSQL: the same', { skip: POSTGRES_SKIP }, async () => {
    const database = await createPostgresDatabase('outcome server');
    try {
      await storesTheServer({ kind: 'postgres', url: database.url, password: undefined, poolMax: 2, statementTimeoutMs: 30_000 });
    } finally {
      await database.drop();
    }
  });
});
