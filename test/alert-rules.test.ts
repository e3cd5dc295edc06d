// [alerts] in engine.toml (what ops write, what a mistake in it says) and which answers fire which
// rules, with the payload a receiver gets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { abandonedAlertsFor, alertsFor, type AlertAnswer, type AlertCall } from '../src/alerts/rules.js';
import { reachableNumber } from '../src/links/link-fallback.js';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/problems.js';
import { TEST_IVR, writeConfigTree } from './helpers/config-tree.js';

const ALERTS = `
[alerts]
max_age_hours = 2
public_url = "https://csat.example.com/"

[[alerts.destination]]
name = "supervisors"
url = "https://hooks.example.com/csat"
secret_env = "ALERT_SECRET"
timeout_ms = 3000
headers = { "X-Tenant" = "north" }

[[alerts.destination]]
name = "qa"
url = "http://qa.internal:8080/alerts"
secret_env = "QA_SECRET"

[[alerts.rule]]
name = "low-csat"
type = "answer"
kind = "csat"
at_most = 2
destination = "supervisors"

[[alerts.rule]]
name = "detractor"
type = "answer"
kind = "nps"
at_most = 6
queues = ["sales-queue"]
destination = "supervisors"

[[alerts.rule]]
name = "not-resolved"
type = "answer"
question = "resolved"
equals = 0
destination = "qa"

[[alerts.rule]]
name = "comment"
type = "comment"
destination = "qa"
`;

function load(engineExtra: string, env: Record<string, string> = { ALERT_SECRET: 's3cret', QA_SECRET: 'qa-key' }) {
  const tree = writeConfigTree({ engineExtra });
  return loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env });
}

