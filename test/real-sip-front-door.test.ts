// The real tier of the SIP front door: a real drachtio-server, two real Asterisk 22 media servers,
// one engine, and sipp as another PBX transferring its callers with the call's context in headers
// and pressing keys over RFC 4733. Refusals are sent by a bare SIP client over UDP, so each header is
// the test's choice; peers are told apart by their loopback source address (127.0.0.1, .2, .3).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { answerDigest } from '../src/sip/digest.js';
import { writeConfigTree, type ConfigTree } from './helpers/config-tree.js';
import { DrachtioServer, SipUdpClient, sippTransfer, type SipResponse } from './helpers/drachtio.js';
import { spawnEngine, type EngineProcess } from './helpers/engine-process.js';
import { ARI_PASSWORD, RealAsterisk, SALES_QUEUE, SHIPPED_IVR, eventually } from './helpers/real-asterisk.js';
import { within } from './helpers/wait.js';

const ASTERISK = process.env['CC_CSAT_ASTERISK'];
const DRACHTIO = process.env['CC_CSAT_DRACHTIO'];
const SKIP =
  ASTERISK && DRACHTIO
    ? false
    : 'real SIP front door tier skipped: set CC_CSAT_ASTERISK (../shared/asterisk/install.sh) and CC_CSAT_DRACHTIO (../shared/drachtio/install.sh); bash .ci/run sets both';

const QUEUES = `${SALES_QUEUE}
[[queue]]
name = "billing"
[queue.after_call]
csat_enabled = false
`;

const DIGEST_PASSWORD = 'trunk-secret-1';

interface Rating {
  call_id: string;
  agent_id: string;
  queue_id: string;
  score: number;
}

