import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/config/problems.js';
import { loadConfig } from '../src/config/load.js';
import { TEST_IVR, TEST_QUEUES, writeConfigTree } from './helpers/config-tree.js';
import { runCli } from './helpers/cli.js';

function problemsFor(files: { queues?: string; ivrs?: Record<string, string>; engineExtra?: string; env?: Record<string, string> }): string[] {
  const tree = writeConfigTree(files);
  try {
    loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: files.env ?? {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return [...err.problems];
  }
  return [];
}

describe('config: shipped files', () => {
  test('cc-csat check-config passes on the shipped config and prints a summary', async () => {
    const result = await runCli(['check-config']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /config\/engine\.toml: OK: 4 queues \(3 with CSAT enabled\), 3 IVRs/);
  });

  test('a good tree loads into frozen, typed config with defaults filled in', () => {
    const tree = writeConfigTree();
    const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} });
    assert.equal(config.queues.get('sales-queue')?.after_call.csat_ivr, 'survey');
    assert.equal(config.queues.get('quiet-queue')?.after_call.csat_enabled, false);
    const ivr = config.ivrs.get('survey')!;
    const collect = ivr.step[0]!;
    assert.equal(collect.type, 'collect');
    if (collect.type === 'collect') assert.deepEqual(collect.scores, { '1': 5, '2': 4, '3': 3, '4': 2, '5': 1 });
    assert.equal(config.engine.results.timezone, 'UTC');
    assert.equal(config.engine.survey.shutdown_grace_ms, 30_000);
    assert.ok(Object.isFrozen(config.engine.http));
    assert.ok(Object.isFrozen(ivr.step[0]));
  });

  test('the shipped default survey maps key 1 to score 5 and key 5 to score 1', async () => {
    const config = loadConfig({ cwd: process.cwd(), env: {} });
    const ask = config.ivrs.get('csat-survey')!.step.find((step) => step.type === 'collect');
    assert.ok(ask && ask.type === 'collect');
    assert.deepEqual(ask.scores, { '1': 5, '2': 4, '3': 3, '4': 2, '5': 1 });
    assert.ok(ask.prompt.every((uri) => uri.startsWith('sound:csat/')));
  });

  test('password_env reads the ARI password from the environment given at startup', () => {
    const tree = writeConfigTree();
    writeFileSync(tree.enginePath, readFileSync(tree.enginePath, 'utf8').replace('password = "secret"', 'password_env = "ARI_PW"'));
    const config = loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: { ARI_PW: 'from-env' } });
    assert.equal(config.ariPassword, 'from-env');
    assert.throws(
      () => loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: {} }),
      (err: ConfigError) => /ari\.password_env: environment variable ARI_PW is not set/.test(err.message),
    );
  });
});

