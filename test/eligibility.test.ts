// Who gets surveyed ([queue.after_call] exclude_agents, sample_percent, min_talk_seconds,
// resurvey_after_hours): each refusal is a `skipped` outcome with its reason, counted in
// cc_csat_surveys_skipped_total{reason}; the caller goes back to the dialplan without hearing a
// thing. Caller numbers are stored only as a keyed hash, and never logged. Storage on SQLite and
// PostgreSQL alike.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { buildAriSurveyEngine } from '../src/ari-survey-engine.js';
import { loadConfig, type AppConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/problems.js';
import type { Database } from '../src/db/schema.js';
import { createLogger } from '../src/log.js';
import { Metrics } from '../src/metrics.js';
import { openStorage } from '../src/storage/open.js';
import type { Storage } from '../src/storage/ports.js';
import { SurveyController } from '../src/survey/controller.js';
import { skipReasonLabel } from '../src/survey/eligibility.js';
import { sampleBucket, sampledIn } from '../src/survey/sampling.js';
import { parseTalkSeconds } from '../src/survey/talk-time.js';
import { ChannelGoneError } from '../src/telephony/port.js';
import type { Kysely } from 'kysely';
import { AriSimulator } from './ari-sim/simulator.js';
import { DATABASES } from './helpers/api.js';
import { writeConfigTree } from './helpers/config-tree.js';
import { FakeChannel } from './helpers/fake-channel.js';
import { createPostgresDatabase, type PostgresDatabase } from './helpers/postgres.js';
import { until, within } from './helpers/wait.js';

const KEY = 'eligibility-test-hash-key-0123456789';
const HOUR_MS = 3_600_000;

const QUEUES = `
[[queue]]
name = "sales-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"
exclude_agents = ["trainee-1", "supervisor-2"]

[[queue]]
name = "sampled-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"
sample_percent = 30

[[queue]]
name = "never-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"
sample_percent = 0

[[queue]]
name = "talk-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"
min_talk_seconds = 20

[[queue]]
name = "resurvey-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"
resurvey_after_hours = 4

[[queue]]
name = "weekly-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"
resurvey_after_hours = 168
`;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function configWith(options: { queues?: string; env?: Record<string, string>; engineExtra?: string; databaseUrl?: string; ariUrl?: string } = {}): AppConfig {
  const tree = writeConfigTree({
    queues: options.queues ?? QUEUES,
    engineExtra: options.engineExtra,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.ariUrl ? { ariUrl: options.ariUrl } : {}),
  });
  dirs.push(tree.dir);
  return loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env: options.env ?? { CC_CSAT_CALLER_HASH_KEY: KEY } });
}

