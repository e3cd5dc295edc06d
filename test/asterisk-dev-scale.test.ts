// asterisk-dev/compose.scale.yaml wires PostgreSQL, two Asterisks and two engines together on the
// host network. Docker is not part of the test machine, so the file is not run here; what can break
// silently is checked instead: every file it mounts exists, both engine configs load, and the ports,
// ids, credentials and systemnames agree between compose, the engines and the Asterisk overrides.
// (The same topology runs for real in real-multi-engine.test.ts, on configs the test writes.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { REPO_ROOT } from './helpers/cli.js';

const DEV = join(REPO_ROOT, 'asterisk-dev');
const compose = readFileSync(join(DEV, 'compose.scale.yaml'), 'utf8');

/** `key=value` of an Asterisk .conf file (comments and sections ignored; the first occurrence wins). */
function confValue(path: string, key: string): string | undefined {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*([A-Za-z_]+)\s*=\s*([^;]*?)\s*(;.*)?$/.exec(line);
    if (match?.[1] === key) return match[2];
  }
  return undefined;
}

/** The service's block of the compose file: from `  name:` to the next service. */
function service(name: string): string {
  const start = compose.indexOf(`\n  ${name}:\n`);
  assert.ok(start >= 0, `compose.scale.yaml has a service ${name}`);
  const next = compose.slice(start + 1).search(/\n {2}[a-z][\w-]*:\n|\nvolumes:/);
  return compose.slice(start, next < 0 ? undefined : start + 1 + next);
}

function loadEngine(file: string) {
  const env = { CC_CSAT_DB_PASSWORD: /CC_CSAT_DB_PASSWORD: (\S+)/.exec(service(`engine-${file}`))?.[1] ?? '' };
  assert.ok(env.CC_CSAT_DB_PASSWORD, `engine-${file} gets CC_CSAT_DB_PASSWORD from compose`);
  // In the image the repo is /app: queues and IVRs are found from the repo root as there.
  return loadConfig({ configPath: join(DEV, 'scale', `engine-${file}.toml`), cwd: REPO_ROOT, env });
}

test('compose.scale.yaml mounts only files that exist', () => {
  const mounts = [...compose.matchAll(/^\s+- \.\/(\S+?):\/\S+/gm)].map((match) => match[1]!);
  assert.ok(mounts.length >= 7, `mounts found: ${mounts.join(', ')}`);
  for (const mount of mounts) assert.ok(existsSync(join(DEV, mount)), `asterisk-dev/${mount} exists`);
});

test('the two engines load, differ in id and HTTP port, share the database compose starts, each beside its Asterisk', () => {
  const [a, b] = [loadEngine('a'), loadEngine('b')];
  assert.notEqual(a.engineId, b.engineId);
  assert.notEqual(a.engine.http.port, b.engine.http.port);
  for (const engine of [a, b]) {
    assert.equal(engine.database.kind, 'postgres');
    const url = new URL((engine.database as { url: string }).url);
    const postgres = service('postgres');
    assert.equal(url.port, /"-p", "(\d+)"/.exec(postgres)?.[1], 'the port compose starts PostgreSQL on');
    assert.equal(url.username, /POSTGRES_USER: (\S+)/.exec(postgres)?.[1]);
    assert.equal(url.pathname.slice(1), /POSTGRES_DB: (\S+)/.exec(postgres)?.[1]);
    assert.equal((engine.database as { password?: string }).password, /POSTGRES_PASSWORD: (\S+)/.exec(postgres)?.[1]);
  }
  const ariPort = (engine: ReturnType<typeof loadEngine>) => new URL(engine.ariServers[0]!.config.url).port;
  assert.equal(ariPort(a), confValue(join(DEV, 'conf', 'http.conf'), 'bindport'), 'engine A on Asterisk A (conf/http.conf)');
  assert.equal(ariPort(b), confValue(join(DEV, 'scale', 'asterisk-b', 'http.conf'), 'bindport'), 'engine B on Asterisk B (its http.conf)');
  // Shared app name on two different Asterisks is fine; on one it is not (README "Scaling out").
  assert.notEqual(ariPort(a), ariPort(b));
});

test('the two Asterisks have distinct systemnames (call ids never collide) and distinct SIP ports', () => {
  const systemname = (side: string) => confValue(join(DEV, 'scale', `asterisk-${side}`, 'asterisk.conf'), 'systemname');
  assert.ok(systemname('a') && systemname('b'));
  assert.notEqual(systemname('a'), systemname('b'));
  assert.match(service('asterisk-a'), /scale\/asterisk-a\/asterisk\.conf/);
  assert.match(service('asterisk-b'), /scale\/asterisk-b\/asterisk\.conf/);
  const sipPort = (path: string) => confValue(path, 'bind')?.split(':')[1];
  assert.notEqual(sipPort(join(DEV, 'conf', 'pjsip.conf')), sipPort(join(DEV, 'scale', 'asterisk-b', 'pjsip.conf')));
});
