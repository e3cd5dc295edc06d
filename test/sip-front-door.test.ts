// The SIP front door's decisions without a SIP server: [sip] config, peers (addresses, CIDR, digest),
// the call's context from headers or URI parameters, the media server choice, and the refusals'
// statuses and headers. test/real-sip-front-door.test.ts runs them through a real drachtio-server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/problems.js';
import { sipConfig, type SipPeer } from '../src/config/sip.js';
import { callContextOf, uriParameters } from '../src/sip/context.js';
import { DigestChallenger, answerDigest, parseDigest } from '../src/sip/digest.js';
import { MediaServerPool, type MediaServer } from '../src/sip/media-servers.js';
import { PeerAdmission } from '../src/sip/peers.js';
import { rejectionFor, rejectionHeaders } from '../src/sip/rejections.js';
import { runCli } from './helpers/cli.js';
import { writeConfigTree } from './helpers/config-tree.js';

const SIP = `
[sip]
secret_env = "DRACHTIO_SECRET"

[[sip.peer]]
name = "pbx"
addresses = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]

[[sip.peer]]
name = "trunk"
username = "trunk-user"
password_env = "TRUNK_PASSWORD"
`;

function load(engineExtra: string, ariExtra = 'sip_uri = "sip:csat-survey@127.0.0.1:5060"', env: Record<string, string> = { DRACHTIO_SECRET: 's3cret', TRUNK_PASSWORD: 'pw' }) {
  const tree = writeConfigTree({ engineExtra, ariExtra });
  return loadConfig({ configPath: tree.enginePath, cwd: tree.dir, env });
}

