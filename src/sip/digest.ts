// SIP digest authentication (RFC 3261 section 22, RFC 2617 MD5 with qop=auth) for peers with a
// username. Nonces are stateless: a timestamp and the source address signed with a key derived from
// drachtio-server's secret, so a flood of INVITEs stores nothing, every engine behind one
// drachtio-server (and a restarted one) accepts the others' nonces, and a nonce is no use from
// another address. A nonce older than NONCE_TTL_MS, or not ours, gets a fresh challenge
// (stale=true). An answer is good once: a captured Authorization header replayed (same nonce, nc
// and cnonce) is refused; only answers with the right password are remembered, so what is kept
// grows with authenticated peers' calls alone, and is bounded anyway.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const NONCE_TTL_MS = 5 * 60_000;
// Answers seen within NONCE_TTL_MS; past this many the oldest are forgotten (their nonces expire soon).
const MAX_REMEMBERED_ANSWERS = 20_000;
// An Authorization header longer than this is not a digest answer anyone needs to parse.
const MAX_AUTHORIZATION_CHARS = 2048;

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

export type DigestCheck = { readonly kind: 'valid'; readonly username: string } | { readonly kind: 'stale' } | { readonly kind: 'invalid' } | { readonly kind: 'absent' };

/** What the answer must match besides the password: the request as it came. */
export interface DigestRequest {
  readonly method: string;
  /** The Request-URI: the digest's uri must be exactly it. */
  readonly uri: string;
  readonly sourceAddress: string;
}

export class DigestChallenger {
  private readonly key: Buffer;
  /** Answers already accepted, oldest first (a Map keeps insertion order), with when. */
  private readonly answered = new Map<string, number>();

  /** `secret`: what nonces are signed with (derived from; e.g. drachtio-server's secret); random when absent. */
  constructor(
    private readonly realm: string,
    secret?: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = secret === undefined ? randomBytes(32) : createHash('sha256').update(`cc-csat digest nonce key\0${secret}`).digest();
  }

  /** The WWW-Authenticate value of a 401 to a request from `sourceAddress`. */
  challenge(sourceAddress: string, stale = false): string {
    return `Digest realm="${this.realm}", nonce="${this.nonce(sourceAddress)}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  /**
   * Whether `authorization` (the INVITE's Authorization header) answers a challenge of ours, for
   * this request, with the password of one of `credentials`.
   */
  check(authorization: string | undefined, request: DigestRequest, credentials: readonly DigestCredentials[]): DigestCheck {
    if (authorization === undefined || authorization.trim() === '') return { kind: 'absent' };
    const fields = parseDigest(authorization);
    if (!fields) return { kind: 'invalid' };
    const { username, realm, nonce, uri, response } = fields;
    if (!username || !nonce || !uri || !response || realm !== this.realm) return { kind: 'invalid' };
    if (fields['algorithm'] !== undefined && fields['algorithm'].toUpperCase() !== 'MD5') return { kind: 'invalid' };
    // An answer computed for another request (another URI, its context in the parameters) is no answer to this one.
    if (uri !== request.uri) return { kind: 'invalid' };
    const nonceAge = this.nonceAge(nonce, request.sourceAddress);
    // Not ours (another cluster, a restart under another secret, another address): ask again.
    if (nonceAge === undefined) return { kind: 'stale' };
    const method = request.method;
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
    // Without qop there is no nonce count: such a nonce is good for one request.
    const answer = qop === undefined ? nonce : `${nonce} ${fields['nc']} ${fields['cnonce']}`;
    if (!this.firstTime(answer)) return { kind: 'invalid' };
    return { kind: 'valid', username };
  }

  private firstTime(answer: string): boolean {
    const now = this.now();
    for (const [seen, at] of this.answered) {
      if (now - at <= NONCE_TTL_MS && this.answered.size < MAX_REMEMBERED_ANSWERS) break;
      this.answered.delete(seen);
    }
    if (this.answered.has(answer)) return false;
    this.answered.set(answer, now);
    return true;
  }

  private nonce(sourceAddress: string): string {
    const issued = this.now().toString(36);
    return `${issued}.${this.sign(issued, sourceAddress)}`;
  }

  /** How old a nonce of ours, given to `sourceAddress`, is; undefined when it is not (or forged). */
  private nonceAge(nonce: string, sourceAddress: string): number | undefined {
    const [issued, signature, extra] = nonce.split('.');
    if (!issued || !signature || extra !== undefined || !/^[0-9a-z]{1,12}$/.test(issued)) return undefined;
    const wanted = Buffer.from(this.sign(issued, sourceAddress));
    const given = Buffer.from(signature);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return undefined;
    const age = this.now() - Number.parseInt(issued, 36);
    return age < -60_000 ? undefined : Math.max(0, age);
  }

  private sign(issued: string, sourceAddress: string): string {
    return createHmac('sha256', this.key).update(`${issued}\0${sourceAddress}`).digest('base64url').slice(0, 22);
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