function configProblems(options: Parameters<typeof configWith>[0]): string[] {
  try {
    configWith(options);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  assert.fail('the config was accepted');
}

/** A caller who hangs up as soon as the survey starts talking: enough to show it was offered. */
class Caller extends FakeChannel {
  constructor(
    id: string,
    private readonly variables: Record<string, string> = {},
    private readonly goneBeforeVariables = false,
  ) {
    super(id, { mediaMs: 5 });
    this.onPlay = () => setImmediate(() => this.callerHangsUp());
  }

  override async getVariable(name?: string): Promise<string | undefined> {
    if (this.goneBeforeVariables) throw new ChannelGoneError(this.id);
    return name === undefined ? undefined : this.variables[name];
  }
}

interface Rig {
  readonly storage: Storage & { db: Kysely<Database> };
  readonly metrics: Metrics;
  readonly logText: () => string;
  clock: Date;
  /** One call through the controller; resolves with its outcome row once recorded. */
  call(options: { callId: string; queue: string; agent?: string; talk?: string; callerNumber?: string; channel?: Caller }): Promise<{ outcome: string; reason: string | null; channel: Caller }>;
  skippedCount(reason: string): Promise<number>;
  close(): Promise<void>;
}

async function rig(options: { database?: 'sqlite' | 'postgres'; env?: Record<string, string> } = {}): Promise<Rig> {
  const postgres: PostgresDatabase | undefined = options.database === 'postgres' ? await createPostgresDatabase('eligibility') : undefined;
  const config = configWith({ ...(postgres ? { databaseUrl: postgres.url } : {}), ...(options.env ? { env: options.env } : {}) });
  const storage = (await openStorage(config.database)) as Storage & { db: Kysely<Database> };
  await storage.migrate();
  let text = '';
  const log = createLogger('debug', new Writable({ write: (chunk, _enc, done) => ((text += String(chunk)), done()) }));
  const metrics = new Metrics({ processMetrics: false });
  const state = { clock: new Date('2026-11-20T10:00:00.000Z') };
  const controller = new SurveyController({
    ratings: storage.ratings,
    answers: storage.answers,
    outcomes: storage.outcomes,
    surveyedCallers: storage.surveyedCallers,
    callerHashKey: config.callerHashKey,
    queues: config.queues,
    ivrs: config.ivrs,
    log,
    observer: metrics.surveyObserver(),
    now: () => state.clock,
  });
  return {
    storage,
    metrics,
    logText: () => text,
    get clock() {
      return state.clock;
    },
    set clock(value: Date) {
      state.clock = value;
    },
    async call({ callId, queue, agent = 'agent-001', talk, callerNumber, channel = new Caller(`chan-${callId}`) }) {
      const args = [callId, agent, queue, ...(talk !== undefined ? [talk] : [])];
      await controller.handleCall({ channel, args, callerNumber });
      const rows = await storage.outcomes.forCall(callId);
      const row = rows.at(-1);
      assert.ok(row, `an outcome for ${callId}`);
      return { outcome: row.outcome, reason: row.reason, channel };
    },
    async skippedCount(reason) {
      return (await metrics.surveysSkipped.get()).values.find((value) => value.labels.reason === reason)?.value ?? 0;
    },
    async close() {
      await storage.close();
      await postgres?.drop();
    },
  };
}

describe('sample_percent: decided by the call id alone', () => {
  test('the bucket is the first 4 bytes of SHA-256(call id), big-endian, mod 100', () => {
    for (const callId of ['1700000000.42', 'call-1', 'ünïcode-call']) {
      const expected = parseInt(createHash('sha256').update(callId, 'utf8').digest('hex').slice(0, 8), 16) % 100;
      assert.equal(sampleBucket(callId), expected);
    }
  });

  test('the same call id gets the same answer every time; about the given share of calls is sampled', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `1764000000.${i}`);
    const first = ids.map((id) => sampledIn(id, 30));
    assert.deepEqual(ids.map((id) => sampledIn(id, 30)), first);
    const share = first.filter(Boolean).length / ids.length;
    assert.ok(share > 0.27 && share < 0.33, `30% sampled, got ${share}`);
    assert.ok(ids.every((id) => sampledIn(id, 100)) && ids.every((id) => !sampledIn(id, 0)));
  });
});

test('talk seconds as the dialplan writes them: whole or decimal; anything else is unknown', () => {
  assert.deepEqual(['42', ' 7 ', '19.9', '0'].map(parseTalkSeconds), [42, 7, 19.9, 0]);
  assert.deepEqual(['', '-3', 'abc', '1e3', undefined].map(parseTalkSeconds), [undefined, undefined, undefined, undefined, undefined]);
});