describe('SIP front door: drachtio-server, two real Asterisk media servers, sipp as the PBX', { skip: SKIP }, () => {
  let drachtio: DrachtioServer;
  const media: RealAsterisk[] = [];
  let tree: ConfigTree;
  let engine: EngineProcess;
  let base: string;
  let engineEnv: Record<string, string>;
  let db: SqliteDatabase.Database;
  const clients: SipUdpClient[] = [];

  const diagnostics = (): string => `engine:\n${engine.output().slice(-4000)}\ndrachtio:\n${drachtio.output().slice(-2000)}`;
  const ratings = (prefix: string): Rating[] =>
    db.prepare('SELECT call_id, agent_id, queue_id, score FROM cc_csat WHERE call_id LIKE ? ORDER BY call_id').all(`${prefix}%`) as Rating[];
  const serversOf = (prefix: string): Record<string, number> =>
    Object.fromEntries(
      (db.prepare("SELECT server, count(*) AS n FROM survey_outcome WHERE call_id LIKE ? AND outcome = 'completed' GROUP BY server").all(`${prefix}%`) as Array<{ server: string; n: number }>).map((row) => [row.server, row.n]),
    );
  const outcomesFor = (callId: string): Array<{ outcome: string; reason: string | null; queue_id: string | null; server: string | null }> =>
    db.prepare('SELECT outcome, reason, queue_id, server FROM survey_outcome WHERE call_id = ?').all(callId) as never;
  const metric = async (line: string): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
    return found === undefined ? 0 : Number(found.slice(line.length + 1));
  };
  const readyz = async (): Promise<{ status: number; body: Record<string, any> }> => {
    const answer = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: answer.status, body: (await answer.json()) as Record<string, any> };
  };
  const client = async (address = '127.0.0.1'): Promise<SipUdpClient> => {
    const opened = await SipUdpClient.open(drachtio.sipPort, address);
    clients.push(opened);
    return opened;
  };
  const context = (callId: string, queue = 'sales-queue', agent = 'agent-042'): Record<string, string> => ({ 'X-CSAT-Call-Id': callId, 'X-CSAT-Agent-Id': agent, 'X-CSAT-Queue': queue });

  before(async () => {
    drachtio = await DrachtioServer.start(DRACHTIO!);
    for (let index = 0; index < 2; index++) {
      const asterisk = await RealAsterisk.start(ASTERISK!);
      // A media server slow to answer callers whose call id starts with "slow-": the window in which
      // a caller hangs up during setup (Ringing, then 5 s before the survey answers).
      await asterisk.restart(async () => {
        const conf = join(asterisk.etcDir, 'extensions.conf');
        const text = readFileSync(conf, 'utf8');
        const entry = 'exten => csat-survey,1,Set(CSAT_CALL_ID=${PJSIP_HEADER(read,X-CSAT-Call-Id)})\n';
        assert.ok(text.includes(entry), 'asterisk-dev extensions.conf has the front door context');
        writeFileSync(conf, text.replace(entry, `${entry} same => n,ExecIf($["\${CSAT_CALL_ID:0:5}" = "slow-"]?Ringing())\n same => n,ExecIf($["\${CSAT_CALL_ID:0:5}" = "slow-"]?Wait(5))\n`));
      });
      media.push(asterisk);
    }
    const [a, b] = media as [RealAsterisk, RealAsterisk];
    tree = writeConfigTree({ queues: QUEUES, ivrs: { 'csat-survey': SHIPPED_IVR }, logLevel: 'info' });
    // Three [[ari]] entries: A and B, and "media-c", another application on A whose sip_uri names no
    // extension there, so Asterisk refuses every call sent to it: a media server that fails.
    const server = (name: string, asterisk: RealAsterisk, app: string, user: string): string => `
[[ari]]
name = "${name}"
url = "${asterisk.ariUrl}"
username = "csat"
password = "${ARI_PASSWORD}"
app = "${app}"
reconnect_max_delay_ms = 500
sip_uri = "sip:${user}@127.0.0.1:${asterisk.sipPort}"
`;
    writeFileSync(
      tree.enginePath,
      `[http]
host = "127.0.0.1"
port = 0
${server('media-a', a, 'csat', 'csat-survey')}
${server('media-b', b, 'csat', 'csat-survey')}
${server('media-c', a, 'csat-c', 'no-such-extension')}
[database]
url = "sqlite:${tree.dbPath}"

[paths]
queues = "${join(tree.dir, 'config', 'queues.toml')}"
ivr_dir = "${join(tree.dir, 'ivr')}"

[log]
level = "info"

[sip]
drachtio_host = "127.0.0.1"
drachtio_port = ${drachtio.adminPort}
secret_env = "TEST_DRACHTIO_SECRET"
reconnect_max_delay_ms = 500
retry_after_seconds = 20
# The "slow-" callers' media servers wait 5 s: past this they are cancelled and the next one tried.
media_server_timeout_ms = 2000

[[sip.peer]]
name = "pbx"
addresses = ["127.0.0.1/32"]

[[sip.peer]]
name = "trunk"
addresses = ["127.0.0.3"]
username = "trunk-user"
password_env = "TEST_TRUNK_PASSWORD"
`,
    );
    engineEnv = { TEST_DRACHTIO_SECRET: drachtio.secret, TEST_TRUNK_PASSWORD: DIGEST_PASSWORD };
    engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir, env: engineEnv });
    base = await engine.started(30_000);
    await eventually(async () => (await readyz()).status === 200, 60_000, () => `the engine ready with ARI and drachtio connected\n${diagnostics()}`, 200);
    db = new SqliteDatabase(tree.dbPath, { readonly: true });
  });

  after(async () => {
    for (const opened of clients) opened.close();
    db?.close();
    await engine?.stop('SIGTERM', 30_000).catch(() => engine.child.kill('SIGKILL'));
    for (const asterisk of media) await asterisk.close();
    await drachtio?.stop();
  });

  test('callers of another PBX are surveyed on both media servers and stored with their agent and queue; a failing media server is passed over', async () => {
    const run = await sippTransfer({ frontDoorPort: drachtio.sipPort, digit: '2', prefix: 'pbx-spread', agent: 'agent-007', queue: 'sales-queue', calls: 10, rate: 5 });
    assert.equal(run.code, 0, `sipp: every caller surveyed and hung up by cc-csat\n${run.output}\n${diagnostics()}`);
    await eventually(() => ratings('pbx-spread-').length === 10, 20_000, () => `10 ratings stored\n${diagnostics()}`, 100);
    for (const rating of ratings('pbx-spread-')) assert.deepEqual({ agent: rating.agent_id, queue: rating.queue_id, score: rating.score }, { agent: 'agent-007', queue: 'sales-queue', score: 4 });
    const spread = serversOf('pbx-spread-');
    assert.equal((spread['media-a'] ?? 0) + (spread['media-b'] ?? 0), 10, JSON.stringify(spread));
    assert.ok((spread['media-a'] ?? 0) >= 3 && (spread['media-b'] ?? 0) >= 3, `both media servers took callers: ${JSON.stringify(spread)}`);
    assert.equal(spread['media-c'], undefined);
    assert.ok((await metric('cc_csat_sip_relay_failures_total{server="media-c"}')) > 0, 'media-c was tried and refused');
    assert.equal(await metric('cc_csat_sip_invites_total{result="relayed"}'), 10);
    await eventually(async () => (await metric('cc_csat_sip_calls_live')) === 0, 10_000, 'no relayed call left open');
  });

  test('the caller hangs up mid-survey: the BYE reaches the media server, the survey ends abandoned, nothing rated', async () => {
    const run = await sippTransfer({ frontDoorPort: drachtio.sipPort, digit: '1', prefix: 'pbx-bye', agent: 'agent-010', queue: 'sales-queue', calls: 2, rate: 2, scenario: 'pbx-hangup.xml' });
    assert.equal(run.code, 0, `${run.output}\n${diagnostics()}`);
    await eventually(() => outcomesFor('pbx-bye-1').length + outcomesFor('pbx-bye-2').length === 2, 20_000, () => `both surveys ended\n${diagnostics()}`, 100);
    for (const callId of ['pbx-bye-1', 'pbx-bye-2']) {
      assert.deepEqual(outcomesFor(callId).map((row) => [row.outcome, row.reason]), [['abandoned', 'caller_hung_up']], callId);
    }
    assert.equal(ratings('pbx-bye-').length, 0);
    await eventually(async () => (await metric('cc_csat_sip_calls_live')) === 0, 10_000, 'no relayed call left open');
  });

  test('the PBX holds and resumes the call (re-INVITEs): Asterisk sees both, the survey goes on and the rating is stored', async () => {
    const since = media.map((asterisk) => asterisk.events.all.length);
    const run = await sippTransfer({ frontDoorPort: drachtio.sipPort, digit: '5', prefix: 'pbx-hold', agent: 'agent-011', queue: 'sales-queue', calls: 1, scenario: 'pbx-hold.xml' });
    assert.equal(run.code, 0, `${run.output}\n${diagnostics()}`);
    await eventually(() => ratings('pbx-hold-').length === 1, 20_000, 'the rating after hold and resume', 100);
    assert.equal(ratings('pbx-hold-')[0]!.score, 1);
    const seen = media.flatMap((asterisk, index) => asterisk.events.all.slice(since[index]).filter((event) => event.type === 'ChannelHold' || event.type === 'ChannelUnhold').map((event) => event.type));
    assert.deepEqual(seen, ['ChannelHold', 'ChannelUnhold'], 'the media server saw the hold and the resume');
  });

  test('bad or missing context: 4xx with a Warning and Reason saying why, nothing stored', async () => {
    const cases: Array<{ headers: Record<string, string>; uriParams?: string; status: number; why: RegExp; callId?: string; row?: string }> = [
      { headers: { 'X-CSAT-Agent-Id': 'agent-1', 'X-CSAT-Queue': 'sales-queue' }, status: 400, why: /no_call_id/ },
      { headers: { 'X-CSAT-Call-Id': 'bad-noqueue', 'X-CSAT-Agent-Id': 'agent-1' }, status: 400, why: /no_queue_id/, callId: 'bad-noqueue', row: 'no_queue_id' },
      { headers: context('bad-agent', 'sales-queue', 'a'.repeat(200)), status: 400, why: /invalid_agent_id/, callId: 'bad-agent', row: 'invalid_agent_id: agent_id is at most 128 characters' },
      { headers: context('bad-queue', 'no-such-queue'), status: 404, why: /unknown_queue/, callId: 'bad-queue', row: 'unknown_queue' },
      // The queue as a URI parameter, for PBXs that cannot add headers to a transfer.
      { headers: { 'X-CSAT-Call-Id': 'bad-disabled', 'X-CSAT-Agent-Id': 'agent-1' }, uriParams: ';queue=billing', status: 403, why: /csat_disabled/, callId: 'bad-disabled', row: 'csat_disabled' },
    ];
    for (const [index, entry] of cases.entries()) {
      const pbx = await client();
      pbx.invite({ headers: entry.headers, ...(entry.uriParams !== undefined && { uriParams: entry.uriParams }) });
      const response = await pbx.finalResponse();
      assert.equal(response.status, entry.status, `case ${index}: ${response.raw}`);
      assert.match(response.headers.get('warning') ?? '', entry.why, `case ${index}: Warning`);
      assert.match(response.headers.get('reason') ?? '', new RegExp(`cause=${entry.status}`), `case ${index}: Reason`);
      if (entry.callId) {
        assert.deepEqual(
          outcomesFor(entry.callId).map((row) => ({ outcome: row.outcome, reason: row.reason, server: row.server })),
          [{ outcome: 'skipped', reason: entry.row, server: null }],
          `case ${index}: the refusal is one skipped outcome`,
        );
      }
    }
    // A call already rated (by the previous test) is not surveyed again.
    const rated = ratings('pbx-spread-')[0]!;
    const again = await client();
    again.invite({ headers: context(rated.call_id) });
    const response = await again.finalResponse();
    assert.equal(response.status, 403, response.raw);
    assert.match(response.headers.get('warning') ?? '', /already_rated/);
    assert.equal(ratings('bad-').length, 0, 'nothing stored for refused callers');
    assert.equal(ratings(rated.call_id)[0]!.score, 4, 'the earlier rating is untouched');
  });

  test('peers: an unknown source gets 403; a digest peer is challenged, a wrong password refused, the right one admitted', async () => {
    const stranger = await client('127.0.0.2');
    stranger.invite({ headers: context('peer-stranger') });
    const refused = await stranger.finalResponse();
    assert.equal(refused.status, 403, refused.raw);
    assert.match(refused.headers.get('warning') ?? '', /peer not allowed/);
    assert.deepEqual(outcomesFor('peer-stranger'), [], 'nothing stored for a stranger');

    const trunk = await client('127.0.0.3');
    // The admitted INVITE names a disabled queue: its 403 csat_disabled shows it got past the peer check.
    trunk.invite({ headers: context('peer-trunk', 'billing') });
    const challenge = await trunk.finalResponse();
    assert.equal(challenge.status, 401, challenge.raw);
    const wwwAuthenticate = challenge.headers.get('www-authenticate')!;
    assert.match(wwwAuthenticate, /^Digest realm="cc-csat"/);

    const uri = `sip:csat@127.0.0.1:${drachtio.sipPort}`;
    trunk.invite({ headers: { ...context('peer-trunk', 'billing'), Authorization: answerDigest(wwwAuthenticate, { method: 'INVITE', uri, username: 'trunk-user', password: 'wrong' }) } }, 2);
    const wrong = await trunk.finalResponse(15_000, 2);
    assert.equal(wrong.status, 403, wrong.raw);
    assert.match(wrong.headers.get('warning') ?? '', /digest credentials do not match/);

    trunk.invite({ headers: { ...context('peer-trunk', 'billing'), Authorization: answerDigest(wwwAuthenticate, { method: 'INVITE', uri, username: 'trunk-user', password: DIGEST_PASSWORD }) } }, 3);
    const admitted = await trunk.finalResponse(15_000, 3);
    assert.equal(admitted.status, 403, admitted.raw);
    assert.match(admitted.headers.get('warning') ?? '', /csat_disabled/);
    assert.deepEqual(outcomesFor('peer-trunk').map((row) => row.reason), ['csat_disabled']);
  });

  test('a caller hanging up during setup: 487, the media server leg cancelled, nothing stored', async () => {
    const before = media.map((asterisk) => asterisk.events.all.length);
    const pbx = await client();
    pbx.invite({ headers: context('slow-cancel') });
    // The media server rings (its dialplan waits 5 s before the survey answers): the caller gives up.
    await eventually(() => pbx.responses().some((response) => response.status === 180), 15_000, () => `180 Ringing relayed from the media server\n${diagnostics()}`, 10);
    pbx.cancel();
    const response = await pbx.finalResponse();
    assert.equal(response.status, 487, response.raw);
    await eventually(() => pbx.responses('CANCEL').some((answer) => answer.status === 200), 5_000, 'the CANCEL answered 200');
    // The media server's leg is gone too: every channel created there since has been destroyed.
    await eventually(
      () =>
        media.every((asterisk, index) => {
          const created = asterisk.events.channelsCreated('PJSIP/', before[index]);
          return created.every((channel) => asterisk.events.destroyed(channel));
        }),
      15_000,
      'the cancelled call gone from the media server',
      50,
    );
    assert.ok(media.some((asterisk, index) => asterisk.events.channelsCreated('PJSIP/', before[index]).length > 0), 'the call had reached a media server');
    await eventually(async () => (await metric('cc_csat_sip_calls_live')) === 0, 10_000, 'no relayed call left open');
    assert.equal(await metric('cc_csat_sip_invites_total{result="cancelled"}'), 1);
    assert.equal(ratings('slow-').length, 0);
  });

  test('media servers that do not answer in time are cancelled one after the other; none answering: 503', async () => {
    const before = media.map((asterisk) => asterisk.events.all.length);
    const failuresBefore = (await metric('cc_csat_sip_relay_failures_total{server="media-a"}')) + (await metric('cc_csat_sip_relay_failures_total{server="media-b"}'));
    const pbx = await client();
    pbx.invite({ headers: context('slow-timeout') });
    const response = await pbx.finalResponse(30_000);
    assert.equal(response.status, 503, response.raw);
    assert.match(response.headers.get('warning') ?? '', /media servers refused the call/);
    const failuresAfter = (await metric('cc_csat_sip_relay_failures_total{server="media-a"}')) + (await metric('cc_csat_sip_relay_failures_total{server="media-b"}'));
    assert.equal(failuresAfter - failuresBefore, 2, 'both media servers tried and given up on');
    // Each slow media server had the call, and its leg was cancelled, not left ringing.
    await eventually(
      () => media.every((asterisk, index) => {
        const created = asterisk.events.channelsCreated('PJSIP/', before[index]);
        return created.length > 0 && created.every((channel) => asterisk.events.destroyed(channel));
      }),
      15_000,
      'both media servers to have had the call and hung it up',
      50,
    );
    assert.deepEqual(outcomesFor('slow-timeout'), []);
    await eventually(async () => (await metric('cc_csat_sip_calls_live')) === 0, 10_000, 'no relayed call left open');
  });

  test('drachtio-server gone: /readyz 503 with sip connecting; back: the engine reconnects and callers are surveyed again', async () => {
    assert.deepEqual(((await readyz()).body)['sip'], 'connected');
    assert.equal(await metric('cc_csat_sip_connected'), 1);
    await drachtio.kill();
    await eventually(async () => {
      const answer = await readyz();
      return answer.status === 503 && answer.body['sip'] === 'connecting';
    }, 15_000, () => `/readyz to say the front door is reconnecting\n${diagnostics()}`, 100);
    assert.equal(await metric('cc_csat_sip_connected'), 0);
    // Stopped while it cannot reach drachtio-server: a clean exit, like any other.
    assert.equal(await engine.stop('SIGTERM', 30_000), 0, diagnostics());
    engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir, env: engineEnv });
    base = await engine.started(30_000);
    await drachtio.restart();
    await eventually(async () => (await readyz()).status === 200, 20_000, () => `the engine back on drachtio-server\n${diagnostics()}`, 100);
    assert.equal(((await readyz()).body)['sip'], 'connected');
    assert.ok((await metric('cc_csat_sip_reconnect_attempts_total')) > 0);
    const run = await sippTransfer({ frontDoorPort: drachtio.sipPort, digit: '3', prefix: 'pbx-after-restart', agent: 'agent-009', queue: 'sales-queue', calls: 2, rate: 2 });
    assert.equal(run.code, 0, `${run.output}\n${diagnostics()}`);
    await eventually(() => ratings('pbx-after-restart-').length === 2, 20_000, '2 ratings stored after the reconnect', 100);
    assert.ok(ratings('pbx-after-restart-').every((rating) => rating.score === 3 && rating.agent_id === 'agent-009'));
  });

  test('SIGTERM: new INVITEs get 503 while the live survey finishes, its hangup relayed to the PBX', async () => {
    const live = sippTransfer({ frontDoorPort: drachtio.sipPort, digit: '4', prefix: 'pbx-draining', agent: 'agent-012', queue: 'sales-queue', calls: 1 });
    await eventually(async () => (await metric('cc_csat_surveys_live')) === 1 && (await metric('cc_csat_sip_calls_live')) === 1, 15_000, () => `the survey under way\n${diagnostics()}`, 50);
    engine.child.kill('SIGTERM');
    // The engine's own word that it stopped taking callers is the moment to knock.
    await eventually(() => engine.output().includes('shutting down: no new surveys'), 10_000, () => `the engine to start shutting down\n${diagnostics()}`, 20);
    const late = await client();
    late.invite({ headers: context('late-caller') });
    const refused = await late.finalResponse();
    assert.equal(refused.status, 503, refused.raw);
    assert.equal(refused.headers.get('retry-after'), '20');
    assert.match(refused.headers.get('warning') ?? '', /shutting_down/);
    const run = await live;
    assert.equal(run.code, 0, `the live caller rated and got cc-csat's BYE through the front door\n${run.output}\n${diagnostics()}`);
    assert.equal(await within(engine.exited, 30_000, 'the engine to exit after draining'), 0);
    assert.deepEqual(outcomesFor('late-caller'), []);
    // Ratings are read after the engine is gone: the drained survey's was committed before it exited.
    assert.deepEqual(ratings('pbx-draining-').map((rating) => rating.score), [2]);
    // Back on duty for the tests that follow.
    engine = spawnEngine(['start', '--config', tree.enginePath], { cwd: tree.dir, env: engineEnv });
    base = await engine.started(30_000);
    await eventually(async () => (await readyz()).status === 200, 60_000, () => `the restarted engine ready\n${diagnostics()}`, 200);
  });

  test('one media server stopped: new callers all go to the other; both stopped: 503 with Retry-After', async () => {
    const [a, b] = media as [RealAsterisk, RealAsterisk];
    await b.stop();
    await eventually(async () => (await readyz()).body['ari_servers']?.['media-b'] !== 'connected', 20_000, 'the engine to see media-b gone');
    const run = await sippTransfer({ frontDoorPort: drachtio.sipPort, digit: '1', prefix: 'pbx-one-left', agent: 'agent-008', queue: 'sales-queue', calls: 4, rate: 4 });
    assert.equal(run.code, 0, `${run.output}\n${diagnostics()}`);
    await eventually(() => ratings('pbx-one-left-').length === 4, 20_000, '4 ratings stored', 100);
    assert.deepEqual(serversOf('pbx-one-left-'), { 'media-a': 4 });
    assert.ok(ratings('pbx-one-left-').every((rating) => rating.score === 5));

    await a.stop();
    await eventually(async () => (await readyz()).body['ari'] !== 'degraded' && (await readyz()).body['ari'] !== 'connected', 20_000, 'the engine to see both media servers gone');
    const pbx = await client();
    pbx.invite({ headers: context('none-left') });
    const response: SipResponse = await pbx.finalResponse();
    assert.equal(response.status, 503, response.raw);
    assert.equal(response.headers.get('retry-after'), '20');
    assert.match(response.headers.get('warning') ?? '', /no media server ready/);
    assert.deepEqual(outcomesFor('none-left'), []);
  });
});
