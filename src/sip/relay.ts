// Relays an admitted caller to a media server as a B2BUA: the INVITE's SDP goes to Asterisk and
// Asterisk's answer back, so media flows between the PBX and Asterisk, never through us. A media
// server that refuses the call (any failure but a cancel) is left for the next one; the PBX hears
// only the last word.
import type { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import type { MediaServer } from './media-servers.js';

// The other side's answer to a re-INVITE we passed on; past this the PBX gets 500 rather than silence.
const REINVITE_TIMEOUT_MS = 10_000;

/** The context headers the media server's dialplan reads (asterisk-dev/conf/extensions.conf, [csat-frontdoor]); fixed names, whatever the PBX used. */
export const MEDIA_SERVER_HEADERS = { callId: 'X-CSAT-Call-Id', agentId: 'X-CSAT-Agent-Id', queueId: 'X-CSAT-Queue', talkSeconds: 'X-CSAT-Talk-Seconds' } as const;

export type RelayResult =
  | { readonly kind: 'relayed'; readonly server: string; readonly uas: Srf.Dialog; readonly uac: Srf.Dialog }
  /** The caller hung up during setup; the PBX has its 487. */
  | { readonly kind: 'cancelled' }
  /** The connection to drachtio-server dropped: nothing more can be sent for this call. */
  | { readonly kind: 'lost' }
  /** Every server tried refused or timed out (statuses in order), or the A leg was answered by drachtio-srf itself (500 when it could not send). */
  | { readonly kind: 'failed'; readonly attempts: ReadonlyArray<{ readonly server: string; readonly status: number | undefined }>; readonly answered: boolean };

export interface RelayHooks {
  /** Called before each attempt; the returned function when the attempt ends (answered or not). */
  attempting(server: string): () => void;
  failed(server: string, status: number | undefined): void;
}

export interface RelayControl {
  /** Whether the caller's CANCEL has arrived (the front door listens from the INVITE's arrival). */
  readonly cancelled: () => boolean;
  /** Aborted when the connection to drachtio-server drops: a pending attempt will never settle. */
  readonly connection: AbortSignal;
  /** A media server that has not answered by then is cancelled and the next one tried. */
  readonly attemptTimeoutMs: number;
}

interface SipErrorLike {
  readonly status?: number;
}

type AttemptEnd = { readonly kind: 'answered'; readonly uas: Srf.Dialog; readonly uac: Srf.Dialog } | { readonly kind: 'refused'; readonly status: number | undefined } | { readonly kind: 'lost' };

export async function relayToMediaServer(
  srf: Srf,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  servers: readonly MediaServer[],
  headers: Readonly<Record<string, string>>,
  hooks: RelayHooks,
  control: RelayControl,
): Promise<RelayResult> {
  // The typings leave out that a request is an EventEmitter.
  const events = req as unknown as EventEmitter;
  const attempts: Array<{ server: string; status: number | undefined }> = [];
  const answerCancelled = (): RelayResult => {
    if (!res.finalResponseSent) res.send(487);
    return { kind: 'cancelled' };
  };
  for (const server of servers) {
    if (control.cancelled()) return answerCancelled();
    if (control.connection.aborted) return { kind: 'lost' };
    const before = new Set(events.listeners('cancel'));
    const beforeUpdate = new Set(events.listeners('update'));
    const ended = hooks.attempting(server.name);
    let outgoing: Srf.SrfRequest | undefined;
    let timedOut = false;
    const cancelOutgoing = (): void => {
      try {
        outgoing?.cancel(() => undefined);
      } catch {
        // Already answered: its final response settles the attempt.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      cancelOutgoing();
    }, control.attemptTimeoutMs);
    let onAbort: (() => void) | undefined;
    const lost = new Promise<AttemptEnd>((resolve) => {
      onAbort = () => resolve({ kind: 'lost' });
      control.connection.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const attempt = srf
        .createB2BUA(req, res, server.sipUri, { headers: { ...headers }, passFailure: false, proxyRequestHeaders: [] }, {
          // createB2BUA listens for the caller's CANCEL only once the INVITE is out; one that came
          // sooner (or our own timeout) cancels it here.
          cbRequest: ((err: unknown, sent: Srf.SrfRequest) => {
            if (err) return;
            outgoing = sent;
            if (control.cancelled() || timedOut) cancelOutgoing();
          }) as unknown as (req: Srf.SrfRequest) => void,
        })
        .then(
          ({ uas, uac }): AttemptEnd => ({ kind: 'answered', uas, uac }),
          (err: unknown): AttemptEnd => ({ kind: 'refused', status: (err as SipErrorLike).status }),
        );
      const end = await Promise.race([attempt, lost]);
      if (end.kind === 'lost') return { kind: 'lost' };
      if (end.kind === 'answered') return { kind: 'relayed', server: server.name, uas: end.uas, uac: end.uac };
      if (control.cancelled()) return answerCancelled();
      const status = timedOut ? 408 : end.status;
      attempts.push({ server: server.name, status });
      hooks.failed(server.name, status);
      // drachtio-srf answered the caller itself (it could not send the INVITE): nothing left to try.
      if (res.finalResponseSent) return { kind: 'failed', attempts, answered: true };
    } finally {
      clearTimeout(timer);
      if (onAbort) control.connection.removeEventListener('abort', onAbort);
      ended();
      // createB2BUA's handlers of a finished attempt would answer and cancel it again.
      for (const listener of events.listeners('cancel')) if (!before.has(listener)) events.removeListener('cancel', listener as (...args: unknown[]) => void);
      for (const listener of events.listeners('update')) if (!beforeUpdate.has(listener)) events.removeListener('update', listener as (...args: unknown[]) => void);
    }
  }
  return { kind: 'failed', attempts, answered: false };
}

/**
 * BYE from either side ends the other: the caller hanging up ends the survey, the survey's hangup
 * ends the caller's call. `ended` once, whichever side went first; `onError` when a request to the
 * other side failed (a BYE to a side already gone: its own timers end it).
 *
 * A re-INVITE with new SDP (a PBX moving its media after the transfer, hold and resume) goes on to
 * the other side and its answer comes back; without that, Asterisk would keep sending the survey to
 * the address the call started with. SIP INFO (DTMF from PBXs that send keys that way) goes on too.
 */
export function pairDialogs(uas: Srf.Dialog, uac: Srf.Dialog, ended: () => void, onError: (err: unknown) => void): void {
  let done = false;
  const end = (other: Srf.Dialog) => (): void => {
    if (done) return;
    done = true;
    ended();
    Promise.resolve(other.destroy() as unknown).catch(onError);
  };
  uas.on('destroy', end(uac));
  uac.on('destroy', end(uas));
  for (const [from, to] of [
    [uas, uac],
    [uac, uas],
  ] as const) {
    from.on('modify', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
      // A re-INVITE without SDP (a session refresh, some PBXs' music on hold) asks for our offer:
      // the media as it stands is the other side's last answer.
      if (!req.body) {
        res.send(200, { body: from.local.sdp, headers: { 'Content-Type': 'application/sdp' } });
        return;
      }
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        res.send(500, { headers: { 'Retry-After': '1' } });
      }, REINVITE_TIMEOUT_MS);
      (to.modify(req.body) as Promise<string>).then(
        (sdp) => {
          clearTimeout(timer);
          if (!answered) res.send(200, { body: sdp, headers: { 'Content-Type': 'application/sdp' } });
        },
        (err: unknown) => {
          clearTimeout(timer);
          onError(err);
          if (!answered) res.send((err as { status?: number }).status ?? 488);
        },
      );
    });
    from.on('info', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
      const contentType = req.get('Content-Type');
      to.request({ method: 'INFO', headers: contentType ? { 'Content-Type': contentType } : {}, body: req.body } as unknown as Srf.SrfRequest).then(
        (answer) => res.send(answer.status),
        (err: unknown) => {
          onError(err);
          res.send(500);
        },
      );
    });
  }
}
