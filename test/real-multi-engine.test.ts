// The real tier of scaling out: two real Asterisk 22 servers, an engine beside each, one PostgreSQL.
// SIP callers (sipp, RFC 4733 keys) through each Asterisk's queue are all stored once, with the
// server that ran them; the engine running the result service is killed and the other takes over;
// both answer the same numbers, and the rollups equal a full rebuild.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openPostgresStorage } from '../src/db/postgres/open.js';
import { runCli } from './helpers/cli.js';
import { writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import { spawnEngine, type EngineProcess } from './helpers/engine-process.js';
import { createPostgresDatabase, POSTGRES_ADMIN_URL } from './helpers/postgres.js';
import { ARI_PASSWORD, RealAsterisk, SALES_QUEUE, SHIPPED_IVR, eventually, killOnExit } from './helpers/real-asterisk.js';
import { within } from './helpers/wait.js';

const ASTERISK = process.env['CC_CSAT_ASTERISK'];
const SKIP =
  ASTERISK && POSTGRES_ADMIN_URL
    ? false
    : 'real multi-engine tier skipped: set CC_CSAT_ASTERISK (../shared/asterisk/install.sh) and CC_CSAT_POSTGRES_URL (bash .ci/postgres.sh); bash .ci/run sets both';

const KEY = 'real-multi-engine-key';

interface Side {
  name: string;
  asterisk: RealAsterisk;
  tree: ConfigTree;
  engine: EngineProcess;
  base: string;
}

const alive = (side: Side): boolean => side.engine.child.exitCode === null && side.engine.child.signalCode === null;

async function isLeader(side: Side): Promise<boolean> {
  const text = await (await fetch(`${side.base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  return text.split('\n').includes('cc_csat_result_service_leader 1');
}

describe('real Asterisk 22 x2, two engines, one PostgreSQL', { skip: SKIP }, () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let storage: Awaited<ReturnType<typeof openPostgresStorage>>;
  const sides: Side[] = [];

  before(async () => {
    database = await createPostgresDatabase('real_multi');
    storage = await openPostgresStorage({ url: database.url, poolMax: 2 });
    for (const name of ['pbx-a', 'pbx-b']) {
      const asterisk = await RealAsterisk.start(ASTERISK!);
      // Two Asterisks started together hand out the same ${UNIQUEID}s (epoch.sequence): the call ids
      // would collide. A systemname per server prefixes them, as README "Scaling out" asks of operators.
      await asterisk.restart(async () => {
        const conf = join(asterisk.etcDir, 'asterisk.conf');
        writeFileSync(conf, readFileSync(conf, 'utf8').replace('[options]\n', `[options]\nsystemname=${name}\n`));
      });
      const tree = writeConfigTree({
        ariUrl: asterisk.ariUrl,
        ariPassword: ARI_PASSWORD,
        ariExtra: `name = "${name}"`,
        databaseUrl: database.url,
        queues: SALES_QUEUE,
        ivrs: { 'csat-survey': SHIPPED_IVR },
        logLevel: 'info',
        engineExtra: `
[engine]
id = "engine-${name}"

[results]
schedule = "* * * * * *"

[[api_keys]]
name = "test"
key_sha256 = "${createHash('sha256').update(KEY).digest('hex')}"
scopes = ["csat:read"]
`,
      });
      sides.push({ name, asterisk, tree, engine: undefined as unknown as EngineProcess, base: '' });
    }
    await Promise.all(
      sides.map(async (side) => {
        side.engine = spawnEngine(['start', '--config', side.tree.enginePath], { cwd: side.tree.dir });
        killOnExit(side.engine.child);
        side.base = await side.engine.started(30_000);
        await eventually(async () => (await fetch(`${side.base}/readyz`)).status === 200, 60_000, () => `${side.name} ready\n${side.engine.output().slice(-3000)}`, 200);
      }),
    );
  });

  after(async () => {
    for (const side of sides) side.engine?.child.kill('SIGKILL');
    await Promise.all(sides.map((side) => side.engine && within(side.engine.exited, 10_000, 'an engine to exit')));
    for (const side of sides) await side.asterisk.close();
    await storage?.close();
    await database?.drop();
  });

  test('SIP callers on both servers stored once with their server; the leader killed, the other takes over; rollups equal a full rebuild', async () => {
    const [a, b] = sides as [Side, Side];
    // Key 4 (score 2) through Asterisk A, key 2 (score 4) through Asterisk B, at the same time.
    const runs = await Promise.all([a.asterisk.sipp({ digit: '4', calls: 15, rate: 5 }), b.asterisk.sipp({ digit: '2', calls: 15, rate: 5 })]);
    for (const run of runs) assert.equal(run.code, 0, `sipp: every call ended with cc-csat's BYE\n${run.output.slice(-1500)}\n${sides.map((side) => side.engine.output().slice(-3000)).join('\n')}`);
    const stored = async () =>
      (await sql<{ server: string; score: number; n: number }>`
        SELECT o.server, r.score, count(*)::int AS n FROM cc_csat r JOIN survey_outcome o ON o.call_id = r.call_id
        GROUP BY o.server, r.score ORDER BY o.server`.execute(storage.db)).rows;
    await eventually(async () => (await stored()).reduce((sum, row) => sum + row.n, 0) === 30, 30_000, 'all 30 ratings with their outcomes', 200);
    assert.deepEqual(await stored(), [
      { server: 'pbx-a', score: 2, n: 15 },
      { server: 'pbx-b', score: 4, n: 15 },
    ]);

    const leader = await eventually(async () => {
      const flags = await Promise.all(sides.map(isLeader));
      return flags.filter(Boolean).length === 1 ? sides[flags.indexOf(true)] : undefined;
    }, 20_000, 'exactly one engine running the result service', 200);
    const survivor = leader === a ? b : a;
    leader!.engine.child.kill('SIGKILL');
    await within(leader!.engine.exited, 10_000, 'the killed engine to exit');
    await eventually(() => isLeader(survivor), 20_000, 'the surviving engine to take over the result service', 200);

    // The survivor keeps surveying on its own server and folds everything into the shared rollups.
    const more = await survivor.asterisk.sipp({ digit: '1', calls: 5, rate: 5 });
    assert.equal(more.code, 0, more.output);
    const answer = await eventually(async () => {
      const body = (await (await fetch(`${survivor.base}/cc/csat/queue/sales-queue?days=2`, { headers: { 'x-api-key': KEY } })).json()) as { count: number; distribution: Record<string, number> };
      return body.count === 35 ? body : undefined;
    }, 30_000, 'the surviving engine to count all 35 ratings', 200);
    assert.deepEqual(answer.distribution, { '1': 0, '2': 15, '3': 0, '4': 15, '5': 5 });

    const tables = async () => ({
      rollup: (await sql`SELECT * FROM csat_rollup ORDER BY scope, period, queue_id, period_start, agent_id`.execute(storage.db)).rows,
    });
    const incremental = await tables();
    const full = await runCli(['aggregate', '--full', '--config', survivor.tree.enginePath], { cwd: survivor.tree.dir });
    assert.equal(full.code, 0, full.stderr);
    assert.deepEqual(await tables(), incremental);
    assert.ok(alive(survivor));
  });
});