describe('the checks, through the controller (SQLite)', () => {
  test('exclude_agents: an excluded agent\'s caller is skipped, hears nothing, and is counted', async () => {
    const r = await rig();
    try {
      const trainee = await r.call({ callId: 'excl-1', queue: 'sales-queue', agent: 'trainee-1' });
      assert.deepEqual([trainee.outcome, trainee.reason], ['skipped', 'agent_excluded']);
      assert.deepEqual(trainee.channel.heard, []);
      const agent = await r.call({ callId: 'excl-2', queue: 'sales-queue', agent: 'agent-001' });
      assert.equal(agent.outcome, 'abandoned', 'another agent\'s caller is surveyed (and hangs up on it)');
      assert.ok(agent.channel.heard.length > 0);
      assert.equal(await r.skippedCount('agent_excluded'), 1);
    } finally {
      await r.close();
    }
  });

  test('sample_percent: the same call is sampled the same way when it comes again; 0 surveys nobody', async () => {
    const r = await rig();
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `sample-${i}`);
      const outOfSample = ids.filter((id) => !sampledIn(id, 30));
      const inSample = ids.filter((id) => sampledIn(id, 30));
      assert.ok(outOfSample.length > 0 && inSample.length > 0, 'both kinds among the ids');
      for (const id of outOfSample) {
        for (let attempt = 0; attempt < 2; attempt++) {
          const result = await r.call({ callId: id, queue: 'sampled-queue', channel: new Caller(`chan-${id}-${attempt}`) });
          assert.deepEqual([result.outcome, result.reason], ['skipped', 'not_sampled']);
        }
      }
      const sampled = await r.call({ callId: inSample[0]!, queue: 'sampled-queue' });
      assert.equal(sampled.outcome, 'abandoned');
      const never = await r.call({ callId: inSample[1]!, queue: 'never-queue' });
      assert.deepEqual([never.outcome, never.reason], ['skipped', 'not_sampled']);
      assert.equal(await r.skippedCount('not_sampled'), outOfSample.length * 2 + 1);
    } finally {
      await r.close();
    }
  });

  test('min_talk_seconds: from the 4th Stasis arg or CSAT_TALK_SECONDS; short, exact, unknown, and a caller gone meanwhile', async () => {
    const r = await rig();
    try {
      const short = await r.call({ callId: 'talk-short', queue: 'talk-queue', talk: '19' });
      assert.deepEqual([short.outcome, short.reason], ['skipped', 'talk_too_short']);
      assert.deepEqual(short.channel.heard, []);
      const exact = await r.call({ callId: 'talk-exact', queue: 'talk-queue', talk: '20' });
      assert.equal(exact.outcome, 'abandoned', 'exactly min_talk_seconds is long enough');
      const fromVariable = await r.call({ callId: 'talk-var', queue: 'talk-queue', channel: new Caller('chan-talk-var', { CSAT_TALK_SECONDS: '95' }) });
      assert.equal(fromVariable.outcome, 'abandoned');
      const shortVariable = await r.call({ callId: 'talk-var-short', queue: 'talk-queue', talk: '', channel: new Caller('chan-talk-var-short', { CSAT_TALK_SECONDS: '4' }) });
      assert.deepEqual([shortVariable.outcome, shortVariable.reason], ['skipped', 'talk_too_short']);
      const unknown = await r.call({ callId: 'talk-unknown', queue: 'talk-queue' });
      assert.deepEqual([unknown.outcome, unknown.reason], ['skipped', 'talk_time_unknown']);
      const gone = await r.call({ callId: 'talk-gone', queue: 'talk-queue', channel: new Caller('chan-talk-gone', {}, true) });
      assert.deepEqual([gone.outcome, gone.reason], ['abandoned', 'hangup_before_start']);
      // A queue without the setting never asks (a 3-arg dialplan keeps working).
      const noSetting = await r.call({ callId: 'talk-none', queue: 'sales-queue', channel: new Caller('chan-talk-none', {}, true) });
      assert.equal(noSetting.outcome, 'abandoned');
      assert.equal(await r.skippedCount('talk_too_short'), 2);
      assert.equal(await r.skippedCount('talk_time_unknown'), 1);
    } finally {
      await r.close();
    }
  });

  test('cheap checks first: an excluded agent with an unknown talk time is agent_excluded, without asking the channel', async () => {
    const r = await rig();
    try {
      const result = await r.call({ callId: 'order-1', queue: 'sales-queue', agent: 'supervisor-2', channel: new Caller('chan-order-1', {}, true) });
      assert.deepEqual([result.outcome, result.reason], ['skipped', 'agent_excluded']);
    } finally {
      await r.close();
    }
  });

  test('skip reasons as metric labels are a fixed set', () => {
    assert.equal(skipReasonLabel('recently_surveyed'), 'recently_surveyed');
    assert.equal(skipReasonLabel('invalid_agent_id: agent_id is at most 128 characters'), 'invalid_identity');
    assert.equal(skipReasonLabel('anything a future version says'), 'other');
    assert.equal(skipReasonLabel(null), 'other');
  });
});

