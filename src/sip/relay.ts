// Relays an admitted caller to a media server as a B2BUA: the INVITE's SDP goes to Asterisk and
// Asterisk's answer back, so media flows between the PBX and Asterisk, never through us. A media
// server that refuses the call (any failure but a cancel) is left for the next one; the PBX hears
// only the last word.
import type { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import type { MediaServer } from './media-servers.js';

/** The context headers the media server's dialplan reads (asterisk-dev/conf/extensions.conf, [csat-frontdoor]); fixed names, whatever the PBX used. */
export const MEDIA_SERVER_HEADERS = { callId: 'X-CSAT-Call-Id', agentId: 'X-CSAT-Agent-Id', queueId: 'X-CSAT-Queue', talkSeconds: 'X-CSAT-Talk-Seconds' } as const;

export type RelayResult =
  | { readonly kind: 'relayed'; readonly server: string; readonly uas: Srf.Dialog; readonly uac: Srf.Dialog }
  | { readonly kind: 'cancelled' }
  /** Every server tried refused (statuses in order), or the A leg was answered by drachtio itself (500 on a send error). */
  | { readonly kind: 'failed'; readonly attempts: ReadonlyArray<{ readonly server: string; readonly status: number | undefined }>; readonly answered: boolean };

export interface RelayHooks {
  /** Called before each attempt; the returned function when the attempt ends (answered or not). */
  attempting(server: string): () => void;
  failed(server: string, status: number | undefined): void;
}

interface SipErrorLike {
  readonly status?: number;
}

export async function relayToMediaServer(
  srf: Srf,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  servers: readonly MediaServer[],
  headers: Readonly<Record<string, string>>,
  hooks: RelayHooks,
): Promise<RelayResult> {
  // A CANCEL while an attempt is out is answered by createB2BUA (487, CANCEL to the media server);
  // one between attempts (after a refusal, before the next INVITE) is ours to answer.
  let cancelled = false;
  let attemptOut = false;
  const onCancel = (): void => {
    cancelled = true;
    if (!attemptOut && !res.finalResponseSent) res.send(487);
  };
  // The typings leave out that a request is an EventEmitter.
  const events = req as unknown as EventEmitter;
  events.on('cancel', onCancel);
  const attempts: Array<{ server: string; status: number | undefined }> = [];
  try {
    for (const server of servers) {
      if (cancelled) return { kind: 'cancelled' };
      const before = new Set(events.listeners('cancel'));
      const ended = hooks.attempting(server.name);
      attemptOut = true;
      try {
        const { uas, uac } = await srf.createB2BUA(req, res, server.sipUri, { headers: { ...headers }, passFailure: false, proxyRequestHeaders: [] });
        return { kind: 'relayed', server: server.name, uas, uac };
      } catch (err) {
        const status = (err as SipErrorLike).status;
        if (cancelled || status === 487) return { kind: 'cancelled' };
        attempts.push({ server: server.name, status });
        hooks.failed(server.name, status);
        // drachtio answered the caller itself (it could not send the INVITE): nothing left to try.
        if (res.finalResponseSent) return { kind: 'failed', attempts, answered: true };
      } finally {
        attemptOut = false;
        ended();
        // createB2BUA's CANCEL handler of a finished attempt would answer and cancel it again.
        for (const listener of events.listeners('cancel')) if (!before.has(listener)) events.removeListener('cancel', listener as (...args: unknown[]) => void);
      }
    }
    return { kind: 'failed', attempts, answered: false };
  } finally {
    events.removeListener('cancel', onCancel);
  }
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
      (to.modify(req.body) as Promise<string>).then(
        (sdp) => res.send(200, { body: sdp, headers: { 'Content-Type': 'application/sdp' } }),
        (err: unknown) => {
          onError(err);
          res.send((err as { status?: number }).status ?? 488);
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
