// [sip] in engine.toml: the SIP front door (src/sip/). Its schema, the checks that need the
// environment or the [[ari]] list, and the resolved form the front door runs from.
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import type { AriServer } from './load.js';
import { problem } from './problems.js';

const nonEmpty = z.string().trim().min(1, 'must not be empty');
// A header name as RFC 3261 allows it (token characters), e.g. X-CSAT-Call-Id.
const headerName = z.string().regex(/^[A-Za-z0-9!%*_+`'~.-]{1,64}$/, 'must be a SIP header name (letters, digits, "-", at most 64)');

/** An address or a CIDR block, IPv4 or IPv6: "192.0.2.7", "10.0.0.0/8", "2001:db8::/32". */
const addressOrCidr = z.string().superRefine((value, ctx) => {
  if (parseAddressOrCidr(value) === undefined) ctx.addIssue({ code: 'custom', message: `"${value}" is not an IP address or CIDR block (e.g. 192.0.2.7 or 10.0.0.0/8)` });
});

export function parseAddressOrCidr(value: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = value.trim().split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

// Headers of SIP itself (and their compact forms): never a place for the call's context.
const RESERVED_HEADERS = new Set(
  ['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq', 'contact', 'm', 'max-forwards', 'content-type', 'c', 'content-length', 'l', 'authorization', 'proxy-authorization', 'www-authenticate', 'route', 'record-route', 'p-asserted-identity', 'remote-party-id', 'diversion', 'supported', 'k', 'require', 'allow', 'user-agent', 'warning', 'reason', 'subject', 's'],
);

const SipPeerSchema = z
  .strictObject({
    // Names the peer in logs and in the metrics' `peer` label: a short plain word.
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"'),
    // Source addresses the peer's INVITEs come from (its SBC, its trunk's signalling addresses).
    addresses: z.array(addressOrCidr).default([]),
    // SIP digest credentials the peer answers a 401 challenge with (its trunk's username and password).
    username: nonEmpty.optional(),
    password: z.string().min(1).optional(),
    password_env: nonEmpty.optional(),
  })
  .refine((peer) => peer.username !== undefined || !peer.addresses.some((address) => parseAddressOrCidr(address)?.prefix === 0), {
    path: ['addresses'],
    message: 'a /0 block admits every address: add a username (SIP digest) or name the PBX\'s addresses',
  })
  .refine((peer) => peer.addresses.length > 0 || peer.username !== undefined, {
    message: 'needs addresses, a username (SIP digest), or both: otherwise anyone could send callers',
  })
  .refine((peer) => peer.username === undefined || peer.password !== undefined || peer.password_env !== undefined, {
    path: ['username'],
    message: 'needs password or password_env (the digest password)',
  })
  .refine((peer) => !(peer.password !== undefined && peer.password_env !== undefined), { message: 'set either password or password_env, not both' })
  .refine((peer) => peer.username !== undefined || (peer.password === undefined && peer.password_env === undefined), {
    path: ['username'],
    message: 'is required with password or password_env',
  });

export const SipSchema = z
  .strictObject({
    // drachtio-server's admin socket, which the engine connects to (inbound mode).
    drachtio_host: nonEmpty.default('127.0.0.1'),
    drachtio_port: z.number().int().min(1).max(65535).default(9022),
    secret: z.string().min(1).optional(),
    secret_env: nonEmpty.optional(),
    // Reconnects to drachtio-server forever, backing off up to this cap (as the ARI side does).
    reconnect_max_delay_ms: z.number().int().min(100).max(300_000).default(15_000),
    // The digest realm peers with a username are challenged in.
    realm: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a plain word or host name').default('cc-csat'),
    // Retry-After on a 503 (no media server ready, all at capacity, shutting down).
    retry_after_seconds: z.number().int().min(1).max(3600).default(30),
    // A media server that has not answered a relayed INVITE by then is cancelled, and the next one tried.
    media_server_timeout_ms: z.number().int().min(500).max(60_000).default(8_000),
    // The headers an INVITE carries the call's context in (URI parameters call_id, agent_id, queue work too).
    headers: z
      .strictObject({
        call_id: headerName.default('X-CSAT-Call-Id'),
        agent_id: headerName.default('X-CSAT-Agent-Id'),
        queue: headerName.default('X-CSAT-Queue'),
        talk_seconds: headerName.default('X-CSAT-Talk-Seconds'),
      })
      .prefault({}),
    peer: z.array(SipPeerSchema).min(1, 'needs at least one [[sip.peer]]: without one every INVITE would be refused').prefault([]),
  })
  .superRefine((sip, ctx) => {
    // One header per item, and none that SIP itself uses: agent_id = "From" would store (and log)
    // every caller's number as an agent.
    const seen = new Map<string, string>();
    for (const [key, name] of Object.entries(sip.headers)) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) ctx.addIssue({ code: 'custom', path: ['headers', key], message: `"${name}" is a standard SIP header, not one for the call's context` });
      const earlier = seen.get(lower);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['headers', key], message: `"${name}" is already headers.${earlier}` });
      else seen.set(lower, key);
    }
    const names = new Map<string, number>();
    const usernames = new Map<string, number>();
    sip.peer.forEach((peer, index) => {
      const earlierName = names.get(peer.name);
      if (earlierName !== undefined) ctx.addIssue({ code: 'custom', path: ['peer', index, 'name'], message: `duplicate peer name "${peer.name}" (first at sip.peer[${earlierName}])` });
      else names.set(peer.name, index);
      if (peer.username === undefined) return;
      const earlier = usernames.get(peer.username);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['peer', index, 'username'], message: `"${peer.username}" is already sip.peer[${earlier}]'s username (one password per username)` });
      else usernames.set(peer.username, index);
    });
  })
  .refine((sip) => !(sip.secret !== undefined && sip.secret_env !== undefined), { message: 'set either secret or secret_env, not both' })
  .refine((sip) => sip.secret !== undefined || sip.secret_env !== undefined, { message: "set secret_env (or secret): drachtio-server's admin secret" });