for (const { kind, skip } of DATABASES) {
  describe(`resurvey_after_hours on ${kind}`, { skip }, () => {
    test('the same number is not surveyed again within the window; at the window\'s end it is; others and withheld numbers are', async () => {
      const r = await rig({ database: kind });
      try {
        const start = r.clock.getTime();
        const first = await r.call({ callId: 're-1', queue: 'resurvey-queue', callerNumber: '+33 1 23 45 67 89' });
        assert.equal(first.outcome, 'abandoned', 'offered (the caller hung up on it): counts as surveyed');
        r.clock = new Date(start + 4 * HOUR_MS - 1);
        const again = await r.call({ callId: 're-2', queue: 'resurvey-queue', callerNumber: '+33123456789' });
        assert.deepEqual([again.outcome, again.reason], ['skipped', 'recently_surveyed']);
        assert.deepEqual(again.channel.heard, []);
        const other = await r.call({ callId: 're-3', queue: 'resurvey-queue', callerNumber: '+33999999999' });
        assert.equal(other.outcome, 'abandoned');
        for (const [index, withheld] of ['', 'anonymous', undefined].entries()) {
          const result = await r.call({ callId: `re-anon-${index}`, queue: 'resurvey-queue', ...(withheld !== undefined ? { callerNumber: withheld } : {}) });
          assert.equal(result.outcome, 'abandoned', `withheld number ${JSON.stringify(withheld)} is surveyed`);
        }
        // A queue without the setting neither checks nor remembers.
        const elsewhere = await r.call({ callId: 're-4', queue: 'sales-queue', callerNumber: '+33123456789' });
        assert.equal(elsewhere.outcome, 'abandoned');
        r.clock = new Date(start + 4 * HOUR_MS);
        const later = await r.call({ callId: 're-5', queue: 'resurvey-queue', callerNumber: '+33123456789' });
        assert.equal(later.outcome, 'abandoned', 'exactly resurvey_after_hours later: surveyed again');
        // The window is the asking queue's: a week-long queue refuses the caller surveyed just now.
        r.clock = new Date(start + 100 * HOUR_MS);
        const weekly = await r.call({ callId: 're-6', queue: 'weekly-queue', callerNumber: '+33123456789' });
        assert.deepEqual([weekly.outcome, weekly.reason], ['skipped', 'recently_surveyed']);
        assert.equal(await r.skippedCount('recently_surveyed'), 2);

        // Stored as the keyed hash, never the number; nothing in the log either.
        const rows = await r.storage.db.selectFrom('survey_caller').select(['caller_hash']).orderBy('caller_hash').execute();
        const expected = ['+33123456789', '+33999999999'].map((number) => createHmac('sha256', KEY).update(number).digest('hex')).sort();
        assert.deepEqual(rows.map((row) => row.caller_hash), expected);
        const unkeyed = createHash('sha256').update('+33123456789').digest('hex');
        assert.ok(!rows.some((row) => row.caller_hash === unkeyed), 'not a plain SHA-256 anyone could recompute');
        const logged = r.logText();
        for (const secret of ['+33123456789', '23 45 67', '+33999999999', ...expected]) assert.ok(!logged.includes(secret), `the log does not hold ${secret}`);
      } finally {
        await r.close();
      }
    });

    test('the store: one atomic upsert per caller, concurrent writers agree, rows past the longest window are deleted', async () => {
      const r = await rig({ database: kind });
      try {
        const store = r.storage.surveyedCallers;
        const hash = (n: number): string => createHmac('sha256', KEY).update(String(n)).digest('hex');
        const t0 = new Date('2026-11-01T00:00:00.000Z');
        const at = (hours: number): Date => new Date(t0.getTime() + hours * HOUR_MS);
        let calls = 0;
        const mark = (n: number, when: Date, callId = `call-${++calls}`): Promise<boolean> =>
          store.markSurveyed({ callerHash: hash(n), callId, at: when, windowMs: 4 * HOUR_MS, keepMs: 48 * HOUR_MS });

        const racing = await Promise.all(Array.from({ length: 8 }, () => mark(1, t0)));
        assert.equal(racing.filter(Boolean).length, 1, `one of eight concurrent writers (eight calls) wins: ${racing.join(',')}`);
        const winner = (await r.storage.db.selectFrom('survey_caller').select('call_id').executeTakeFirstOrThrow()).call_id!;
        // The same call coming back (an engine adopting it after a restart or a takeover) is not a resurvey.
        assert.equal(await mark(1, at(1), winner), true, 'the call that was offered the survey is offered it again');
        assert.equal(await mark(1, new Date(at(4).getTime() - 1)), false);
        assert.equal(await mark(1, at(5)), true);
        assert.equal(await mark(1, at(6)), false, 'the window counts from the latest survey');

        await mark(2, at(10));
        await mark(3, at(40));
        // At hour 60, with a longest window of 48 h: caller 1 (hour 4) and 2 (hour 10) are past it.
        assert.equal(await mark(4, at(60)), true);
        const left = await r.storage.db.selectFrom('survey_caller').select('caller_hash').execute();
        assert.deepEqual(new Set(left.map((row) => row.caller_hash)), new Set([hash(3), hash(4)]));
      } finally {
        await r.close();
      }
    });
  });
}

