// API key roles and scopes, agent-bound keys, and config/teams.toml: what the config accepts and
// refuses (and how check-config says so), what each role may read over HTTP on both databases, and
// teams following a config reload.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/problems.js';
import { DATABASES, KEY_AGENT_ID, KEYS, startApi, type ApiHarness } from './helpers/api.js';
import { writeConfigTree } from './helpers/config-tree.js';

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const keyEntry = (name: string, lines: string): string => `\n[[api_keys]]\nname = "${name}"\nkey_sha256 = "${sha(name)}"\n${lines}\n`;

function load(options: { engineExtra?: string; teams?: string }) {
  const tree = writeConfigTree(options.engineExtra === undefined ? {} : { engineExtra: options.engineExtra });
  if (options.teams !== undefined) writeFileSync(join(tree.dir, 'config', 'teams.toml'), options.teams);
  return { tree, load: () => loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} }) };
}

function problemsOf(options: { engineExtra?: string; teams?: string }): string[] {
  try {
    load(options).load();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  return [];
}

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** `cc-csat check-config` from the sources, in the tree as working directory. */
function checkConfig(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO, 'src', 'bin.ts'), 'check-config'], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`check-config did not exit within 30 s\n${stdout}\n${stderr}`));
    }, 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('config: API key roles', () => {
  test('a role stands for its scopes; an agent key is bound to its agent', () => {
    const { load: read } = load({
      engineExtra:
        keyEntry('boss', 'role = "admin"') +
        keyEntry('lead', 'role = "supervisor"') +
        keyEntry('bi', 'role = "reporting"') +
        keyEntry('ana', 'role = "agent"\nagent_id = "agent-001"') +
        keyEntry('old', 'scopes = ["csat:read", "csat:write"]'),
    });
    const keys = read().engine.api_keys.map((key) => ({ name: key.name, scopes: [...key.scopes].sort(), agent_id: key.agent_id }));
    assert.deepEqual(keys, [
      { name: 'boss', scopes: ['csat:admin', 'csat:export', 'csat:read', 'csat:recordings', 'csat:write'], agent_id: undefined },
      { name: 'lead', scopes: ['csat:export', 'csat:read', 'csat:recordings'], agent_id: undefined },
      { name: 'bi', scopes: ['csat:export', 'csat:read'], agent_id: undefined },
      { name: 'ana', scopes: ['csat:read', 'csat:recordings'], agent_id: 'agent-001' },
      { name: 'old', scopes: ['csat:read', 'csat:write'], agent_id: undefined },
    ]);
  });

  test('role and scopes together, neither, an agent without agent_id, agent_id on another role, an unknown role: refused, naming the entry and field', () => {
    const cases: Array<[string, string]> = [
      [keyEntry('both', 'role = "reporting"\nscopes = ["csat:read"]'), 'config/engine.toml: api_keys[0].scopes: API key "both": set either role or scopes, not both'],
      [keyEntry('bare', ''), 'config/engine.toml: api_keys[0].role: API key "bare": needs role (admin, supervisor, reporting, agent) or scopes'],
      [keyEntry('floor', 'role = "agent"'), 'config/engine.toml: api_keys[0].agent_id: API key "floor": is required with role = "agent" (the agent whose calls the key may read)'],
      [keyEntry('bi', 'role = "reporting"\nagent_id = "agent-001"'), 'config/engine.toml: api_keys[0].agent_id: API key "bi": only a key with role = "agent" is bound to an agent'],
      [keyEntry('ok', 'role = "admin"') + keyEntry('boss', 'role = "boss"'), 'config/engine.toml: api_keys[1].role: must be one of admin, supervisor, reporting, agent'],
      [keyEntry('x', 'scopes = ["csat:listen"]'), 'config/engine.toml: api_keys[0].scopes[0]: Invalid option: expected one of "csat:read"|"csat:write"|"csat:export"|"csat:recordings"|"csat:admin"'],
    ];
    for (const [engineExtra, expected] of cases) assert.deepEqual(problemsOf({ engineExtra }), [expected], engineExtra);
  });
});

