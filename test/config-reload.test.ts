// Ops edit queues.toml and ivr/*.toml while calls run: `cc-csat start` takes the new config on
// SIGHUP, on a file change, or when `cc-csat reload` asks. A bad edit changes nothing for callers;
// it shows in /metrics, /readyz and the reload's answer. A survey already running finishes on the IVR
// it started with. Real engine processes against the ARI simulator.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { AriSimulator, type SimChannel } from './ari-sim/simulator.js';
import { runCli } from './helpers/cli.js';
import { TEST_IVR, TEST_QUEUES, writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import { spawnEngine, type EngineProcess } from './helpers/engine-process.js';
import { followScript } from './helpers/harness.js';
import { freePort, within } from './helpers/wait.js';
import { reloadRefusal } from '../src/http/reload-route.js';
import { loadConfig } from '../src/config/load.js';
import { ConfigReloader } from '../src/config/reloader.js';
import { createLogger } from '../src/log.js';
import { SurveyConfigHolder } from '../src/survey/survey-config.js';
import { LogCapture } from './helpers/harness.js';

/** A caller may think for a while: long enough for a reload to happen mid-question. */
const PATIENT_IVR = TEST_IVR.replace('timeout_ms = 600', 'timeout_ms = 15000');
/** The same survey, edited: every prompt renamed, so what a caller heard tells which version ran. */
const EDITED_IVR = PATIENT_IVR.replaceAll('sound:csat/', 'sound:csat-v2/');

const SUPPORT_QUEUE = `
[[queue]]
name = "support-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"
`;

interface Running {
  sim: AriSimulator;
  tree: ConfigTree;
  engine: EngineProcess;
  base: string;
  close(): Promise<void>;
}

async function startEngine(options: { ivrs?: Record<string, string> } = {}): Promise<Running> {
  const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
  // A fixed port: `cc-csat reload` finds the engine through engine.toml's [http].
  const tree = writeConfigTree({ ariUrl: sim.url, logLevel: 'info', httpPort: await freePort(), ivrs: options.ivrs ?? { survey: PATIENT_IVR } });
  const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir });
  try {
    const base = await engine.started();
    await sim.waitForClients(1);
    // The WebSocket is up before the engine has resynced its channels and calls itself ready.
    const readyBy = Date.now() + 10_000;
    while ((await readyz(base)).status !== 200) {
      if (Date.now() > readyBy) throw new Error(`timed out waiting for /readyz 200\n${engine.output()}`);
      await sleep(50);
    }
    return {
      sim,
      tree,
      engine,
      base,
      async close() {
        try {
          assert.equal(await engine.stop('SIGTERM'), 0, engine.output());
        } finally {
          await sim.close();
        }
      },
    };
  } catch (err) {
    engine.child.kill('SIGKILL');
    await sim.close();
    throw err;
  }
}

/** As an editor saves: a new file renamed over the old one (the old inode is gone). */
function saveByRename(path: string, text: string): void {
  writeFileSync(`${path}.tmp-save`, text);
  renameSync(`${path}.tmp-save`, path);
}

const queuesPath = (tree: ConfigTree): string => join(tree.dir, 'config', 'queues.toml');
const ivrPath = (tree: ConfigTree, name: string): string => join(tree.dir, 'ivr', `${name}.toml`);

async function readyz(base: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: await res.json() };
}

async function metric(base: string, series: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((each) => each.startsWith(`${series} `));
  assert.ok(line, `${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

/** Polls /readyz until its last reload matches; bounded. */
async function lastReload(running: Running, matches: (last: any) => boolean, what: string): Promise<any> {
  const deadline = Date.now() + 8_000;
  for (;;) {
    const { body } = await readyz(running.base);
    if (body.config?.last_reload && matches(body.config.last_reload)) return body.config.last_reload;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(body.config)}\n${running.engine.output()}`);
    await sleep(50);
  }
}

const played = (channel: SimChannel): string[] => channel.played.flat();

/** A caller of `queue` who presses 1 when asked (whichever version of the prompt); resolves once the call has ended. */
async function callFrom(running: Running, queue: string, callId: string): Promise<SimChannel> {
  const { sim } = running;
  const channel = sim.enterStasis({ args: [callId, 'agent-7', queue] });
  const stop = followScript(sim, channel, [{ whenPlaying: 'rate-keys', after: 20, press: '1' }]);
  try {
    await within(channel.ended, 10_000, () => `call ${callId} to end\n${running.engine.output()}`);
  } finally {
    stop();
  }
  return channel;
}