function problems(engineExtra: string, ariExtra?: string, env?: Record<string, string>): string[] {
  try {
    load(engineExtra, ariExtra, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  return [];
}

describe('[sip] config', () => {
  test('a valid [sip] resolves its secret, peers and defaults; without [sip] the front door is off', () => {
    const config = load(SIP);
    assert.equal(config.sip?.secret, 's3cret');
    assert.equal(config.sip?.drachtioPort, 9022);
    assert.equal(config.sip?.retryAfterSeconds, 30);
    assert.deepEqual(config.sip?.headers, { call_id: 'X-CSAT-Call-Id', agent_id: 'X-CSAT-Agent-Id', queue: 'X-CSAT-Queue', talk_seconds: 'X-CSAT-Talk-Seconds' });
    assert.deepEqual(config.sip?.peers.map((peer) => [peer.name, peer.addresses !== undefined, peer.digest]), [
      ['pbx', true, undefined],
      ['trunk', false, { username: 'trunk-user', password: 'pw' }],
    ]);
    assert.equal(config.ariServers[0]!.config.sip_uri, 'sip:csat-survey@127.0.0.1:5060');
    assert.equal(load('').sip, undefined);
  });

  test('cc-csat check-config says the front door is on, with its peers and media servers; a mistake exits 1 naming it', async () => {
    const tree = writeConfigTree({ engineExtra: SIP, ariExtra: 'sip_uri = "sip:csat-survey@127.0.0.1:5060"' });
    const ok = await runCli(['check-config', '--config', tree.enginePath], { cwd: tree.dir, env: { DRACHTIO_SECRET: 's', TRUNK_PASSWORD: 'p' } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /SIP front door on \(2 peers, media servers: asterisk\)/);
    const missing = await runCli(['check-config', '--config', tree.enginePath], { cwd: tree.dir, env: { TRUNK_PASSWORD: 'p' } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /sip\.secret_env: environment variable DRACHTIO_SECRET is not set/);
  });

  test('mistakes name the file, the path and the problem', () => {
    const all = (text: string, ...args: [string?, Record<string, string>?]) => problems(text, ...args).join('\n');
    assert.match(all('[sip]\nsecret = "x"\n'), /sip\.peer: needs at least one \[\[sip\.peer\]\]/);
    assert.match(all(`${SIP}\n[[sip.peer]]\nname = "open"\n`), /sip\.peer\[2\]: needs addresses, a username/);
    assert.match(all(`${SIP}\n[[sip.peer]]\nname = "bad"\naddresses = ["10.0.0.0/33"]\n`), /sip\.peer\[2\]\.addresses\[0\]: "10\.0\.0\.0\/33" is not an IP address or CIDR block/);
    assert.match(all(`${SIP}\n[[sip.peer]]\nname = "pbx"\naddresses = ["10.1.1.1"]\n`), /sip\.peer\[2\]\.name: duplicate peer name "pbx" \(first at sip\.peer\[0\]\)/);
    assert.match(all(SIP, '', { TRUNK_PASSWORD: 'pw' }), /sip\.secret_env: environment variable DRACHTIO_SECRET is not set/);
    assert.match(all(SIP, '', { DRACHTIO_SECRET: 'x' }), /sip\.peer\[1\]\.password_env: environment variable TRUNK_PASSWORD is not set/);
    assert.match(all(SIP, ''), /sip: no \[\[ari\]\] server has a sip_uri/);
    assert.match(all(SIP, 'sip_uri = "http://x"'), /ari\.sip_uri: must be a SIP URI/);
    assert.match(all('[sip]\n[[sip.peer]]\nname = "p"\naddresses = ["127.0.0.1"]\n'), /sip: set secret_env \(or secret\)/);
    assert.match(all(`${SIP}\n[[sip.peer]]\nname = "half"\naddresses = ["10.1.1.1"]\npassword = "x"\n`), /sip\.peer\[2\]\.username: is required with password/);
    assert.match(all(`${SIP}\n[sip.headers]\ncall_id = "X Bad"\n`), /sip\.headers\.call_id: must be a SIP header name/);
  });
});

describe('peers', () => {
  const peers = (): readonly SipPeer[] =>
    sipConfig(
      {
        drachtio_host: '127.0.0.1',
        drachtio_port: 9022,
        secret: 'x',
        reconnect_max_delay_ms: 1000,
        realm: 'cc-csat',
        retry_after_seconds: 30,
        headers: { call_id: 'X-CSAT-Call-Id', agent_id: 'X-CSAT-Agent-Id', queue: 'X-CSAT-Queue', talk_seconds: 'X-CSAT-Talk-Seconds' },
        peer: [
          { name: 'pbx', addresses: ['10.0.0.0/8', '2001:db8::/32'] },
          { name: 'trunk', addresses: [], username: 'trunk-user', password: 'right' },
          { name: 'both', addresses: ['192.0.2.0/24'], username: 'both-user', password: 'both-pw' },
        ],
      },
      {},
    )!.peers;

  test('a source inside a peer\'s address or CIDR block is admitted; IPv4 and IPv6', () => {
    const admission = new PeerAdmission(peers(), 'cc-csat');
    assert.deepEqual(admission.decide({ sourceAddress: '10.200.3.4', authorization: undefined, method: 'INVITE' }), { kind: 'admitted', peer: 'pbx' });
    assert.deepEqual(admission.decide({ sourceAddress: '2001:db8:1::5', authorization: undefined, method: 'INVITE' }), { kind: 'admitted', peer: 'pbx' });
  });

  test('digest: challenged without credentials, admitted with the right password, refused with a wrong one, stale after five minutes', () => {
    let now = 1_800_000_000_000;
    const admission = new PeerAdmission(peers(), 'cc-csat', () => now);
    const first = admission.decide({ sourceAddress: '203.0.113.9', authorization: undefined, method: 'INVITE' });
    assert.equal(first.kind, 'challenge');
    const challenge = (first as { wwwAuthenticate: string }).wwwAuthenticate;
    assert.match(challenge, /^Digest realm="cc-csat", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    const uri = 'sip:csat@survey.example.com';
    const right = answerDigest(challenge, { method: 'INVITE', uri, username: 'trunk-user', password: 'right' });
    assert.deepEqual(admission.decide({ sourceAddress: '203.0.113.9', authorization: right, method: 'INVITE' }), { kind: 'admitted', peer: 'trunk' });
    const wrong = answerDigest(challenge, { method: 'INVITE', uri, username: 'trunk-user', password: 'wrong' });
    assert.equal(admission.decide({ sourceAddress: '203.0.113.9', authorization: wrong, method: 'INVITE' }).kind, 'forbidden');
    // The hash covers the method: an answer computed for another method is no answer.
    assert.equal(admission.decide({ sourceAddress: '203.0.113.9', authorization: right, method: 'REGISTER' }).kind, 'forbidden');
    now += 6 * 60_000;
    const stale = admission.decide({ sourceAddress: '203.0.113.9', authorization: right, method: 'INVITE' });
    assert.equal(stale.kind, 'challenge');
    assert.match((stale as { wwwAuthenticate: string }).wwwAuthenticate, /stale=true/);
  });

  test('a nonce not issued by this process (forged or from another engine) is not accepted', () => {
    const admission = new PeerAdmission(peers(), 'cc-csat');
    const other = new DigestChallenger('cc-csat');
    const forged = answerDigest(other.challenge(), { method: 'INVITE', uri: 'sip:csat@x', username: 'trunk-user', password: 'right' });
    assert.equal(admission.decide({ sourceAddress: '203.0.113.9', authorization: forged, method: 'INVITE' }).kind, 'forbidden');
    assert.equal(admission.decide({ sourceAddress: '203.0.113.9', authorization: 'Basic dHJ1bms6cmlnaHQ=', method: 'INVITE' }).kind, 'forbidden');
    assert.equal(admission.decide({ sourceAddress: '203.0.113.9', authorization: `Digest ${'a="b", '.repeat(1000)}`, method: 'INVITE' }).kind, 'forbidden');
  });

  test('a peer with addresses and credentials needs both: from elsewhere its password is no use', () => {
    const admission = new PeerAdmission([peers()[0]!, peers()[2]!], 'cc-csat');
    assert.equal(admission.decide({ sourceAddress: '198.51.100.1', authorization: undefined, method: 'INVITE' }).kind, 'forbidden');
    const challenge = admission.decide({ sourceAddress: '192.0.2.50', authorization: undefined, method: 'INVITE' });
    assert.equal(challenge.kind, 'challenge');
    const answer = answerDigest((challenge as { wwwAuthenticate: string }).wwwAuthenticate, { method: 'INVITE', uri: 'sip:csat@x', username: 'both-user', password: 'both-pw' });
    assert.deepEqual(admission.decide({ sourceAddress: '192.0.2.50', authorization: answer, method: 'INVITE' }), { kind: 'admitted', peer: 'both' });
    assert.equal(admission.decide({ sourceAddress: '198.51.100.1', authorization: answer, method: 'INVITE' }).kind, 'forbidden');
  });

  test('parseDigest reads quoted and bare values and refuses what is not a digest answer', () => {
    assert.deepEqual(parseDigest('Digest username="a\\"b", realm="r", nc=00000001'), { username: 'a"b', realm: 'r', nc: '00000001' });
    assert.equal(parseDigest('Bearer abc'), undefined);
    assert.equal(parseDigest('Digest username="a" garbage'), undefined);
  });
});

describe('the call context', () => {
  const headers = { call_id: 'X-CSAT-Call-Id', agent_id: 'X-CSAT-Agent-Id', queue: 'X-CSAT-Queue', talk_seconds: 'X-CSAT-Talk-Seconds' };
  const invite = (values: Record<string, string>, uri = 'sip:csat@10.0.0.1') => ({
    get: (name: string) => Object.entries(values).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1],
    uri,
  });

  test('from headers, or from URI parameters (percent-decoded) where a header is missing or empty', () => {
    assert.deepEqual(callContextOf(invite({ 'x-csat-call-id': ' c-1 ', 'X-CSAT-Agent-Id': 'Smith, Alice', 'X-CSAT-Queue': 'sales', 'X-CSAT-Talk-Seconds': '95' }), headers), {
      ok: true,
      context: { identity: { callId: 'c-1', agentId: 'Smith, Alice', queueId: 'sales' }, talkSeconds: 95 },
    });
    const fromUri = callContextOf(invite({ 'X-CSAT-Call-Id': '' }, 'sip:csat@10.0.0.1:5060;transport=udp;call_id=c%202;agent_id=a%C3%A9;queue=sales?X-Other=1'), headers);
    assert.deepEqual(fromUri, { ok: true, context: { identity: { callId: 'c 2', agentId: 'aé', queueId: 'sales' }, talkSeconds: undefined } });
    assert.deepEqual(callContextOf(invite({}), headers), { ok: true, context: { identity: { callId: undefined, agentId: undefined, queueId: undefined }, talkSeconds: undefined } });
  });

  test('a value that could not be stored is refused with the reason the Stasis path gives; the call id is kept when it is usable', () => {
    assert.deepEqual(callContextOf(invite({ 'X-CSAT-Call-Id': 'c-3', 'X-CSAT-Agent-Id': 'a\u202Eb', 'X-CSAT-Queue': 'q' }), headers), {
      ok: false,
      reason: 'invalid_agent_id: agent_id: character U+202E at position 2 is an invisible formatting character (bidi control, zero-width...)',
      callId: 'c-3',
    });
    assert.deepEqual(callContextOf(invite({ 'X-CSAT-Call-Id': 'x'.repeat(129), 'X-CSAT-Agent-Id': 'a', 'X-CSAT-Queue': 'q' }), headers), {
      ok: false,
      reason: 'invalid_call_id: call_id is at most 128 characters',
      callId: undefined,
    });
    const talk = callContextOf(invite({ 'X-CSAT-Call-Id': 'c-4', 'X-CSAT-Talk-Seconds': '-5' }), headers);
    assert.deepEqual(talk, { ok: false, reason: 'invalid_talk_seconds: must be a whole number of seconds', callId: 'c-4' });
  });

  test('URI parameters: malformed percent-encoding counts as absent; parameters of the user part are not the URI\'s', () => {
    assert.deepEqual([...uriParameters('sip:csat;call_id=user-part@host;queue=%E0%A4%A;agent_id=a')], [['agent_id', 'a']]);
  });
});

describe('choosing a media server', () => {
  const servers: MediaServer[] = [
    { name: 'a', sipUri: 'sip:s@a', maxLiveSurveys: undefined },
    { name: 'b', sipUri: 'sip:s@b', maxLiveSurveys: 2 },
    { name: 'c', sipUri: 'sip:s@c', maxLiveSurveys: undefined },
  ];

  test('only ready servers with room, fewest live surveys first, calls in setup counted; equal servers take turns', () => {
    const live = new Map([['a', 3], ['b', 0], ['c', 1]]);
    const ready = new Set(['a', 'b', 'c']);
    const pool = new MediaServerPool(servers, { isReady: (name) => ready.has(name), liveSurveys: (name) => live.get(name) ?? 0 });
    const names = () => {
      const choice = pool.choose();
      return choice.kind === 'servers' ? choice.servers.map((server) => server.name) : choice.why;
    };
    assert.deepEqual(names(), ['b', 'c', 'a']);
    const setups = [pool.settingUpOn('b'), pool.settingUpOn('b')];
    // b is at its max_live_surveys (2) with two calls in setup.
    assert.deepEqual(names(), ['c', 'a']);
    for (const done of setups) done();
    setups[0]!();
    assert.equal(pool.load('b'), 0, 'ending a setup twice counts once');
    ready.delete('b');
    assert.deepEqual(names(), ['c', 'a']);
    live.set('a', 1);
    const firsts = new Set([names()[0], names()[0]]);
    assert.deepEqual([...firsts].sort(), ['a', 'c'], 'equal loads alternate');
    ready.clear();
    assert.match(String(names()), /no media server ready/);
  });

  test('every ready server full: none, saying so', () => {
    const pool = new MediaServerPool([servers[1]!], { isReady: () => true, liveSurveys: () => 2 });
    assert.deepEqual(pool.choose(), { kind: 'none', why: 'all media servers at capacity (max_live_surveys)' });
  });
});

describe('refusals', () => {
  test('each reason has the status a PBX can act on', () => {
    const status = (reason: string) => rejectionFor(reason, 30).status;
    assert.equal(status('no_call_id'), 400);
    assert.equal(status('invalid_agent_id: agent_id is at most 128 characters'), 400);
    assert.equal(status('unknown_queue'), 404);
    for (const reason of ['csat_disabled', 'already_rated', 'already_answered', 'not_sampled', 'agent_excluded', 'talk_too_short']) assert.equal(status(reason), 403, reason);
    assert.deepEqual(rejectionFor('shutting_down', 30).retryAfterSeconds, 30);
  });

  test('Warning and Reason carry the reason as a quoted string, whatever it holds', () => {
    const headers = rejectionHeaders({ status: 400, phrase: 'Bad Request', why: 'invalid "x"\\ \r\nthing' }, 'host-1');
    assert.equal(headers['Warning'], `399 host-1 "invalid 'x''  thing"`);
    assert.equal(headers['Reason'], `SIP ;cause=400 ;text="invalid 'x''  thing"`);
    assert.equal(headers['Retry-After'], undefined);
    assert.equal(rejectionHeaders({ status: 503, phrase: 'Service Unavailable', why: 'x', retryAfterSeconds: 7 }, 'h')['Retry-After'], '7');
  });
});
