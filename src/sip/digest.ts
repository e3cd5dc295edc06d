// SIP digest authentication (RFC 3261 section 22, RFC 2617 MD5 with qop=auth) for peers with a
// username. Nonces are stateless: a timestamp signed with this process's key, so a flood of INVITEs
// stores nothing, and a nonce older than NONCE_TTL_MS is answered with a fresh challenge (stale=true).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const NONCE_TTL_MS = 5 * 60_000;
// An Authorization header longer than this is not a digest answer anyone needs to parse.
const MAX_AUTHORIZATION_CHARS = 2048;

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

export type DigestCheck = { readonly kind: 'valid'; readonly username: string } | { readonly kind: 'stale' } | { readonly kind: 'invalid' } | { readonly kind: 'absent' };

export class DigestChallenger {
  private readonly key = randomBytes(32);

  constructor(
    private readonly realm: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The WWW-Authenticate value of a 401. */
  challenge(stale = false): string {
    return `Digest realm="${this.realm}", nonce="${this.nonce()}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  /**
   * Whether `authorization` (the INVITE's Authorization header) answers a challenge of ours with the
   * password of one of `credentials`. `method` and the request's own digest-uri are what was hashed.
   */
  check(authorization: string | undefined, method: string, credentials: readonly DigestCredentials[]): DigestCheck {
    if (authorization === undefined || authorization.trim() === '') return { kind: 'absent' };
    const fields = parseDigest(authorization);
    if (!fields) return { kind: 'invalid' };
    const { username, realm, nonce, uri, response } = fields;
    if (!username || !nonce || !uri || !response || realm !== this.realm) return { kind: 'invalid' };
    if (fields['algorithm'] !== undefined && fields['algorithm'].toUpperCase() !== 'MD5') return { kind: 'invalid' };
    const nonceAge = this.nonceAge(nonce);
    if (nonceAge === undefined) return { kind: 'invalid' };
    const peer = credentials.find((candidate) => candidate.username === username);
    if (!peer) return { kind: 'invalid' };
    const ha1 = md5(`${username}:${this.realm}:${peer.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const qop = fields['qop'];
    let expected: string;
    if (qop === undefined) expected = md5(`${ha1}:${nonce}:${ha2}`);
    else if (qop === 'auth' && fields['nc'] && fields['cnonce']) expected = md5(`${ha1}:${nonce}:${fields['nc']}:${fields['cnonce']}:auth:${ha2}`);
    else return { kind: 'invalid' };
    const given = Buffer.from(response.toLowerCase());
    const wanted = Buffer.from(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { kind: 'invalid' };
    // Right password, old nonce: the peer asks again without bothering its user (RFC 2617 stale).
    if (nonceAge > NONCE_TTL_MS) return { kind: 'stale' };
    return { kind: 'valid', username };
  }

  private nonce(): string {
    const issued = this.now().toString(36);
    return `${issued}.${this.sign(issued)}`;
  }

  /** How old a nonce of ours is; undefined when it is not ours (or forged). */
  private nonceAge(nonce: string): number | undefined {
    const [issued, signature, extra] = nonce.split('.');
    if (!issued || !signature || extra !== undefined || !/^[0-9a-z]{1,12}$/.test(issued)) return undefined;
    const wanted = Buffer.from(this.sign(issued));
    const given = Buffer.from(signature);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return undefined;
    const age = this.now() - Number.parseInt(issued, 36);
    return age < -60_000 ? undefined : Math.max(0, age);
  }

  private sign(issued: string): string {
    return createHmac('sha256', this.key).update(issued).digest('base64url').slice(0, 22);
  }
}

/** `Digest username="a", realm="b", ...` as a record (keys lower-cased); undefined when it is not a digest answer. */
export function parseDigest(header: string): Record<string, string> | undefined {
  if (header.length > MAX_AUTHORIZATION_CHARS) return undefined;
  const match = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!match) return undefined;
  const fields: Record<string, string> = {};
  const pattern = /\s*([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*(?:,|$)/gy;
  const rest = match[1]!;
  let consumed = 0;
  for (let part = pattern.exec(rest); part; part = pattern.exec(rest)) {
    fields[part[1]!.toLowerCase()] = part[2] !== undefined ? part[2].replace(/\\(.)/g, '$1') : part[3]!;
    consumed = pattern.lastIndex;
    if (consumed >= rest.length) break;
  }
  return consumed >= rest.trimEnd().length ? fields : undefined;
}

/** The Authorization value a client computes for `challenge` (tests and the benchmark answer 401s with it). */
export function answerDigest(challenge: string, options: { method: string; uri: string; username: string; password: string; cnonce?: string }): string {
  const fields = parseDigest(challenge);
  if (!fields?.['realm'] || !fields['nonce']) throw new Error(`not a digest challenge: ${challenge}`);
  const { realm, nonce } = fields;
  const cnonce = options.cnonce ?? randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = md5(`${options.username}:${realm}:${options.password}`);
  const ha2 = md5(`${options.method}:${options.uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${options.username}", realm="${realm}", nonce="${nonce}", uri="${options.uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}