test('over ARI (simulator): the caller number comes from StasisStart, the talk time from CSAT_TALK_SECONDS', async () => {
  const sim = await new AriSimulator({ username: 'csat', password: 'secret' }).start();
  const config = configWith({ ariUrl: sim.url });
  const storage = await openStorage(config.database);
  await storage.migrate();
  const done = new Map<string, Promise<void>>();
  const engine = buildAriSurveyEngine({
    servers: config.ariServers,
    storage,
    engineId: config.engineId,
    queues: config.queues,
    ivrs: config.ivrs,
    callerHashKey: config.callerHashKey,
    log: createLogger('silent'),
    metrics: new Metrics({ processMetrics: false }),
    overrides: { reconnectMaxDelayMs: 1000, onCallHandled: (channelId, survey) => done.set(channelId, survey) },
  });
  const hangUpOnFirstPrompt = (channel: { id: string }, _media: readonly string[]): void => {
    const simChannel = sim.channels.get(channel.id);
    if (simChannel?.alive) setImmediate(() => sim.callerHangup(simChannel));
  };
  sim.onPlaybackStarted.add(hangUpOnFirstPrompt);
  try {
    engine.start();
    await sim.waitForClients(1);
    await until(() => engine.readiness.state === 'connected', 10_000, 'the engine to connect');
    const call = async (callId: string, queue: string, extra: { callerNumber?: string; variables?: Record<string, string> }) => {
      const channel = sim.enterStasis({ id: `chan-${callId}`, args: [callId, 'agent-001', queue], ...extra });
      await within(channel.ended, 10_000, `${callId} to end`);
      await until(() => done.has(channel.id), 10_000, `${callId} to be handled`);
      await within(done.get(channel.id)!, 10_000, `${callId}'s outcome`);
      const [row] = await storage.outcomes.forCall(callId);
      return { how: channel.endedBy, outcome: row?.outcome, reason: row?.reason };
    };
    assert.deepEqual(await call('sim-1', 'resurvey-queue', { callerNumber: '5551234' }), { how: 'caller_hangup', outcome: 'abandoned', reason: 'caller_hung_up' });
    assert.deepEqual(await call('sim-2', 'resurvey-queue', { callerNumber: '5551234' }), { how: 'continued', outcome: 'skipped', reason: 'recently_surveyed' });
    assert.deepEqual(await call('sim-3', 'talk-queue', { variables: { CSAT_TALK_SECONDS: '12' } }), { how: 'continued', outcome: 'skipped', reason: 'talk_too_short' });
    assert.deepEqual(await call('sim-4', 'talk-queue', { variables: { CSAT_TALK_SECONDS: '61' } }), { how: 'caller_hangup', outcome: 'abandoned', reason: 'caller_hung_up' });
  } finally {
    sim.onPlaybackStarted.delete(hangUpOnFirstPrompt);
    await engine.stop();
    await engine.claims.stop();
    await storage.close();
    await sim.close();
  }
});