describe('config: teams.toml', () => {
  test('teams load in file order, name defaulting to the id; without the file there are none', () => {
    const { load: read } = load({ teams: '[[team]]\nid = "north"\nname = "North floor"\nagents = ["agent-001", "agent-002"]\n\n[[team]]\nid = "south"\nagents = ["agent-002"]\n' });
    const config = read();
    assert.deepEqual([...config.teams.values()], [
      { id: 'north', name: 'North floor', agents: ['agent-001', 'agent-002'] },
      { id: 'south', name: 'south', agents: ['agent-002'] },
    ]);
    assert.ok(Object.isFrozen(config.teams.get('north')!.agents));
    assert.equal(load({}).load().teams.size, 0);
  });

  test('a duplicate team, an agent listed twice, a bad id, an unknown key: refused, naming teams.toml and the path', () => {
    const problems = problemsOf({
      teams: `
[[team]]
id = "north"
agents = ["a", "b", "a"]

[[team]]
id = "north"

[[team]]
id = "has space"
colour = "red"
`,
    });
    assert.deepEqual(problems, [
      'config/teams.toml: team[2].id: must be 1 to 64 letters, digits, ".", "_" or "-" (it is part of the URL /cc/csat/team/<id>)',
      'config/teams.toml: team[2]: unknown key "colour"; known keys: id, name, agents',
      'config/teams.toml: team[0].agents: lists agent "a" twice',
      'config/teams.toml: team[1].id: duplicate team "north" (first defined at team[0])',
    ]);
    assert.deepEqual(problemsOf({ teams: '[[team]\nid = "x"' }).length, 1);
    assert.match(problemsOf({ teams: '[[team]\nid = "x"' })[0]!, /^config\/teams\.toml:\d+:\d+: TOML syntax error/);
  });

  test('cc-csat check-config reports teams problems with the queues\' and IVRs\', and counts teams when all is well', async () => {
    const bad = load({ teams: '[[team]]\nid = "north"\n\n[[team]]\nid = "north"\n' });
    writeFileSync(join(bad.tree.dir, 'config', 'queues.toml'), '[[queue]]\nname = "q"\n[queue.after_call]\ncsat_enabled = true\ncsat_ivr = "no-such-ivr"\n');
    const refused = await checkConfig(bad.tree.dir);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /invalid configuration \(2 problems\)/);
    assert.match(refused.stderr, /queues\.toml: queue\[0\]\.after_call\.csat_ivr: unknown IVR "no-such-ivr"/);
    assert.match(refused.stderr, /config\/teams\.toml: team\[1\]\.id: duplicate team "north" \(first defined at team\[0\]\)/);
    const badKey = load({ engineExtra: keyEntry('floor', 'role = "agent"') });
    const refusedKey = await checkConfig(badKey.tree.dir);
    assert.equal(refusedKey.code, 1);
    assert.match(refusedKey.stderr, /config\/engine\.toml: api_keys\[0\]\.agent_id: API key "floor": is required with role = "agent"/);
    const good = load({ teams: '[[team]]\nid = "north"\nagents = ["agent-001"]\n' });
    const passed = await checkConfig(good.tree.dir);
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, /OK: 2 queues .*, 1 teams$/m);
  });

  test('the shipped config/teams.toml loads and names the agents of asterisk-dev', () => {
    const config = loadConfig({ cwd: REPO, env: {} });
    assert.ok(config.teams.size > 0);
    assert.ok([...config.teams.values()].some((team) => team.agents.includes('agent-001')));
  });
});

// ------------------------------------------------------------------------------------------- HTTP

const NOW = new Date('2026-11-20T12:00:00.000Z');
const TEAMS = '[[team]]\nid = "north"\nagents = ["agent-001", "agent-002"]\n\n[[team]]\nid = "south"\nagents = ["agent-003"]\n';
const OTHER_AGENT = 'agent-002';