describe('config: each kind of mistake names file, path and what is wrong', () => {
  test('TOML syntax error gives file:line:column', () => {
    const problems = problemsFor({ queues: '[[queue]]\nname = "sales-queue"\n[queue.after_call]\ncsat_enabled = tru\n' });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /config\/queues\.toml:4:\d+: TOML syntax error: /);
  });

  test('unknown key (a typo) is an error with a suggestion, never silently ignored', () => {
    const problems = problemsFor({ queues: TEST_QUEUES.replace('csat_enabled = true', 'csat_enabeld = true') });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /config\/queues\.toml: queue\[0\]\.after_call: unknown key "csat_enabeld" \(did you mean "csat_enabled"\?\)/);
  });

  test('wrong type names the path, the expected type and what was found', () => {
    const problems = problemsFor({ queues: TEST_QUEUES.replace('csat_enabled = true', 'csat_enabled = "yes"') });
    assert.deepEqual(problems.map((p) => p.replace(/^.*?config\//, 'config/')), [
      'config/queues.toml: queue[0].after_call.csat_enabled: expected boolean, got the string "yes"',
    ]);
  });

  test('a queue pointing at an unknown IVR lists the known ones', () => {
    const problems = problemsFor({
      queues: TEST_QUEUES + '\n[[queue]]\nname = "support"\n[queue.after_call]\ncsat_enabled = true\ncsat_ivr = "surve"\n',
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /config\/queues\.toml: queue\[2\]\.after_call\.csat_ivr: unknown IVR "surve" \(did you mean "survey"\? known: survey\)$/);
  });

  test('duplicate queue names are refused, naming both entries', () => {
    const problems = problemsFor({ queues: TEST_QUEUES + '\n[[queue]]\nname = "sales-queue"\n' });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /queue\[2\]\.name: duplicate queue "sales-queue" \(first defined at queue\[0\]\)/);
  });

  test('a shape error in one queue does not hide a duplicate elsewhere', () => {
    const problems = problemsFor({
      queues: '[[queue]]\nname = "a"\n[queue.after_call]\ncsat_enabled = 1\n[[queue]]\nname = "b"\n[[queue]]\nname = "b"\n',
    });
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /queue\[0\]\.after_call\.csat_enabled: expected boolean/);
    assert.match(problems[1]!, /queue\[2\]\.name: duplicate queue "b"/);
  });

  test('csat_enabled without csat_ivr is refused', () => {
    const problems = problemsFor({ queues: '[[queue]]\nname = "a"\n[queue.after_call]\ncsat_enabled = true\n' });
    assert.match(problems.join('\n'), /queue\[0\]\.after_call\.csat_ivr: is required when csat_enabled = true/);
  });

  test('IVR: unknown step type, bad media URI, dangling next, scores that do not match digits', () => {
    const problems = problemsFor({
      ivrs: {
        survey: TEST_IVR.replace('type = "confirm"', 'type = "confrim"'),
        other: TEST_IVR.replace('next = "thanks"', 'next = "thank"').replace('"5" = 1 }', '"5" = 1, "9" = 1 }'),
        third: TEST_IVR.replace('media = ["sound:csat/goodbye"]', 'media = ["sound:csat/good bye"]'),
      },
    });
    const text = problems.join('\n');
    assert.match(text, /ivr\/survey\.toml: step\[1\]\.type: unknown type "confrim" \(did you mean "confirm"\? known: play, collect, confirm/);
    assert.match(text, /ivr\/other\.toml: step\[1\]\.next: unknown step "thank" \(did you mean "thanks"\?/);
    assert.match(text, /ivr\/other\.toml: step\[0\]\.scores\.9: key "9" has a score but is not in digits "12345"/);
    assert.match(text, /ivr\/third\.toml: step\[3\]\.media\[0\]: must be a media URI/);
  });

  test('IVR without a collect or record step can never store an answer, so it is refused', () => {
    const problems = problemsFor({ ivrs: { survey: '[[step]]\nid = "bye"\ntype = "hangup"\n' } });
    assert.match(problems.join('\n'), /ivr\/survey\.toml: step: has no collect or record step/);
  });

  test('engine: bad timezone, bad cron, non-hex key hash', () => {
    const problems = problemsFor({
      engineExtra: '[results]\ntimezone = "Europe/Pariss"\nschedule = "every five minutes"\n\n[[api_keys]]\nname = "x"\nkey_sha256 = "nope"\nscopes = ["csat:read"]\n',
    });
    const text = problems.join('\n');
    assert.match(text, /engine\.toml: results\.timezone: not an IANA time zone name/);
    assert.match(text, /engine\.toml: results\.schedule: not a valid cron expression/);
    assert.match(text, /engine\.toml: api_keys\[0\]\.key_sha256: must be the lowercase hex SHA-256/);
  });

  test('cc-csat check-config and start exit 1 on bad config with the same message', async () => {
    const tree = writeConfigTree({ queues: TEST_QUEUES.replace('csat_ivr = "survey"', 'csat_ivr = "csat-surve"') });
    for (const command of ['check-config', 'start']) {
      const result = await runCli([command, '--config', tree.enginePath], { cwd: tree.dir });
      assert.equal(result.code, 1, `${command}: ${result.stdout}`);
      assert.match(result.stderr, /config\/queues\.toml: queue\[0\]\.after_call\.csat_ivr: unknown IVR "csat-surve" \(known: survey\)/);
      assert.equal(result.stdout, '');
    }
  });

  test('CC_CSAT_CONFIG picks the config file when --config is absent', async () => {
    const tree = writeConfigTree();
    const result = await runCli(['check-config'], { cwd: tree.dir, env: { CC_CSAT_CONFIG: join(tree.dir, 'config', 'engine.toml') } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /OK: 2 queues \(1 with CSAT enabled\), 1 IVRs \(survey\)/);
  });
});

describe('config: placeholders in IVR media', () => {
  const CONFIRM_MEDIA = 'media = ["sound:csat/you-pressed", "digits:{digit}"]';

  test('{digit} and {score} in a confirm step are accepted', () => {
    const problems = problemsFor({ ivrs: { survey: TEST_IVR.replace(CONFIRM_MEDIA, 'media = ["digits:{digit}", "number:{score}"]') } });
    assert.deepEqual(problems, []);
  });

  test('an unknown placeholder in a confirm step names the file, the media path and the known ones', () => {
    const problems = problemsFor({ ivrs: { survey: TEST_IVR.replace(CONFIRM_MEDIA, 'media = ["sound:csat/you-pressed", "digits:{digt}"]') } });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /^ivr\/survey\.toml: step\[1\]\.media\[1\]: .*\{digt\}/);
    assert.match(problems[0]!, /\{digit\}.*\{score\}/, 'lists the known placeholders');
  });

  test('placeholders in play media and collect prompts are refused: only confirm steps replace them', () => {
    const ivr = TEST_IVR.replace('prompt = ["sound:csat/rate-intro", "sound:csat/rate-keys"]', 'prompt = ["sound:csat/rate-intro", "digits:{digit}"]')
      .replace('invalid_prompt = ["sound:csat/invalid"]', 'invalid_prompt = ["number:{score}"]')
      .replace('no_input_prompt = ["sound:csat/no-input"]', 'no_input_prompt = ["sound:csat/{digit}"]')
      .replace('media = ["sound:csat/thank-you"]', 'media = ["sound:csat/thank-you", "number:{score}"]');
    const problems = problemsFor({ ivrs: { survey: ivr } });
    const paths = problems.map((line) => /^ivr\/survey\.toml: (\S+): /.exec(line)?.[1]);
    assert.deepEqual(paths, ['step[0].prompt[1]', 'step[0].invalid_prompt[0]', 'step[0].no_input_prompt[0]', 'step[2].media[1]'], problems.join('\n'));
    for (const line of problems) assert.match(line, /confirm/, `says where placeholders work: ${line}`);
  });

  test('cc-csat check-config refuses a mistyped placeholder (exit 1), so simulate never plays it verbatim', async () => {
    const tree = writeConfigTree({ ivrs: { survey: TEST_IVR.replace(CONFIRM_MEDIA, 'media = ["sound:csat/you-pressed", "digits:{digt}"]') } });
    const checked = await runCli(['check-config', '--config', tree.enginePath], { cwd: tree.dir });
    assert.equal(checked.code, 1, checked.stdout);
    assert.match(checked.stderr, /ivr\/survey\.toml: step\[1\]\.media\[1\]: .*\{digt\}/);
    const simulated = await runCli(['simulate', '--config', tree.enginePath, '--queue', 'sales-queue', '--digits', '4'], { cwd: tree.dir });
    assert.equal(simulated.code, 1);
    assert.doesNotMatch(simulated.stdout, /\{digt\}/);
  });
});