describe('config', () => {
  test('bad values are refused, naming the file and the setting', () => {
    const queue = (lines: string): string => `[[queue]]\nname = "q"\n[queue.after_call]\ncsat_enabled = true\ncsat_ivr = "survey"\n${lines}\n`;
    const cases: Array<[string, string]> = [
      ['sample_percent = 101', 'queue[0].after_call.sample_percent'],
      ['sample_percent = 12.5', 'queue[0].after_call.sample_percent'],
      ['sample_percent = -1', 'queue[0].after_call.sample_percent'],
      ['resurvey_after_hours = 0', 'queue[0].after_call.resurvey_after_hours'],
      ['min_talk_seconds = 0', 'queue[0].after_call.min_talk_seconds'],
      ['min_talk_seconds = 2.5', 'queue[0].after_call.min_talk_seconds'],
      ['exclude_agents = "trainee-1"', 'queue[0].after_call.exclude_agents'],
      ['exclude_agents = [""]', 'queue[0].after_call.exclude_agents[0]'],
      ['resurvey_after_hourz = 4', 'queue[0].after_call'],
    ];
    for (const [lines, path] of cases) {
      const problems = configProblems({ queues: queue(lines) });
      assert.ok(problems.some((line) => line.startsWith(`config/queues.toml: ${path}`)), `${lines}: ${problems.join(' | ')}`);
    }
  });

  test('resurvey_after_hours without a key is refused, naming the setting and the variable; a short key too; never its value', () => {
    const missing = configProblems({ env: {} });
    assert.deepEqual(
      missing.filter((line) => line.includes('resurvey_after_hours')),
      [4, 5].map((index) => `config/queues.toml: queue[${index}].after_call.resurvey_after_hours: needs a key to hash caller numbers with: set the environment variable CC_CSAT_CALLER_HASH_KEY ([survey] caller_hash_key_env in config/engine.toml)`),
    );
    const short = configProblems({ env: { CC_CSAT_CALLER_HASH_KEY: 'short-key' } });
    assert.ok(short.some((line) => line.startsWith('config/engine.toml: survey.caller_hash_key_env:') && line.includes('at least 16')), short.join(' | '));
    assert.ok(!short.join('\n').includes('short-key'));
    // Another variable, named in [survey].
    const named = configWith({ engineExtra: '[survey]\ncaller_hash_key_env = "MY_HASH_KEY"', env: { MY_HASH_KEY: KEY } });
    assert.equal(named.callerHashKey, KEY);
    assert.ok(configProblems({ engineExtra: '[survey]\ncaller_hash_key_env = "MY_HASH_KEY"', env: { CC_CSAT_CALLER_HASH_KEY: KEY } }).some((line) => line.includes('set the environment variable MY_HASH_KEY')));
    // No queue needs it: no key, no problem.
    const without = configWith({ queues: '[[queue]]\nname = "q"\n[queue.after_call]\ncsat_enabled = true\ncsat_ivr = "survey"\n', env: {} });
    assert.equal(without.callerHashKey, undefined);
    assert.deepEqual(without.queues.get('q')?.after_call, { csat_enabled: true, csat_ivr: 'survey', exclude_agents: [], sample_percent: 100, language: 'en' });
  });
});