export type SipFileConfig = z.infer<typeof SipSchema>;

/** What the front door runs from: secrets resolved, addresses parsed. */
export interface SipConfig {
  readonly drachtioHost: string;
  readonly drachtioPort: number;
  readonly secret: string;
  readonly reconnectMaxDelayMs: number;
  readonly realm: string;
  readonly retryAfterSeconds: number;
  readonly mediaServerTimeoutMs: number;
  readonly headers: SipFileConfig['headers'];
  readonly peers: readonly SipPeer[];
}

export interface SipPeer {
  readonly name: string;
  /** Undefined: any source address (digest only). */
  readonly addresses: BlockList | undefined;
  readonly digest: { readonly username: string; readonly password: string } | undefined;
}

/** Problems [sip] has that the schema cannot see: unset environment variables, no media server with a sip_uri. */
export function checkSip(file: string, sip: SipFileConfig | undefined, servers: ReadonlyArray<{ sip_uri?: string | undefined }>, env: Readonly<Record<string, string | undefined>>): string[] {
  if (!sip) return [];
  const problems: string[] = [];
  if (sip.secret_env !== undefined && !env[sip.secret_env]) problems.push(problem(file, ['sip', 'secret_env'], `environment variable ${sip.secret_env} is not set`));
  sip.peer.forEach((peer, index) => {
    if (peer.password_env !== undefined && !env[peer.password_env]) problems.push(problem(file, ['sip', 'peer', index, 'password_env'], `environment variable ${peer.password_env} is not set`));
  });
  if (!servers.some((server) => server.sip_uri !== undefined)) {
    problems.push(problem(file, ['sip'], 'no [[ari]] server has a sip_uri: the front door would have no media server to send callers to'));
  }
  return problems;
}

export function sipConfig(sip: SipFileConfig | undefined, env: Readonly<Record<string, string | undefined>>): SipConfig | undefined {
  if (!sip) return undefined;
  return {
    drachtioHost: sip.drachtio_host,
    drachtioPort: sip.drachtio_port,
    secret: sip.secret ?? env[sip.secret_env!]!,
    reconnectMaxDelayMs: sip.reconnect_max_delay_ms,
    realm: sip.realm,
    retryAfterSeconds: sip.retry_after_seconds,
    mediaServerTimeoutMs: sip.media_server_timeout_ms,
    headers: sip.headers,
    peers: sip.peer.map((peer) => ({
      name: peer.name,
      addresses: peer.addresses.length === 0 ? undefined : blockListOf(peer.addresses),
      digest: peer.username === undefined ? undefined : { username: peer.username, password: peer.password ?? env[peer.password_env!]! },
    })),
  };
}

function blockListOf(addresses: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of addresses) {
    const parsed = parseAddressOrCidr(text)!;
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list;
}

/** The [[ari]] servers the front door may send callers to: those with a sip_uri. */
export function mediaServersOf(servers: readonly AriServer[]): Array<{ name: string; sipUri: string; maxLiveSurveys: number | undefined }> {
  return servers
    .filter((server) => server.config.sip_uri !== undefined)
    .map((server) => ({ name: server.name, sipUri: server.config.sip_uri!, maxLiveSurveys: server.config.max_live_surveys }));
}
