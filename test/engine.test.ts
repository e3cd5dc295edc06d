// The whole engine as a user runs it: `cc-csat start`, a caller through the ARI simulator,
// then the rating over HTTP and in the statistics after the scheduled result-service run.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { AriSimulator } from './ari-sim/simulator.js';
import { writeConfigTree } from './helpers/config-tree.js';
import { followScript } from './helpers/harness.js';
import { spawnEngine } from './helpers/engine-process.js';
import { within } from './helpers/wait.js';

test('cc-csat start: IVR rating stored, served by the API, in the stats after the scheduled run', async () => {
  const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
  const key = 'e2e-key';
  const tree = writeConfigTree({
    ariUrl: sim.url,
    logLevel: 'info',
    engineExtra: `
[results]
schedule = "* * * * * *"

[[api_keys]]
name = "e2e"
key_sha256 = "${createHash('sha256').update(key).digest('hex')}"
scopes = ["csat:read"]
`,
  });
  const engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir });
  try {
    const base = await engine.started();
    await sim.waitForClients(1);

    const channel = sim.enterStasis({ args: ['e2e-call', 'agent-e2e', 'sales-queue'] });
    followScript(sim, channel, [{ whenPlaying: 'rate-intro', after: 30, press: '1' }]);
    assert.equal(await within(channel.ended, 10_000, () => `the survey to end\n${engine.output()}`), 'app_hangup');

    const rating = await fetch(`${base}/cc/csat/e2e-call`, { headers: { 'x-api-key': key } });
    assert.equal(rating.status, 200);
    assert.deepEqual(await rating.json().then((r: any) => [r.score, r.agent_id, r.queue_id]), [5, 'agent-e2e', 'sales-queue']);

    let stats: { count: number; agent_ranking: Array<{ agent_id: string }> } = { count: 0, agent_ranking: [] };
    // The one-second schedule folds the rating in; poll the API as a supervisor's screen would.
    const deadline = Date.now() + 5000;
    while (stats.count !== 1 && Date.now() < deadline) {
      stats = (await (await fetch(`${base}/cc/csat/queue/sales-queue`, { headers: { 'x-api-key': key } })).json()) as typeof stats;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(stats.count, 1);
    assert.deepEqual(stats.agent_ranking.map((entry) => entry.agent_id), ['agent-e2e']);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  } finally {
    try {
      assert.equal(await engine.stop('SIGTERM'), 0, engine.output());
    } finally {
      await sim.close();
    }
  }
});