describe('config reload: queues and IVRs change while the engine runs', () => {
  test('SIGHUP: a queue added to queues.toml is surveyed from the next caller on', async () => {
    const running = await startEngine();
    try {
      const before = await callFrom(running, 'support-queue', 'call-before');
      assert.equal(before.endedBy, 'continued', 'an unknown queue gets no survey');

      writeFileSync(queuesPath(running.tree), TEST_QUEUES + SUPPORT_QUEUE);
      running.engine.child.kill('SIGHUP');
      const last = await lastReload(running, (each) => each.trigger === 'signal', 'the SIGHUP reload');
      assert.equal(last.result, 'ok');

      const after = await callFrom(running, 'support-queue', 'call-after');
      assert.equal(after.endedBy, 'app_hangup');
      assert.ok(played(after).includes('sound:csat/thank-you'), `surveyed to the end: ${played(after)}`);
      assert.ok((await metric(running.base, 'cc_csat_config_reload_total{result="ok"}')) >= 1);
      assert.equal(await metric(running.base, 'cc_csat_config_last_reload_successful'), 1);
      assert.equal(running.engine.child.exitCode, null, 'SIGHUP does not stop the engine');
    } finally {
      await running.close();
    }
  });

  test('without a signal: a new IVR file and a queue using it, saved by rename, are picked up', async () => {
    const running = await startEngine();
    try {
      writeFileSync(ivrPath(running.tree, 'support-survey'), EDITED_IVR);
      saveByRename(queuesPath(running.tree), TEST_QUEUES + SUPPORT_QUEUE.replace('csat_ivr = "survey"', 'csat_ivr = "support-survey"'));
      const last = await lastReload(running, (each) => each.trigger === 'file_change' && each.result === 'ok', 'the file-change reload');
      assert.deepEqual(last.problems, []);

      const channel = await callFrom(running, 'support-queue', 'call-watched');
      assert.equal(channel.endedBy, 'app_hangup');
      assert.ok(played(channel).includes('sound:csat-v2/thank-you'), `the new IVR ran: ${played(channel)}`);
      // The queue that was there keeps its own IVR.
      const sales = await callFrom(running, 'sales-queue', 'call-sales');
      assert.ok(played(sales).includes('sound:csat/thank-you'), played(sales).join(' '));
    } finally {
      await running.close();
    }
  });

  test('a bad edit keeps the running config; /metrics, /readyz, the log and cc-csat reload say what is wrong', async () => {
    const running = await startEngine();
    const { tree, base } = running;
    try {
      const readyBefore = await readyz(base);
      assert.equal(readyBefore.status, 200);
      assert.equal(readyBefore.body.config.last_reload, null);
      assert.equal(await metric(base, 'cc_csat_config_reload_total{result="error"}'), 0);

      // A typo in an IVR name: the queue points at nothing.
      writeFileSync(queuesPath(tree), TEST_QUEUES.replace('csat_ivr = "survey"', 'csat_ivr = "survy"'));
      const checked = await runCli(['check-config', '--config', tree.enginePath], { cwd: tree.dir });
      assert.equal(checked.code, 1);
      const checkConfigProblems = checked.stderr.trim().split('\n').slice(1).map((line) => line.trim());
      assert.ok(checkConfigProblems.some((line) => line.startsWith('config/queues.toml:')), checked.stderr);

      const reload = await runCli(['reload', '--config', tree.enginePath], { cwd: tree.dir });
      assert.equal(reload.code, 1, `${reload.stdout}\n${reload.stderr}`);
      assert.deepEqual(reload.stderr.trim().split('\n').slice(1).map((line) => line.trim()), checkConfigProblems, 'the problems as check-config prints them');

      const ready = await readyz(base);
      assert.equal(ready.status, 200, 'a rejected reload does not make the engine unready');
      assert.equal(ready.body.config.last_reload.result, 'error');
      assert.deepEqual(ready.body.config.last_reload.problems, checkConfigProblems);
      // The watcher may have seen the edit before `reload` asked: one or two rejected reloads, no good one.
      assert.ok((await metric(base, 'cc_csat_config_reload_total{result="error"}')) >= 1);
      assert.equal(await metric(base, 'cc_csat_config_reload_total{result="ok"}'), 0);
      assert.equal(await metric(base, 'cc_csat_config_last_reload_successful'), 0);
      const logged = running.engine.logLines().find((line) => Array.isArray(line['problems']));
      assert.deepEqual(logged?.['problems'], checkConfigProblems, 'the engine log carries the same problems');

      // Callers are still surveyed on the config that was running.
      const channel = await callFrom(running, 'sales-queue', 'call-kept');
      assert.equal(channel.endedBy, 'app_hangup');
      assert.ok(played(channel).includes('sound:csat/thank-you'), played(channel).join(' '));

      // Fixed, and asked again: ok.
      writeFileSync(queuesPath(tree), TEST_QUEUES + SUPPORT_QUEUE);
      const fixed = await runCli(['reload', '--config', tree.enginePath], { cwd: tree.dir });
      assert.equal(fixed.code, 0, `${fixed.stdout}\n${fixed.stderr}`);
      assert.match(fixed.stdout, /ok/);
      assert.equal((await readyz(base)).body.config.last_reload.result, 'ok');
      assert.equal(await metric(base, 'cc_csat_config_last_reload_successful'), 1);
      assert.equal((await callFrom(running, 'support-queue', 'call-fixed')).endedBy, 'app_hangup');
    } finally {
      await running.close();
    }
  });

  test('a survey running during a reload finishes on the IVR it started with; the next caller hears the new one', async () => {
    const running = await startEngine();
    const { sim, tree } = running;
    try {
      const early = sim.enterStasis({ args: ['call-early', 'agent-7', 'sales-queue'] });
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => (played(early).includes('sound:csat/rate-keys') ? resolve() : void setTimeout(check, 10));
          check();
        }),
        10_000,
        () => `the first caller to be asked\n${running.engine.output()}`,
      );

      writeFileSync(ivrPath(tree, 'survey'), EDITED_IVR);
      const reload = await runCli(['reload', '--config', tree.enginePath], { cwd: tree.dir });
      assert.equal(reload.code, 0, `${reload.stdout}\n${reload.stderr}`);

      sim.press(early, '1');
      assert.equal(await within(early.ended, 10_000, () => `the first caller's survey to end\n${running.engine.output()}`), 'app_hangup');
      assert.ok(played(early).includes('sound:csat/thank-you'), `old IVR to the end: ${played(early)}`);
      assert.ok(!played(early).some((uri) => uri.includes('csat-v2/')), `nothing of the new IVR: ${played(early)}`);

      const late = await callFrom(running, 'sales-queue', 'call-late');
      assert.ok(played(late).includes('sound:csat-v2/rate-intro'), played(late).join(' '));
      assert.ok(played(late).includes('sound:csat-v2/thank-you'), played(late).join(' '));
    } finally {
      await running.close();
    }
  });

  test('POST /-/reload: refused through a proxy or from a web page, answered to a local client', async () => {
    const running = await startEngine();
    const { base } = running;
    try {
      const proxiedOrBrowser: Array<Record<string, string>> = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { origin: 'http://evil.example' }];
      for (const headers of proxiedOrBrowser) {
        const res = await fetch(`${base}/-/reload`, { method: 'POST', headers });
        assert.equal(res.status, 403, JSON.stringify(headers));
        assert.equal(typeof ((await res.json()) as { detail: unknown }).detail, 'string');
      }
      assert.equal(await metric(base, 'cc_csat_config_reload_total{result="ok"}'), 0, 'a refused request reloads nothing');
      assert.equal((await readyz(base)).body.config.last_reload, null);

      const local = await runCli(['reload', '--config', running.tree.enginePath], { cwd: running.tree.dir });
      assert.equal(local.code, 0, `${local.stdout}\n${local.stderr}`);
      assert.equal(await metric(base, 'cc_csat_config_reload_total{result="ok"}'), 1);
    } finally {
      await running.close();
    }
  });

  test('reload guard: only this host, directly', () => {
    assert.equal(reloadRefusal({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1' }, {}), undefined);
    assert.equal(reloadRefusal({ remoteAddress: '::ffff:127.0.0.1', localAddress: '::ffff:127.0.0.1' }, {}), undefined);
    assert.equal(reloadRefusal({ remoteAddress: '::1', localAddress: '::1' }, {}), undefined);
    // The API bound to a LAN address, reached from this host: the same address on both ends.
    assert.equal(reloadRefusal({ remoteAddress: '10.1.2.3', localAddress: '10.1.2.3' }, {}), undefined);
    assert.equal(typeof reloadRefusal({ remoteAddress: '10.1.2.9', localAddress: '10.1.2.3' }, {}), 'string');
    assert.equal(typeof reloadRefusal({ remoteAddress: '::ffff:192.0.2.7', localAddress: '::ffff:192.0.2.1' }, {}), 'string');
    assert.equal(typeof reloadRefusal({ remoteAddress: undefined, localAddress: '127.0.0.1' }, {}), 'string');
    assert.equal(typeof reloadRefusal({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1' }, { 'x-real-ip': '198.51.100.4' }), 'string');
    assert.equal(typeof reloadRefusal({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1' }, { 'sec-fetch-site': 'cross-site' }), 'string');
  });
});

describe('ConfigReloader: what engine.toml edits do', () => {
  function reloaderOn(tree: ConfigTree) {
    const load = () => loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
    const running = load();
    const holder = new SurveyConfigHolder(running);
    const logs = new LogCapture();
    const reloader = new ConfigReloader({ running, load, cwd: tree.dir, holder, log: createLogger('info', logs.stream) });
    return { reloader, holder, running };
  }
  const engineText = (tree: ConfigTree): string => readFileSync(tree.enginePath, 'utf8');

  test('an engine.toml setting changed: queues still reload, the outcome says engine.toml waits for a restart', () => {
    const tree = writeConfigTree();
    const { reloader, holder } = reloaderOn(tree);
    writeFileSync(tree.enginePath, `${engineText(tree)}\n[api]\nrate_limit_per_minute = 77\n`);
    writeFileSync(queuesPath(tree), TEST_QUEUES + SUPPORT_QUEUE);
    const outcome = reloader.reload('signal');
    assert.equal(outcome.result, 'ok', outcome.problems.join('\n'));
    assert.equal(outcome.engineFileChanged, true);
    assert.ok(holder.current().queues.has('support-queue'));
  });

  test('[paths] changed: refused until a restart, the running queues stay', () => {
    const tree = writeConfigTree();
    const { reloader, holder, running } = reloaderOn(tree);
    const elsewhere = writeConfigTree({ queues: TEST_QUEUES + SUPPORT_QUEUE });
    writeFileSync(tree.enginePath, engineText(tree).replace(/^queues = .*$/m, `queues = "${queuesPath(elsewhere)}"`));
    const outcome = reloader.reload('request');
    assert.equal(outcome.result, 'error');
    assert.ok(outcome.problems.some((line) => line.startsWith('config/engine.toml: paths:')), outcome.problems.join('\n'));
    assert.equal(holder.current().queues, running.queues);
    // /readyz names engine.toml without repeating what it holds.
    assert.deepEqual(reloader.status().last_reload?.problems, ['config/engine.toml: invalid (details in the engine log)']);
  });

  test('a running survey holds its Ivr: a reload hands out new objects, never changes the old ones', () => {
    const tree = writeConfigTree({ ivrs: { survey: PATIENT_IVR } });
    const { reloader, holder } = reloaderOn(tree);
    const before = holder.current().ivrs.get('survey')!;
    const promptsBefore = JSON.stringify(before);
    writeFileSync(ivrPath(tree, 'survey'), EDITED_IVR);
    assert.equal(reloader.reload('signal').result, 'ok');
    assert.notEqual(holder.current().ivrs.get('survey'), before);
    assert.equal(JSON.stringify(before), promptsBefore);
    assert.ok(JSON.stringify(holder.current().ivrs.get('survey')).includes('csat-v2/'));
  });
});

describe('cc-csat reload: the command', () => {
  test('--help, an unknown option (exit 2), no engine listening (exit 1)', async () => {
    const tree = writeConfigTree({ httpPort: await freePort() });
    const help = await runCli(['reload', '--help'], { cwd: tree.dir });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: cc-csat reload/);
    const unknown = await runCli(['reload', '--config', tree.enginePath, '--now'], { cwd: tree.dir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--now/);
    const nobody = await runCli(['reload', '--config', tree.enginePath], { cwd: tree.dir });
    assert.equal(nobody.code, 1, nobody.stderr);
    assert.equal(nobody.stdout, '');
    assert.notEqual(nobody.stderr, '');
  });

  test('needs only engine.toml: the ARI password variable the engine has and this shell lacks does not stop it', async () => {
    const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
    const tree = writeConfigTree({ ariUrl: sim.url, logLevel: 'info', httpPort: await freePort() });
    writeFileSync(tree.enginePath, readFileSync(tree.enginePath, 'utf8').replace('password = "secret"', 'password_env = "ARI_PASSWORD"'));
    const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir, env: { ARI_PASSWORD: 'secret' } });
    try {
      await engine.started();
      const checked = await runCli(['check-config', '--config', tree.enginePath], { cwd: tree.dir });
      assert.equal(checked.code, 1, 'the full check needs the variable');
      const reload = await runCli(['reload', '--config', tree.enginePath], { cwd: tree.dir });
      assert.equal(reload.code, 0, `${reload.stdout}\n${reload.stderr}`);
    } finally {
      try {
        assert.equal(await engine.stop('SIGTERM'), 0, engine.output());
      } finally {
        await sim.close();
      }
    }
  });
});
