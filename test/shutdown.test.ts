// SIGTERM/SIGINT on the real `cc-csat start` process: no new surveys, live ones finish, exit 0.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { until, within } from './helpers/wait.js';
import SqliteDatabase from 'better-sqlite3';
import { AriSimulator } from './ari-sim/simulator.js';
import { spawnEngine, type EngineProcess } from './helpers/engine-process.js';
import { writeConfigTree } from './helpers/config-tree.js';

const engines: EngineProcess[] = [];

function startEngine(enginePath: string, cwd: string): EngineProcess {
  const engine = spawnEngine(['start', '--config', enginePath], { cwd });
  engines.push(engine);
  return engine;
}

// A slow question so the survey is still live when the signal arrives.
const SLOW_IVR = `
[[step]]
id = "ask"
type = "collect"
prompt = ["sound:csat/rate-intro"]
digits = "12345"
scores = { "1" = 5, "2" = 4, "3" = 3, "4" = 2, "5" = 1 }
timeout_ms = 3000
max_retries = 1
next = "thanks"

[[step]]
id = "thanks"
type = "play"
media = ["sound:csat/thank-you"]
`;

describe('graceful shutdown of cc-csat start', () => {
  afterEach(() => {
    for (const engine of engines.splice(0)) engine.child.kill('SIGKILL');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal}: a live survey finishes and is stored, a new caller goes back to the dialplan, exit 0`, async () => {
      const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
      const tree = writeConfigTree({ ariUrl: sim.url, ivrs: { survey: SLOW_IVR }, logLevel: 'info' });
      const engine = startEngine(tree.enginePath, tree.dir);
      try {
        await sim.waitForClients(1);
        const live = sim.enterStasis({ args: [`live-${signal}`, 'agent-1', 'sales-queue'] });
        await until(() => live.played.length === 1, 5000, 'the question');
        engine.child.kill(signal);
        // Signal delivery is asynchronous: wait until the engine says it stopped taking surveys.
        await until(() => engine.output().includes('shutting down: no new surveys'), 10_000, () => `the shutdown log line in:\n${engine.output()}`);
        const late = sim.enterStasis({ args: [`late-${signal}`, 'agent-1', 'sales-queue'] });
        assert.equal(await within(late.ended, 10_000, engine.output), 'continued', 'a caller arriving during shutdown is not surveyed');
        sim.press(live, '2');
        assert.equal(await within(live.ended, 10_000, engine.output), 'app_hangup');
        assert.equal(await within(engine.exited, 15_000, engine.output), 0, engine.output());
        assert.deepEqual(live.played, [['sound:csat/rate-intro'], ['sound:csat/thank-you']], 'the live caller heard the survey through');
        const db = new SqliteDatabase(tree.dbPath, { readonly: true });
        assert.deepEqual(db.prepare('SELECT call_id, score FROM cc_csat').all(), [{ call_id: `live-${signal}`, score: 4 }]);
        assert.deepEqual(db.prepare('SELECT call_id, outcome, reason FROM survey_outcome ORDER BY id').all(), [
          { call_id: `late-${signal}`, outcome: 'skipped', reason: 'shutting_down' },
          { call_id: `live-${signal}`, outcome: 'completed', reason: null },
        ]);
        db.close();
        const lines = engine.output().trim().split('\n').map((line) => {
          assert.doesNotThrow(() => JSON.parse(line), `output is JSON lines: ${line}`);
          return JSON.parse(line) as { msg: string; signal?: string; live_surveys?: number };
        });
        const shutdown = lines.find((line) => line.msg.startsWith('shutting down'));
        assert.deepEqual([shutdown?.signal, shutdown?.live_surveys], [signal, 1]);
        assert.equal(lines.at(-1)?.msg, 'stopped');
      } finally {
        await sim.close();
      }
    });
  }

  test('SIGTERM deadline: a survey still running after shutdown_grace_ms is hung up and recorded, exit 0', async () => {
    const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
    const tree = writeConfigTree({ ariUrl: sim.url, ivrs: { survey: SLOW_IVR }, engineExtra: '[survey]\nshutdown_grace_ms = 400\n' });
    const engine = startEngine(tree.enginePath, tree.dir);
    try {
      await sim.waitForClients(1);
      const live = sim.enterStasis({ args: ['deadline-1', 'agent-1', 'sales-queue'] });
      await until(() => live.played.length === 1, 5000, 'the question');
      const signalledAt = Date.now();
      engine.child.kill('SIGTERM');
      assert.equal(await within(live.ended, 10_000, engine.output), 'app_hangup');
      assert.equal(await within(engine.exited, 15_000, engine.output), 0, engine.output());
      const took = Date.now() - signalledAt;
      assert.ok(took >= 400 && took < 3000, `exited after the grace period (${took} ms)`);
      const db = new SqliteDatabase(tree.dbPath, { readonly: true });
      assert.deepEqual(db.prepare('SELECT outcome, reason FROM survey_outcome').all(), [{ outcome: 'failed', reason: 'shutdown_deadline' }]);
      db.close();
    } finally {
      await sim.close();
    }
  });
});