for (const { kind, skip } of DATABASES) {
  describe(`roles over HTTP on ${kind}`, { skip }, () => {
    let api: ApiHarness;
    before(async () => {
      api = await startApi({ database: kind, now: NOW, teams: TEAMS });
      const ratings = [
        ['own-1', KEY_AGENT_ID, 5],
        ['own-2', KEY_AGENT_ID, 4],
        ['other-1', OTHER_AGENT, 2],
        ['other-2', OTHER_AGENT, 1],
        ['south-1', 'agent-003', 3],
      ] as const;
      for (const [call, agent, score] of ratings) {
        const res = await api.request('POST', `/cc/csat/${call}`, { key: KEYS.admin, body: { score, agent_id: agent, queue_id: 'sales-queue' } });
        assert.equal(res.status, 201);
      }
      // A spoken comment on one call of each agent (no Asterisk here: a reachable recording answers 503).
      for (const [call, agent] of [['own-1', KEY_AGENT_ID], ['other-1', OTHER_AGENT]] as const) {
        await api.db
          .insertInto('survey_answer')
          .values({
            call_id: call, question_id: 'comment', kind: 'comment', value: null, digits: null, recording: `csat-${call}`, recording_ms: 1500, recording_format: 'wav',
            recording_server: null, recording_deleted_at: null, language: 'en', agent_id: agent, queue_id: 'sales-queue', ivr: 'survey', answered_at: NOW.toISOString(),
          })
          .execute();
      }
      await api.results.run('full');
    });
    after(async () => {
      await api?.close();
    });

    const status = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await api.request(method, path, { key, ...(body === undefined ? {} : { body }) });
      return { status: res.status, detail: res.body?.detail as string | undefined };
    };
    const newRating = (call: string) => ({ method: 'POST', path: `/cc/csat/${call}`, body: { score: 4, agent_id: KEY_AGENT_ID, queue_id: 'sales-queue' } });

    test('each role reaches what its scopes allow; a 403 names the missing scope', async () => {
      const routes = {
        stats: { method: 'GET', path: '/cc/csat/queue/sales-queue' },
        teams: { method: 'GET', path: '/cc/csat/teams' },
        questions: { method: 'GET', path: '/cc/csat/questions' },
        recording: { method: 'GET', path: '/cc/csat/other-1/recording' },
      } as const;
      const allowed = async (key: string, route: { method: string; path: string; body?: unknown }) => {
        const res = await status(key, route.method, route.path, route.body);
        return res.status === 403 ? res.detail : 'allowed';
      };
      // Reading a recording that exists gets past the scope check to the (absent) Asterisk: 503.
      assert.equal((await status(KEYS.supervisor, 'GET', routes.recording.path)).status, 503);
      const expected: Array<[string, string, Record<string, string>]> = [
        [KEYS.admin, 'admin', { stats: 'allowed', teams: 'allowed', questions: 'allowed', recording: 'allowed', write: 'allowed' }],
        [KEYS.supervisor, 'supervisor', { stats: 'allowed', teams: 'allowed', questions: 'allowed', recording: 'allowed', write: 'API key "supervisor" lacks scope csat:write' }],
        [
          KEYS.reporting,
          'reporting',
          { stats: 'allowed', teams: 'allowed', questions: 'allowed', recording: 'API key "reporting" lacks scope csat:recordings', write: 'API key "reporting" lacks scope csat:write' },
        ],
        [KEYS.reader, 'reader', { stats: 'allowed', teams: 'allowed', questions: 'allowed', recording: 'API key "reader" lacks scope csat:recordings', write: 'API key "reader" lacks scope csat:write' }],
        [
          KEYS.writer,
          'writer',
          { stats: 'API key "writer" lacks scope csat:read', teams: 'API key "writer" lacks scope csat:read', questions: 'API key "writer" lacks scope csat:read', recording: 'API key "writer" lacks scope csat:recordings', write: 'allowed' },
        ],
      ];
      let n = 0;
      for (const [key, name, verdicts] of expected) {
        const got: Record<string, string | undefined> = {};
        for (const [route, spec] of Object.entries(routes)) got[route] = await allowed(key, spec);
        got['write'] = await allowed(key, newRating(`role-write-${name}-${n++}`));
        assert.deepEqual(got, verdicts, name);
      }
    });

    test('an agent key reads its own agent, its own calls and recordings; nothing of anyone else', async () => {
      const own = await api.request('GET', `/cc/csat/agent/${KEY_AGENT_ID}?from=2026-11-20&to=2026-11-20`, { key: KEYS.agent });
      assert.equal(own.status, 200);
      assert.deepEqual([own.body.count, own.body.average], [2, 4.5]);
      const forbidden = `API key "agent" may only read agent "${KEY_AGENT_ID}"`;
      for (const path of [
        `/cc/csat/agent/${OTHER_AGENT}`,
        '/cc/csat/queue/sales-queue',
        '/cc/csat/teams',
        '/cc/csat/team/north',
        '/cc/csat/questions',
        '/cc/csat/funnel',
        `/cc/csat/questions?agent_id=${OTHER_AGENT}`,
        '/cc/csat/questions?queue_id=sales-queue',
        '/cc/csat/funnel?team_id=north',
        '/cc/csat/funnel?queue_id=sales-queue',
      ]) {
        assert.deepEqual(await status(KEYS.agent, 'GET', path), { status: 403, detail: forbidden }, path);
      }
      for (const path of [`/cc/csat/questions?agent_id=${KEY_AGENT_ID}`, `/cc/csat/funnel?agent_id=${KEY_AGENT_ID}`]) {
        assert.equal((await status(KEYS.agent, 'GET', path)).status, 200, path);
      }
      const mine = await api.request('GET', '/cc/csat/own-1', { key: KEYS.agent });
      assert.equal(mine.status, 200);
      assert.equal(mine.body.agent_id, KEY_AGENT_ID);
      // Another agent's call looks exactly like a call that does not exist.
      const theirs = await status(KEYS.agent, 'GET', '/cc/csat/other-1');
      const absent = await status(KEYS.agent, 'GET', '/cc/csat/no-such-call');
      assert.deepEqual(theirs, { status: 404, detail: 'no rating and no answer for call other-1' });
      assert.deepEqual(absent, { status: 404, detail: 'no rating and no answer for call no-such-call' });
      assert.equal((await status(KEYS.agent, 'GET', '/cc/csat/own-1/recording')).status, 503, 'own recording: past the checks, to Asterisk');
      assert.deepEqual(await status(KEYS.agent, 'GET', '/cc/csat/other-1/recording'), { status: 404, detail: 'no recording for call other-1' });
      const before = await api.db.selectFrom('cc_csat').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow();
      const write = newRating('agent-tries-write');
      assert.deepEqual(await status(KEYS.agent, write.method, write.path, write.body), { status: 403, detail: 'API key "agent" lacks scope csat:write' });
      const afterCount = await api.db.selectFrom('cc_csat').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(afterCount.n), Number(before.n), 'nothing written');
    });

    test('teams follow a config reload: new membership and figures; a broken teams.toml keeps the running teams', async () => {
      const range = '?from=2026-11-20&to=2026-11-20';
      const north = await api.request('GET', `/cc/csat/team/north${range}`);
      assert.deepEqual([north.body.count, north.body.agent_ranking.map((a: { agent_id: string }) => a.agent_id).sort()], [4, [KEY_AGENT_ID, OTHER_AGENT]]);
      writeFileSync(api.teamsPath, '[[team]]\nid = "north"\nname = "North, reorganised"\nagents = ["agent-001", "agent-003"]\n\n[[team]]\nid = "west"\nagents = ["agent-002"]\n');
      assert.equal(api.reloadConfig().result, 'ok');
      const teams = await api.request('GET', '/cc/csat/teams');
      assert.deepEqual(teams.body, {
        teams: [
          { team_id: 'north', name: 'North, reorganised', agents: ['agent-001', 'agent-003'] },
          { team_id: 'west', name: 'west', agents: ['agent-002'] },
        ],
      });
      // Same snapshot, new members: the cached answer must not be served.
      const after = await api.request('GET', `/cc/csat/team/north${range}`);
      const scores = [5, 4, 3];
      assert.deepEqual([after.body.name, after.body.count, after.body.average], ['North, reorganised', scores.length, Math.round((12 / 3) * 100) / 100]);
      assert.equal((await api.request('GET', `/cc/csat/team/south${range}`)).status, 404);
      writeFileSync(api.teamsPath, '[[team]]\nid = "north"\n\n[[team]]\nid = "north"\n');
      const refused = api.reloadConfig();
      assert.equal(refused.result, 'error');
      assert.ok(refused.problems.some((line) => /teams\.toml: team\[1\]\.id: duplicate team "north"/.test(line)), refused.problems.join('\n'));
      assert.deepEqual((await api.request('GET', '/cc/csat/teams')).body, teams.body, 'the running teams are kept');
    });
  });
}
