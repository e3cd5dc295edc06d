// Who may send callers to the front door: the [[sip.peer]] entries. A peer is known by its source
// address (an address or CIDR block), by SIP digest credentials, or by both. Anybody else gets 403,
// before any header is read or anything is stored.
import { isIP } from 'node:net';
import type { SipPeer } from '../config/sip.js';
import { DigestChallenger } from './digest.js';

export type PeerDecision =
  | { readonly kind: 'admitted'; readonly peer: string }
  | { readonly kind: 'challenge'; readonly wwwAuthenticate: string }
  | { readonly kind: 'forbidden'; readonly why: string };

export interface InviteCredentials {
  /** The address the INVITE came from (drachtio's source_address). */
  readonly sourceAddress: string;
  readonly authorization: string | undefined;
  readonly method: string;
  /** The Request-URI, as the digest answer must name it. */
  readonly uri: string;
}

export class PeerAdmission {
  private readonly challenger: DigestChallenger;

  /** `secret`: nonces are signed with a key derived from it (drachtio-server's secret, shared by the engines behind it). */
  constructor(
    private readonly peers: readonly SipPeer[],
    realm: string,
    secret?: string,
    now?: () => number,
  ) {
    this.challenger = new DigestChallenger(realm, secret, now);
  }

  decide(request: InviteCredentials): PeerDecision {
    const family = isIP(request.sourceAddress);
    const fromHere = this.peers.filter((peer) => !peer.addresses || (family !== 0 && peer.addresses.check(request.sourceAddress, family === 4 ? 'ipv4' : 'ipv6')));
    if (fromHere.length === 0) return { kind: 'forbidden', why: 'peer not allowed: source address is not in any [[sip.peer]] addresses' };
    // A peer known by its address alone needs nothing more.
    const byAddress = fromHere.find((peer) => !peer.digest);
    if (byAddress) return { kind: 'admitted', peer: byAddress.name };
    const credentials = fromHere.map((peer) => peer.digest!);
    const check = this.challenger.check(request.authorization, { method: request.method, uri: request.uri, sourceAddress: request.sourceAddress }, credentials);
    switch (check.kind) {
      case 'valid':
        return { kind: 'admitted', peer: fromHere.find((peer) => peer.digest!.username === check.username)!.name };
      case 'absent':
        return { kind: 'challenge', wwwAuthenticate: this.challenger.challenge(request.sourceAddress) };
      case 'stale':
        return { kind: 'challenge', wwwAuthenticate: this.challenger.challenge(request.sourceAddress, true) };
      case 'invalid':
        // A wrong password (or a replayed answer) is refused, not challenged again: a misconfigured trunk must not loop.
        return { kind: 'forbidden', why: 'peer not allowed: digest credentials do not match' };
    }
  }
}
