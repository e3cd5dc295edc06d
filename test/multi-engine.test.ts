// Several `cc-csat start` processes on one PostgreSQL and two Asterisks (ARI simulators): one engine
// beside each Asterisk, a third connected to both under an app of its own (Asterisk gives an app to
// one connection). Every rating stored once, the result service on exactly one engine at a time,
// another engine taking over when that one is killed, and rollups that equal a full rebuild.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { AriSimulator, type SimChannel } from './ari-sim/simulator.js';
import { runCli } from './helpers/cli.js';
import { writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import { spawnEngine, type EngineProcess } from './helpers/engine-process.js';
import { followScript } from './helpers/harness.js';
import { createPostgresDatabase, POSTGRES_SKIP } from './helpers/postgres.js';
import { within } from './helpers/wait.js';

const KEY = 'multi-engine-key';
const LIMITED_KEY = 'multi-engine-limited-key';
const PROMPT = 'csat/rate-intro';
const ENGINES = 3;
const AGENTS = ['ana', 'bo', 'cy', 'di'];

/** Where callers reach an engine: an Asterisk, and the Stasis app the engine holds there. */
interface Entry {
  sim: AriSimulator;
  app: string;
}

interface Node {
  /** Its [[ari]] servers, each with the app it holds there. */
  entries: Entry[];
  tree: ConfigTree;
  engine: EngineProcess;
  base: string;
}

/** The tree's [ari] table replaced by one [[ari]] entry per Asterisk the engine connects to. */
function connectTo(tree: ConfigTree, entries: readonly Entry[], names: ReadonlyMap<AriSimulator, string>): void {
  const text = readFileSync(tree.enginePath, 'utf8');
  const start = text.indexOf('[ari]\n');
  const end = text.indexOf('[database]\n');
  assert.ok(start >= 0 && end > start, 'the tree has an [ari] table before [database]');
  const servers = entries.map(
    ({ sim, app }) => `[[ari]]\nname = "${names.get(sim)}"\nurl = "${sim.url}"\nusername = "csat"\npassword = "secret"\napp = "${app}"\nreconnect_max_delay_ms = 1000\n`,
  );
  writeFileSync(tree.enginePath, `${text.slice(0, start)}${servers.join('\n')}\n${text.slice(end)}`);
}

async function metric(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function leaders(nodes: readonly Node[]): Promise<Node[]> {
  const alive = nodes.filter((node) => node.engine.child.exitCode === null && node.engine.child.signalCode === null);
  const flags = await Promise.all(alive.map((node) => metric(node.base, 'cc_csat_result_service_leader')));
  return alive.filter((_, index) => flags[index] === 1);
}

/** Polls `check` (bounded): resolves with its first truthy answer. */
async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One caller into `entry`: the survey asks, the caller presses `key` (1 -> score 5 ... 5 -> score 1). */
function survey({ sim, app }: Entry, callId: string, agent: string, key: string): Promise<SimChannel> {
  const channel = sim.enterStasis({ app, args: [callId, agent, 'sales-queue'] });
  followScript(sim, channel, [{ whenPlaying: PROMPT, after: 20, press: key }]);
  return channel.ended.then(() => channel);
}

describe('several engines on one PostgreSQL', { skip: POSTGRES_SKIP }, () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const nodes: Node[] = [];
  const sims: AriSimulator[] = [];

  before(async () => {
    database = await createPostgresDatabase('multi');
    for (const _ of ['pbx-a', 'pbx-b']) sims.push(await new AriSimulator({ username: 'csat', password: 'secret' }).start());
    const [pbxA, pbxB] = sims as [AriSimulator, AriSimulator];
    const names = new Map([
      [pbxA, 'pbx-a'],
      [pbxB, 'pbx-b'],
    ]);
    const placement: Entry[][] = [
      [{ sim: pbxA, app: 'csat' }],
      [{ sim: pbxB, app: 'csat' }],
      [
        { sim: pbxA, app: 'csat-2' },
        { sim: pbxB, app: 'csat-2' },
      ],
    ];
    assert.equal(placement.length, ENGINES);
    for (let i = 0; i < ENGINES; i++) {
      const entries = placement[i]!;
      const tree = writeConfigTree({
        databaseUrl: database.url,
        logLevel: 'info',
        engineExtra: `
[engine]
id = "engine-${i}"

[results]
schedule = "* * * * * *"

[[api_keys]]
name = "test"
key_sha256 = "${createHash('sha256').update(KEY).digest('hex')}"
scopes = ["csat:read", "csat:write"]

[[api_keys]]
name = "limited"
key_sha256 = "${createHash('sha256').update(LIMITED_KEY).digest('hex')}"
scopes = ["csat:read"]
rate_limit_per_minute = 5
`,
      });
      connectTo(tree, entries, names);
      nodes.push({ entries, tree, engine: undefined as unknown as EngineProcess, base: '' });
    }
    // All at once: their migrations race on one empty database, as a fleet restarted together would.
    await Promise.all(
      nodes.map(async (node) => {
        node.engine = spawnEngine(['start', '--config', node.tree.enginePath], { cwd: node.tree.dir });
        node.base = await node.engine.started(30_000);
      }),
    );
    // Each Asterisk: the engine beside it and the one on both.
    for (const sim of sims) await sim.waitForClients(2);
    for (const node of nodes) for (const { sim, app } of node.entries) await eventually(async () => sim.applicationHeld(app), 10_000, `${app} held`);
  });

  after(async () => {
    for (const node of nodes) await node.engine?.stop('SIGTERM').catch(() => node.engine.child.kill('SIGKILL'));
    for (const sim of sims) await sim.close();
    await closeStorages();
    await database?.drop();
  });

  test('300 surveys over three engines and two Asterisks stored once each; the result-service leader killed mid-run: another takes over, its restart takes back its callers; rollups equal a full rebuild', async () => {
    const expected = new Map<string, { agent: string; score: number }>();
    const runSurveys = (targets: readonly Node[], count: number, prefix: string): Promise<SimChannel[]> =>
      Promise.all(
        Array.from({ length: count }, (_, i) => {
          const node = targets[i % targets.length]!;
          const entry = node.entries[Math.floor(i / targets.length) % node.entries.length]!;
          const key = String(1 + (i % 5));
          const callId = `${prefix}-${i}`;
          const agent = AGENTS[i % AGENTS.length]!;
          expected.set(callId, { agent, score: 6 - Number(key) });
          return survey(entry, callId, agent, key);
        }),
      );

    // Exactly one engine runs the result service.
    const [leader] = await eventually(async () => ((await leaders(nodes)).length === 1 ? leaders(nodes) : undefined), 15_000, 'exactly one result-service leader');
    assert.ok(leader);
    assert.equal((await leaders(nodes)).length, 1, 'never two leaders');

    await within(runSurveys(nodes, 150, 'first'), 60_000, '150 surveys over three engines');
    const others = nodes.filter((node) => node !== leader);
    // Callers on the leader's Asterisk who are being asked when it dies: they answer the question
    // the second time they hear it, from the engine restarted in its place.
    const stranded = Array.from({ length: 10 }, (_, i) => {
      const callId = `stranded-${i}`;
      expected.set(callId, { agent: 'ana', score: 3 });
      const { sim, app } = leader.entries[i % leader.entries.length]!;
      const channel = sim.enterStasis({ app, args: [callId, 'ana', 'sales-queue'] });
      let heard = 0;
      const asked = new Promise<void>((resolve) => {
        const listener = (ch: SimChannel, media: readonly string[]): void => {
          if (ch === channel && media.some((uri) => uri.includes(PROMPT)) && ++heard === 1) resolve();
        };
        sim.onPlaybackStarted.add(listener);
      });
      followScript(sim, channel, [{ whenPlaying: PROMPT, nth: 2, after: 20, press: '3' }]);
      return { channel, asked };
    });
    await within(Promise.all(stranded.map((caller) => caller.asked)), 10_000, 'the stranded callers to be asked');
    // The leader dies while surveys go on elsewhere, and (with a run every second) most likely inside a run.
    const secondWave = runSurveys(others, 150, 'second');
    await new Promise((resolve) => setTimeout(resolve, 300));
    leader.engine.child.kill('SIGKILL');
    await within(leader.engine.exited, 10_000, 'the killed engine to exit');
    await within(secondWave, 60_000, '150 more surveys on the surviving engines');

    const [successor] = await eventually(async () => {
      const now = await leaders(others);
      return now.length === 1 ? now : undefined;
    }, 20_000, 'another engine to take over the result service');
    assert.ok(successor && successor !== leader);

    // The killed engine restarted (same [engine] id): its claims are its own, so it takes its
    // stranded callers back at once, although their leases have not run out.
    leader.engine = spawnEngine(['start', '--config', leader.tree.enginePath], { cwd: leader.tree.dir });
    leader.base = await leader.engine.started(30_000);
    await within(Promise.all(stranded.map((caller) => caller.channel.ended)), 30_000, 'the stranded callers to be surveyed by the restarted engine');

    // Every rating stored exactly once, with the agent and score its caller gave.
    const rows = (await sql<{ call_id: string; agent_id: string; score: number }>`SELECT call_id, agent_id, score FROM cc_csat`.execute(await kysely(database.url))).rows;
    assert.equal(rows.length, 310);
    for (const row of rows) assert.deepEqual({ agent: row.agent_id, score: row.score }, expected.get(row.call_id), row.call_id);
    // Both Asterisks ran surveys, and each completed survey names the one it ran on.
    const byServer = (
      await sql<{ server: string; n: number }>`SELECT server, count(*)::int AS n FROM survey_outcome WHERE outcome = 'completed' GROUP BY server ORDER BY server`.execute(
        await kysely(database.url),
      )
    ).rows;
    assert.deepEqual(byServer.map((row) => row.server), ['pbx-a', 'pbx-b']);
    assert.equal(byServer.reduce((sum, row) => sum + row.n, 0), 310);

    // The successor's runs fold everything in; every surviving engine answers from the shared rollups.
    const expectedCount = 310;
    const statsUrl = '/cc/csat/queue/sales-queue?days=2';
    const answers = await eventually(async () => {
      const bodies = await Promise.all(nodes.map(async (node) => (await fetch(node.base + statsUrl, { headers: { 'x-api-key': KEY } })).json() as Promise<{ count: number }>));
      return bodies.every((body) => body.count === expectedCount) ? bodies : undefined;
    }, 20_000, 'every engine to report all 310 ratings');
    assert.deepEqual(answers[0], answers[1], 'one set of numbers, whichever engine answers');
    assert.deepEqual(answers[1], answers[2]);
    assert.deepEqual(await leaders(nodes), [successor], 'the restarted engine did not take the result service back');

    const incremental = await rollupTables(database.url);
    const full = await runCli(['aggregate', '--full', '--config', others[0]!.tree.enginePath], { cwd: others[0]!.tree.dir });
    assert.equal(full.code, 0, full.stderr);
    assert.deepEqual(await rollupTables(database.url), incremental, 'incremental runs across a leader change equal a full rebuild');
  });

  test("a key's rate limit holds across engines: what one engine let through counts on the others", async () => {
    const [first, second, third] = nodes as [Node, Node, Node];
    const get = (node: Node) => fetch(`${node.base}/cc/csat/queue/sales-queue`, { headers: { 'x-api-key': LIMITED_KEY }, signal: AbortSignal.timeout(5_000) });
    for (let i = 0; i < 5; i++) assert.equal((await get(first)).status, 200, `request ${i + 1} of 5 on the first engine`);
    assert.equal((await get(first)).status, 429, 'the sixth on the same engine');
    // Engines share their counts about every second. Asked once a second from now, another engine
    // refuses the key once it has heard: before that it may let one or two through, never the 5 its
    // own bucket holds (with nothing shared it lets exactly 5 through, then refuses).
    for (const other of [second, third]) {
      let letThrough = 0;
      const refused = await eventually(async () => {
        const answer = await get(other);
        if (answer.status === 429) return answer;
        assert.equal(answer.status, 200);
        letThrough++;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return undefined;
      }, 15_000, 'another engine to refuse the key used up on the first one');
      assert.ok(letThrough < 5, `another engine let ${letThrough} of the key's requests through: the first engine's use was not shared`);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    }
  });
});

const storages = new Map<string, Awaited<ReturnType<typeof import('../src/db/postgres/open.js').openPostgresStorage>>>();
async function closeStorages(): Promise<void> {
  for (const storage of storages.values()) await storage.close();
  storages.clear();
}

/** Kysely on the shared database, to read what the engines wrote. */
async function kysely(url: string) {
  let storage = storages.get(url);
  if (!storage) {
    const { openPostgresStorage } = await import('../src/db/postgres/open.js');
    storage = await openPostgresStorage({ url, poolMax: 2 });
    storages.set(url, storage);
  }
  return storage.db;
}

async function rollupTables(url: string) {
  const db = await kysely(url);
  return {
    rollup: (await sql`SELECT * FROM csat_rollup ORDER BY scope, period, queue_id, period_start, agent_id`.execute(db)).rows,
    queueAgents: (await sql`SELECT * FROM csat_queue_agent ORDER BY queue_id, agent_id`.execute(db)).rows,
  };
}
