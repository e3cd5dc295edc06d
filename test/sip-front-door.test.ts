// The SIP front door's decisions without a SIP server: [sip] config, peers (addresses, CIDR, digest),
// the call's context from headers or URI parameters, the media server choice, and the refusals'
// statuses and headers. test/real-sip-front-door.test.ts runs them through a real drachtio-server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/problems.js';
import { sipConfig, type SipPeer } from '../src/config/sip.js';
import { callContextOf, uriParameters } from '../src/sip/context.js';
import { answerDigest, parseDigest } from '../src/sip/digest.js';
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
    assert.match(all(SIP, 'sip_uri = "http://x"'), /ari\.sip_uri: must be a sip: URI/);
    assert.match(all('[sip]\n[[sip.peer]]\nname = "p"\naddresses = ["127.0.0.1"]\n'), /sip: set secret_env \(or secret\)/);
    assert.match(all(`${SIP}\n[[sip.peer]]\nname = "half"\naddresses = ["10.1.1.1"]\npassword = "x"\n`), /sip\.peer\[2\]\.username: is required with password/);
    assert.match(all(`${SIP}\n[sip.headers]\ncall_id = "X Bad"\n`), /sip\.headers\.call_id: must be a SIP header name/);
    assert.match(all(`${SIP}\n[sip.headers]\nagent_id = "From"\n`), /sip\.headers\.agent_id: "From" is a standard SIP header/);
    assert.match(all(`${SIP}\n[sip.headers]\nqueue = "x-csat-call-id"\n`), /sip\.headers\.queue: "x-csat-call-id" is already headers\.call_id/);
    assert.match(all(`${SIP}\n[[sip.peer]]\nname = "all"\naddresses = ["0.0.0.0/0"]\n`), /sip\.peer\[2\]\.addresses: a \/0 block admits every address/);
    assert.match(all(`${SIP}\n[[sip.peer]]\nname = "again"\nusername = "trunk-user"\npassword = "x"\n`), /sip\.peer\[2\]\.username: "trunk-user" is already sip\.peer\[1\]'s username/);
    assert.match(all(SIP, 'sip_uri = "sips:csat@10.0.0.1"'), /ari\.sip_uri: must be a sip: URI with a user part/);
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
        media_server_timeout_ms: 8000,
        headers: { call_id: 'X-CSAT-Call-Id', agent_id: 'X-CSAT-Agent-Id', queue: 'X-CSAT-Queue', talk_seconds: 'X-CSAT-Talk-Seconds' },
        peer: [
          { name: 'pbx', addresses: ['10.0.0.0/8', '2001:db8::/32'] },
          { name: 'trunk', addresses: [], username: 'trunk-user', password: 'right' },
          { name: 'both', addresses: ['192.0.2.0/24'], username: 'both-user', password: 'both-pw' },
        ],
      },
      {},
    )!.peers;
  const URI = 'sip:csat@survey.example.com;call_id=c-1';
  const ask = (admission: PeerAdmission, sourceAddress: string, authorization?: string, method = 'INVITE', uri = URI) => admission.decide({ sourceAddress, authorization, method, uri });
  const challengeOf = (decision: ReturnType<PeerAdmission['decide']>): string => {
    assert.equal(decision.kind, 'challenge');
    return (decision as { wwwAuthenticate: string }).wwwAuthenticate;
  };
  const answer = (challenge: string, password = 'right', uri = URI, username = 'trunk-user') => answerDigest(challenge, { method: 'INVITE', uri, username, password });

  test("a source inside a peer's address or CIDR block is admitted; IPv4, IPv6 and IPv4-mapped IPv6", () => {
    const admission = new PeerAdmission(peers(), 'cc-csat', 'secret');
    assert.deepEqual(ask(admission, '10.200.3.4'), { kind: 'admitted', peer: 'pbx' });
    assert.deepEqual(ask(admission, '2001:db8:1::5'), { kind: 'admitted', peer: 'pbx' });
    assert.deepEqual(ask(admission, '::ffff:10.0.0.1'), { kind: 'admitted', peer: 'pbx' });
  });

  test('digest: challenged without credentials, admitted with the right password, refused with a wrong one, stale after five minutes', () => {
    let now = 1_800_000_000_000;
    const admission = new PeerAdmission(peers(), 'cc-csat', 'secret', () => now);
    const challenge = challengeOf(ask(admission, '203.0.113.9'));
    assert.match(challenge, /^Digest realm="cc-csat", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    assert.deepEqual(ask(admission, '203.0.113.9', answer(challenge)), { kind: 'admitted', peer: 'trunk' });
    assert.equal(ask(admission, '203.0.113.9', answer(challenge, 'wrong')).kind, 'forbidden');
    // The hash covers the method: an answer computed for another method is no answer.
    assert.equal(ask(admission, '203.0.113.9', answer(challenge), 'REGISTER').kind, 'forbidden');
    now += 6 * 60_000;
    assert.match(challengeOf(ask(admission, '203.0.113.9', answer(challenge))), /stale=true/);
  });

  test('a captured answer is good for nothing else: not replayed, not for another URI (another call context), not from another address', () => {
    const admission = new PeerAdmission(peers(), 'cc-csat', 'secret');
    const challenge = challengeOf(ask(admission, '203.0.113.9'));
    const good = answer(challenge);
    assert.equal(ask(admission, '203.0.113.9', good).kind, 'admitted');
    assert.equal(ask(admission, '203.0.113.9', good).kind, 'forbidden', 'the same answer twice');
    const other = answer(challenge, 'right', 'sip:csat@survey.example.com;call_id=c-2');
    assert.equal(ask(admission, '203.0.113.9', other).kind, 'forbidden', 'an answer for another Request-URI');
    // The nonce was given to 203.0.113.9: from elsewhere it is not ours, and a new challenge comes back.
    assert.equal(ask(admission, '198.51.100.4', answer(challenge)).kind, 'challenge');
  });

  test('nonces are signed with a key from the shared secret: another engine behind the same drachtio-server accepts them; a foreign or forged one is challenged again', () => {
    const first = new PeerAdmission(peers(), 'cc-csat', 'shared');
    const second = new PeerAdmission(peers(), 'cc-csat', 'shared');
    const stranger = new PeerAdmission(peers(), 'cc-csat', 'another-secret');
    const challenge = challengeOf(first.decide({ sourceAddress: '203.0.113.9', authorization: undefined, method: 'INVITE', uri: URI }));
    assert.equal(ask(second, '203.0.113.9', answer(challenge)).kind, 'admitted');
    assert.match(challengeOf(ask(stranger, '203.0.113.9', answer(challenge))), /stale=true/);
    assert.equal(ask(first, '203.0.113.9', 'Basic dHJ1bms6cmlnaHQ=').kind, 'forbidden');
    assert.equal(ask(first, '203.0.113.9', `Digest ${'a="b", '.repeat(1000)}`).kind, 'forbidden');
  });

  test('a peer with addresses and credentials needs both: from elsewhere its password is no use', () => {
    const admission = new PeerAdmission([peers()[0]!, peers()[2]!], 'cc-csat', 'secret');
    assert.equal(ask(admission, '198.51.100.1').kind, 'forbidden');
    const challenge = challengeOf(ask(admission, '192.0.2.50'));
    const good = answer(challenge, 'both-pw', URI, 'both-user');
    assert.equal(ask(admission, '198.51.100.1', good).kind, 'forbidden');
    assert.deepEqual(ask(admission, '192.0.2.50', good), { kind: 'admitted', peer: 'both' });
  });

  test('parseDigest reads quoted and bare values and refuses what is not a digest answer', () => {
    assert.deepEqual(parseDigest('Digest username="a\\"b", realm="r", nc=00000001'), { username: 'a"b', realm: 'r', nc: '00000001' });
    assert.equal(parseDigest('Bearer abc'), undefined);
    assert.equal(parseDigest('Digest username="a" garbage'), undefined);
    // A long hostile header below the size limit is parsed in linear time and refused.
    assert.equal(parseDigest(`Digest ${'a'.repeat(2000)}`), undefined);
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