function problemsOf(engineExtra: string, env?: Record<string, string>): string {
  try {
    load(engineExtra, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the config was accepted');
}

const CALL: AlertCall = { callId: 'call-7', agentId: 'ana', queueId: 'sales-queue', teamId: 'north', ivr: 'survey' };
const csat = (value: number): AlertAnswer => ({ questionId: 'q-csat', kind: 'csat', value });
const AT = new Date('2026-11-28T10:00:00.000Z');

describe('alerts config', () => {
  test('rules and destinations load, secrets from the environment, defaults filled in', () => {
    const { alerts } = load(ALERTS);
    assert.equal(alerts.maxAgeMs, 2 * 3_600_000);
    assert.equal(alerts.publicUrl, 'https://csat.example.com');
    assert.deepEqual(alerts.destinations.get('supervisors'), {
      name: 'supervisors',
      url: 'https://hooks.example.com/csat',
      secret: 's3cret',
      timeoutMs: 3000,
      concurrency: 4,
      headers: { 'X-Tenant': 'north' },
    });
    assert.equal(alerts.destinations.get('qa')?.timeoutMs, 5000);
    assert.deepEqual(
      alerts.rules.map((rule) => rule.name),
      ['low-csat', 'detractor', 'not-resolved', 'comment'],
    );
  });

  test('no [alerts]: no rules, no destinations', () => {
    const { alerts } = load('');
    assert.equal(alerts.rules.length, 0);
    assert.equal(alerts.destinations.size, 0);
    assert.equal(alerts.maxAgeMs, 24 * 3_600_000);
  });

  test('mistakes name the file, the path and the problem', () => {
    const message = problemsOf(
      `${ALERTS}
[[alerts.rule]]
name = "low-csat"
type = "answer"
kind = "csat"
at_most = 1
queues = ["no-such-queue"]
destination = "pager"
`,
      { QA_SECRET: 'x' },
    );
    assert.match(message, /engine\.toml: alerts\.destination\[0\]\.secret_env: environment variable ALERT_SECRET is not set/);
    assert.match(message, /alerts\.rule\[4\]\.name: duplicate rule "low-csat" \(first at alerts\.rule\[0\]\)/);
    assert.match(message, /alerts\.rule\[4\]\.destination: no destination "pager" in \[\[alerts\.destination\]\] \(known: supervisors, qa\)/);
    assert.match(message, /alerts\.rule\[4\]\.queues\[0\]: no queue "no-such-queue" in queues\.toml/);
  });

  test('a rule must say what it watches and one bound; a destination needs an http(s) URL and no reserved headers', () => {
    const message = problemsOf(`
[[alerts.destination]]
name = "hook"
url = "ftp://example.com/x"
secret_env = "ALERT_SECRET"
headers = { "X-CSAT-Signature" = "mine" }

[[alerts.rule]]
name = "vague"
type = "answer"
at_most = 2
at_least = 1
destination = "hook"
`);
    assert.match(message, /alerts\.destination\[0\]\.url: must be an http:\/\/ or https:\/\/ URL/);
    assert.match(message, /X-CSAT-Signature is set by cc-csat on every delivery/);
    assert.match(message, /alert rule "vague": set kind or question \(one of them\)/);
    assert.match(message, /alert rule "vague": set exactly one of at_most, at_least, equals/);
  });
});

describe('which answers fire which rules', () => {
  const { alerts } = load(ALERTS);

  test('a csat of 2 fires low-csat; 3 fires nothing', () => {
    const fired = alertsFor(alerts, CALL, csat(2), [], AT);
    assert.deepEqual(
      fired.map((alert) => [alert.destination, alert.idempotencyKey]),
      [['supervisors', 'alert.fired:low-csat:call-7:q-csat']],
    );
    assert.deepEqual(alertsFor(alerts, CALL, csat(3), [], AT), []);
  });

  test('the payload: the call, its team, the answer that fired and the answers before it', () => {
    const [alert] = alertsFor(alerts, CALL, csat(1), [{ questionId: 'q-nps', kind: 'nps', value: 9 }], AT);
    assert.equal(alert!.createdAt, AT.toISOString());
    assert.deepEqual(JSON.parse(alert!.payload), {
      event: 'alert.fired',
      id: 'alert.fired:low-csat:call-7:q-csat',
      fired_at: '2026-11-28T10:00:00.000Z',
      rule: { name: 'low-csat', type: 'answer' },
      call: { call_id: 'call-7', agent_id: 'ana', queue_id: 'sales-queue', team_id: 'north', ivr: 'survey' },
      answer: { question_id: 'q-csat', kind: 'csat', value: 1 },
      answers: [
        { question_id: 'q-nps', kind: 'nps', value: 9 },
        { question_id: 'q-csat', kind: 'csat', value: 1 },
      ],
      recording_url: null,
    });
  });

  test('a rule limited to queues watches only those', () => {
    const detractor: AlertAnswer = { questionId: 'q-nps', kind: 'nps', value: 6 };
    assert.deepEqual(
      alertsFor(alerts, CALL, detractor, [], AT).map((alert) => alert.idempotencyKey),
      ['alert.fired:detractor:call-7:q-nps'],
    );
    assert.deepEqual(alertsFor(alerts, { ...CALL, queueId: 'quiet-queue' }, detractor, [], AT), []);
    assert.deepEqual(alertsFor(alerts, CALL, { ...detractor, value: 7 }, [], AT), []);
  });

  test('a rule on one question id (yes_no "resolved" = no), and a spoken comment with its recording link', () => {
    const resolvedNo: AlertAnswer = { questionId: 'resolved', kind: 'yes_no', value: 0 };
    assert.deepEqual(
      alertsFor(alerts, CALL, resolvedNo, [], AT).map((alert) => [alert.destination, alert.idempotencyKey]),
      [['qa', 'alert.fired:not-resolved:call-7:resolved']],
    );
    assert.deepEqual(alertsFor(alerts, CALL, { ...resolvedNo, value: 1 }, [], AT), []);
    // Another question of the same kind is not "resolved".
    assert.deepEqual(alertsFor(alerts, CALL, { ...resolvedNo, questionId: 'callback' }, [], AT), []);

    const [comment] = alertsFor(alerts, { ...CALL, callId: 'call/8' }, { questionId: 'say-more', kind: 'comment', value: undefined }, [csat(4)], AT);
    assert.equal(comment!.idempotencyKey, 'alert.fired:comment:call/8:say-more');
    const body = JSON.parse(comment!.payload) as { recording_url: string; answer: unknown };
    assert.equal(body.recording_url, 'https://csat.example.com/cc/csat/call%2F8/recording');
    assert.deepEqual(body.answer, { question_id: 'say-more', kind: 'comment', value: null });
  });

  test('the same answer again gives the same idempotency key: the outbox keeps one delivery', () => {
    const first = alertsFor(alerts, CALL, csat(1), [], AT);
    const again = alertsFor(alerts, CALL, csat(1), [], new Date(AT.getTime() + 5_000));
    assert.deepEqual(
      first.map((alert) => alert.idempotencyKey),
      again.map((alert) => alert.idempotencyKey),
    );
  });
});

describe('an abandoned survey after a bad first answer', () => {
  const ABANDONED = `${ALERTS}
[[alerts.rule]]
name = "hung-up-unhappy"
type = "abandoned"
kind = "csat"
at_most = 2
destination = "supervisors"
`;

  test('fires only when the survey ends with the caller gone, on the first answer, never per answer', () => {
    const { alerts } = load(ABANDONED);
    // Per answer: the answer rule fires, the abandoned rule waits for the ending.
    assert.deepEqual(alertsFor(alerts, CALL, csat(1), [], AT).map((each) => each.idempotencyKey), ['alert.fired:low-csat:call-7:q-csat']);
    const fired = abandonedAlertsFor(alerts, CALL, [csat(1), { questionId: 'resolved', kind: 'yes_no', value: 1 }], AT);
    assert.deepEqual(fired.map((each) => [each.idempotencyKey, each.destination]), [['alert.fired:hung-up-unhappy:call-7:abandoned', 'supervisors']]);
    const body = JSON.parse(fired[0]!.payload);
    assert.deepEqual(body.rule, { name: 'hung-up-unhappy', type: 'abandoned' });
    assert.deepEqual(body.answer, { question_id: 'q-csat', kind: 'csat', value: 1 }, 'the first answer, which crossed the threshold');
    assert.equal(body.answers.length, 2);
    assert.deepEqual(abandonedAlertsFor(alerts, CALL, [csat(4)], AT), [], 'a good first answer');
    assert.deepEqual(abandonedAlertsFor(alerts, CALL, [], AT), [], 'no answer at all');
    // Only the first answer counts: a later bad one is the answer rule's business.
    assert.deepEqual(abandonedAlertsFor(alerts, CALL, [{ questionId: 'resolved', kind: 'yes_no', value: 0 }, csat(1)], AT), []);
  });

  test('its threshold is checked like an answer rule', () => {
    const problems = problemsOf(`${ALERTS}
[[alerts.rule]]
name = "vague"
type = "abandoned"
destination = "supervisors"
`);
    assert.match(problems, /alert rule "vague": set kind or question \(one of them\)/);
    assert.match(problems, /alert rule "vague": set exactly one of at_most, at_least, equals/);
  });
});

describe('rating link config ([queue.link_fallback] in queues.toml)', () => {
  const queues = (fallback: string, ivr = 'survey') => `
[[queue]]
name = "sales-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "${ivr}"
[queue.link_fallback]
${fallback}
`;
  const loadWith = (engineExtra: string, queuesText: string, ivrs?: Record<string, string>) => {
    const tree = writeConfigTree({ engineExtra, queues: queuesText, ...(ivrs ? { ivrs } : {}) });
    return loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: { ALERT_SECRET: 's3cret', QA_SECRET: 'qa-key' } });
  };
  const problems = (engineExtra: string, queuesText: string, ivrs?: Record<string, string>): string => {
    try {
      loadWith(engineExtra, queuesText, ivrs);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail('the config was accepted');
  };

  test('defaults: abandoned and no_input, 7 days', () => {
    const config = loadWith(ALERTS, queues('destination = "qa"'));
    assert.deepEqual(config.queues.get('sales-queue')!.link_fallback, { destination: 'qa', on: ['abandoned', 'no_input'], link_expiry_days: 7 });
  });

  test('a destination that does not exist, no public_url, an IVR without a headline question, a bad ending: each named', () => {
    assert.match(problems(ALERTS, queues('destination = "sms"')), /config\/queues\.toml: queue\[0\]\.link_fallback\.destination: no \[\[alerts\.destination\]\] "sms" in engine\.toml \(known: supervisors, qa\)/);
    assert.match(problems(ALERTS.replace('public_url = "https://csat.example.com/"', ''), queues('destination = "qa"')), /queue\[0\]\.link_fallback: needs \[alerts\] public_url in engine\.toml/);
    const npsOnly = TEST_IVR.replace('type = "collect"', 'type = "collect"\nkind = "nps"').replace('digits = "12345"\nscores = { "1" = 5, "2" = 4, "3" = 3, "4" = 2, "5" = 1 }', '');
    assert.match(problems(ALERTS, queues('destination = "qa"', 'nps-only'), { 'nps-only': npsOnly }), /queue\[0\]\.link_fallback: IVR "nps-only" has no headline csat question for a link to answer/);
    assert.match(problems(ALERTS, queues('destination = "qa"\non = ["completed"]')), /queue\[0\]\.link_fallback\.on\[0\]: Invalid option: expected one of "abandoned"\|"no_input"\|"invalid"\|"declined"/);
    assert.match(problems(ALERTS, queues('destination = "qa"\nlink_expiry_days = 0')), /link_expiry_days/);
    for (const [url, problem] of [
      ['https://csat.example.com/?a=1#x', /alerts\.public_url: must not have a query/],
      ['https://user:pw@csat.example.com', /alerts\.public_url: must not carry credentials/],
      ['https://csat.example.com/a b', /alerts\.public_url: must not contain spaces/],
    ] as const) {
      assert.match(problems(ALERTS.replace('public_url = "https://csat.example.com/"', `public_url = "${url}"`), queues('destination = "qa"')), problem, url);
    }
    // A path prefix (behind a reverse proxy) is fine.
    assert.equal(loadWith(ALERTS.replace('public_url = "https://csat.example.com/"', 'public_url = "https://example.com/csat/"'), queues('destination = "qa"')).alerts.publicUrl, 'https://example.com/csat');
  });
});

describe('which caller numbers get a link', () => {
  test('numbers an SMS reaches, as written or formatted; not anonymous ones or extensions', () => {
    assert.equal(reachableNumber('+33612345678'), '+33612345678');
    assert.equal(reachableNumber('+33 6 12 34 56 78'), '+33612345678');
    assert.equal(reachableNumber('+1-555-123-4567'), '+15551234567');
    assert.equal(reachableNumber('(555) 123-4567'), '5551234567');
    assert.equal(reachableNumber('0033612345678'), '0033612345678');
    for (const none of [undefined, '', 'anonymous', 'Restricted', 'unknown', '1001', '+12345', '1'.repeat(16)]) assert.equal(reachableNumber(none), undefined, String(none));
  });
});
