// The SIP front door: any PBX transfers its caller to a SIP URI of ours after the agent leaves, and
// the survey runs on one of our Asterisk media servers. The engine connects to drachtio-server
// (inbound mode) and, for each INVITE: admits only configured peers (403), reads and validates the
// call's context (400/404/403 with Warning and Reason, a survey_outcome row when there is a call id),
// picks a ready media server with the fewest live surveys (503 + Retry-After when none), and relays
// the call there as a B2BUA, the context in headers the media server's dialplan hands to Stasis.
import { setMaxListeners, type EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import Srf from 'drachtio-srf';
import type { QueueConfig } from '../config/schema.js';
import type { SipConfig } from '../config/sip.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { AnswerStore, OutcomeStore, RatingStore } from '../storage/ports.js';
import { skipReason } from '../survey/eligibility.js';
import type { CallIdentity } from '../survey/identify.js';
import { callContextOf, type CallContext } from './context.js';
import { MediaServerPool, type MediaServer, type MediaServerView } from './media-servers.js';
import { PeerAdmission } from './peers.js';
import { rejectionFor, rejectionHeaders, resultOf, type InviteResult, type Rejection } from './rejections.js';
import { MEDIA_SERVER_HEADERS, pairDialogs, relayToMediaServer } from './relay.js';

export type SipState = 'connecting' | 'connected' | 'stopped';

interface EstablishedCall {
  readonly uas: Srf.Dialog;
  readonly uac: Srf.Dialog;
  /** Counts the call as ended (once). */
  readonly ended: () => void;
}

export interface SipFrontDoorDeps {
  readonly config: SipConfig;
  /** The [[ari]] servers with a sip_uri. */
  readonly mediaServers: readonly MediaServer[];
  readonly view: MediaServerView;
  /** The queues as loaded now (they reload). */
  readonly queues: () => ReadonlyMap<string, QueueConfig>;
  readonly ratings: RatingStore;
  readonly answers: AnswerStore;
  readonly outcomes: OutcomeStore;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

// Refusals of unknown peers are counted in the metrics, and logged at most once a minute: whatever
// anybody on the network sends, the log does not grow with it.
const REFUSED_LOG_INTERVAL_MS = 60_000;
// A SIP Call-ID as the outcome row's channel_id: bounded like any stored identifier.
const MAX_CHANNEL_ID_CHARS = 128;
const PING_INTERVAL_MS = 10_000;

/** One listener per call in setup on the signal: as many as calls arrive at once, which is no leak. */
function newConnectionScope(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export class SipFrontDoor {
  private readonly srf = new Srf();
  private readonly pool: MediaServerPool;
  private readonly peers: PeerAdmission;
  private readonly warnAgent = hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'cc-csat';
  private currentState: SipState = 'stopped';
  private accepting = true;
  private liveCalls = 0;
  /** Relayed calls up now, both legs: hung up by `drain` if still there when the engine stops. */
  private readonly established = new Set<EstablishedCall>();
  /** Aborted when the connection to drachtio-server drops: setups in flight will never hear back. */
  private connection = newConnectionScope();
  private idleWaiters: Array<() => void> = [];
  private refusedSinceLog = 0;
  private lastRefusedLog = 0;
  private readonly now: () => Date;

  constructor(private readonly deps: SipFrontDoorDeps) {
    this.pool = new MediaServerPool(deps.mediaServers, deps.view);
    this.peers = new PeerAdmission(deps.config.peers, deps.config.realm, deps.config.secret);
    this.now = deps.now ?? (() => new Date());
    this.srf.invite((req, res) => {
      this.onInvite(req, res).catch((err: unknown) => {
        deps.log.error({ err }, 'INVITE handling failed');
        if (!res.finalResponseSent) res.send(500);
        this.count('failed');
      });
    });
  }

  get state(): SipState {
    return this.currentState;
  }

  /** Connects to drachtio-server, and again after every drop, backing off up to reconnect_max_delay_ms; never gives up. */
  start(): void {
    const { config, log, metrics } = this.deps;
    this.setState('connecting');
    this.srf.on('connect', (err: Error | null, hostport: string) => {
      if (err) {
        // A wrong secret: drachtio-server closes the socket, and the reconnect loop keeps trying (the
        // operator fixes the secret, or the server's).
        log.error({ err: err.message }, 'drachtio-server refused the connection (check [sip] secret)');
        return;
      }
      log.info({ drachtio: `${config.drachtioHost}:${config.drachtioPort}`, sip: hostport }, 'SIP front door connected to drachtio-server');
      this.setState('connected');
    });
    // The typings know only the SIP request events; 'close' and 'reconnecting' are the connection's.
    const connection = this.srf as unknown as EventEmitter;
    connection.on('close', () => {
      // Whatever was in flight on that socket is gone with it: drachtio-srf never settles a setup
      // whose connection dropped, and the dialogs' BYEs cannot be sent any more. Their counts are
      // released so a media server does not look busy forever.
      this.connection.abort();
      this.connection = newConnectionScope();
      const lost = [...this.established];
      for (const call of lost) call.ended();
      if (lost.length > 0) log.warn({ calls: lost.length }, 'relayed calls lost with the drachtio-server connection (their surveys go on; the PBX ends its leg on its own timers)');
      if (this.currentState === 'stopped') return;
      if (this.currentState === 'connected') log.warn('SIP front door lost drachtio-server; reconnecting');
      this.setState('connecting');
    });
    connection.on('reconnecting', () => metrics.sipReconnects.inc());
    // Without a listener an 'error' event would be thrown; the reconnect loop handles the cause.
    this.srf.on('error', (err: Error) => log.debug({ err: err.message }, 'drachtio-server connection error'));
    // The typings know no `reconnect`; drachtio-srf's wire protocol backs off 1.7x per try, capped here.
    (this.srf.connect as (options: Record<string, unknown>) => void)({
      host: config.drachtioHost,
      port: config.drachtioPort,
      secret: config.secret,
      reconnect: { retryMaxDelay: config.reconnectMaxDelayMs },
      // Keeps the socket busy, so a drachtio host that vanished is noticed when a write fails
      // instead of after the operating system's two-hour keepalive.
      enablePing: true,
      pingInterval: PING_INTERVAL_MS,
    });
  }

  /** New INVITEs get 503 (shutting_down) from here on; calls already relayed go on. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * After the engine's surveys drained: waits up to `timeoutMs` for their hangups to pass through
   * (Asterisk's BYE reaches us after the outcome is recorded), then hangs up both legs of any call
   * still up, so no PBX is left holding a caller on a dialog nobody answers for any more.
   */
  async drain(timeoutMs: number): Promise<{ hungUp: number }> {
    if (this.liveCalls > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const left = [...this.established];
    for (const call of left) call.ended();
    await Promise.all(
      left.flatMap(({ uas, uac }) =>
        [uas, uac].map((dialog) => Promise.resolve(dialog.destroy() as unknown).catch((err: unknown) => this.deps.log.debug({ err }, 'BYE at shutdown not sent (the leg was gone)'))),
      ),
    );
    return { hungUp: left.length };
  }

  /** Disconnects from drachtio-server (after `drain`), and stops reconnecting when it is not connected. */
  stop(): void {
    this.accepting = false;
    const wasConnected = this.currentState === 'connected';
    this.setState('stopped');
    // drachtio-srf's disconnect() throws without a socket, and a reconnect already scheduled would
    // still open one: stop the retry loop first (its state is not public).
    const wire = (this.srf as unknown as { app: { wp?: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } }).app.wp;
    if (wire) {
      wire.closing = true;
      if (wire.reconnectVars?.retryTimer) clearTimeout(wire.reconnectVars.retryTimer);
    }
    try {
      this.srf.disconnect();
    } catch (err) {
      if (wasConnected) this.deps.log.warn({ err }, 'could not close the drachtio-server connection');
    }
  }

  private setState(state: SipState): void {
    this.currentState = state;
    this.deps.metrics.sipConnected.set(state === 'connected' ? 1 : 0);
  }

  private async onInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const receivedAt = performance.now();
    const startedAt = this.now();
    // The caller may hang up at any moment, also while we look things up: from here on a CANCEL is
    // remembered, and whoever is next to act answers it (487) instead of relaying a caller who left.
    let cancelled = false;
    (req as unknown as EventEmitter).once('cancel', () => {
      cancelled = true;
    });
    const decision = this.peers.decide({ sourceAddress: req.source_address, authorization: req.get('Authorization'), method: req.method, uri: req.uri });
    if (decision.kind === 'challenge') {
      res.send(401, { headers: { 'WWW-Authenticate': decision.wwwAuthenticate } });
      this.count('challenged');
      return;
    }
    if (decision.kind === 'forbidden') {
      this.reject(res, { status: 403, phrase: 'Forbidden', why: decision.why });
      this.count('forbidden');
      this.logRefusedPeer();
      return;
    }
    // A re-INVITE for a dialog we do not have (the engine restarted mid-call) is no new caller.
    if (/;\s*tag=/i.test(req.get('To') ?? '')) {
      this.reject(res, { status: 481, phrase: 'Call/Transaction Does Not Exist', why: 'no such call here (an INVITE inside a dialog this engine does not know)' });
      this.count('bad_request');
      return;
    }
    if (!req.has('Contact')) {
      this.reject(res, { status: 400, phrase: 'Bad Request', why: 'the INVITE has no Contact header' });
      this.count('bad_request');
      return;
    }
    const log = this.deps.log.child({ peer: decision.peer, sip_call_id: (req.get('Call-ID') ?? '').slice(0, MAX_CHANNEL_ID_CHARS) });
    const parsed = callContextOf({ get: (name) => req.get(name), uri: req.uri }, this.deps.config.headers);
    if (!parsed.ok) {
      const rejection = rejectionFor(parsed.reason, this.deps.config.retryAfterSeconds);
      log.info({ reason: parsed.reason }, 'INVITE refused: its call context is unusable');
      // The PBX hears at once; the row follows (its failure is logged, and changes nothing for the PBX).
      this.reject(res, rejection);
      this.count(resultOf(rejection));
      await this.recordRefusal(req, startedAt, { callId: parsed.callId, agentId: undefined, queueId: undefined }, parsed.reason);
      return;
    }
    const { context } = parsed;
    const callLog = log.child({ call_id: context.identity.callId, agent_id: context.identity.agentId, queue_id: context.identity.queueId });
    let skip: string | undefined;
    try {
      skip = await skipReason(context.identity, {
        accepting: this.accepting,
        queues: this.deps.queues(),
        ratings: this.deps.ratings,
        answers: this.deps.answers,
        // The engine checks again when the call reaches Stasis on the media server, where it knows.
        surveyedHereOnAnotherChannel: () => false,
        talkSeconds: async () => context.talkSeconds,
      });
    } catch (err) {
      callLog.error({ err }, 'INVITE refused: the database could not be asked whether the call was rated');
      this.reject(res, { status: 503, phrase: 'Service Unavailable', why: 'database_unavailable', retryAfterSeconds: this.deps.config.retryAfterSeconds });
      this.count('unavailable');
      return;
    }
    if (skip) {
      const rejection = rejectionFor(skip, this.deps.config.retryAfterSeconds);
      callLog.info({ reason: skip, status: rejection.status }, 'INVITE refused: no survey for this call');
      this.reject(res, rejection);
      this.count(resultOf(rejection));
      if (skip !== 'shutting_down') await this.recordRefusal(req, startedAt, context.identity, skip);
      return;
    }
    if (cancelled) {
      if (!res.finalResponseSent) res.send(487);
      callLog.info('caller hung up before the relay started');
      this.count('cancelled');
      return;
    }
    await this.relay(req, res, context, callLog, receivedAt, () => cancelled);
  }

  private async relay(req: Srf.SrfRequest, res: Srf.SrfResponse, context: CallContext, log: Logger, receivedAt: number, cancelled: () => boolean): Promise<void> {
    const choice = this.pool.choose();
    if (choice.kind === 'none') {
      log.warn({ why: choice.why }, 'INVITE refused: no media server can take the caller');
      this.reject(res, { status: 503, phrase: 'Service Unavailable', why: choice.why, retryAfterSeconds: this.deps.config.retryAfterSeconds });
      this.count('unavailable');
      return;
    }
    const { identity, talkSeconds } = context;
    const headers: Record<string, string> = {
      [MEDIA_SERVER_HEADERS.callId]: identity.callId!,
      [MEDIA_SERVER_HEADERS.agentId]: identity.agentId!,
      [MEDIA_SERVER_HEADERS.queueId]: identity.queueId!,
      ...(talkSeconds !== undefined && { [MEDIA_SERVER_HEADERS.talkSeconds]: String(talkSeconds) }),
    };
    this.liveCalls++;
    this.deps.metrics.sipCallsLive.set(this.liveCalls);
    let counted = true;
    let legs: EstablishedCall | undefined;
    const callEnded = (): void => {
      if (!counted) return;
      counted = false;
      if (legs) this.established.delete(legs);
      this.liveCalls--;
      this.deps.metrics.sipCallsLive.set(this.liveCalls);
      if (this.liveCalls === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
    try {
      const result = await relayToMediaServer(
        this.srf,
        req,
        res,
        choice.servers,
        headers,
        {
          attempting: (server) => this.pool.settingUpOn(server),
          failed: (server, status) => {
            this.deps.metrics.sipRelayFailures.inc({ server });
            log.warn({ server, status }, status === 408 ? 'media server did not answer in time; trying the next one' : 'media server refused the call; trying the next one');
          },
        },
        { cancelled, connection: this.connection.signal, attemptTimeoutMs: this.deps.config.mediaServerTimeoutMs },
      );
      switch (result.kind) {
        case 'relayed':
          this.deps.metrics.sipSetup.observe((performance.now() - receivedAt) / 1000);
          log.info({ server: result.server }, 'caller relayed to a media server');
          legs = { uas: result.uas, uac: result.uac, ended: callEnded };
          this.established.add(legs);
          pairDialogs(result.uas, result.uac, callEnded, (err) => log.debug({ err }, 'a request to the other leg failed (it may be gone already)'));
          this.count('relayed');
          return;
        case 'cancelled':
          callEnded();
          log.info('caller hung up during setup');
          this.count('cancelled');
          return;
        case 'lost':
          callEnded();
          log.warn('drachtio-server connection lost during setup');
          this.count('failed');
          return;
        case 'failed':
          callEnded();
          log.warn({ attempts: result.attempts }, 'every media server refused the call');
          if (!result.answered) {
            this.reject(res, { status: 503, phrase: 'Service Unavailable', why: 'media servers refused the call', retryAfterSeconds: this.deps.config.retryAfterSeconds });
          }
          this.count('failed');
          return;
      }
    } catch (err) {
      callEnded();
      throw err;
    }
  }

  /**
   * A skipped survey_outcome row for a refused INVITE that names a call id; nothing else is stored.
   * Every id here passed the context's validation (callContextOf keeps only usable ones).
   */
  private async recordRefusal(req: Srf.SrfRequest, startedAt: Date, identity: CallIdentity, reason: string): Promise<void> {
    const callId = identity.callId;
    if (callId === undefined) return;
    try {
      await this.deps.outcomes.insert({
        call_id: callId,
        channel_id: `sip:${req.get('Call-ID') ?? ''}`.slice(0, MAX_CHANNEL_ID_CHARS),
        agent_id: identity.agentId ?? null,
        queue_id: identity.queueId ?? null,
        ivr: null,
        outcome: 'skipped',
        reason,
        attempts: 0,
        last_step: null,
        score: null,
        started_at: startedAt.toISOString(),
        ended_at: this.now().toISOString(),
        server: null,
        consent: null,
      });
      this.deps.metrics.surveyObserver().surveyEnded('skipped', false, reason);
    } catch (err) {
      this.deps.log.error({ err, call_id: callId }, 'could not record the refused INVITE as a survey outcome');
    }
  }

  private reject(res: Srf.SrfResponse, rejection: Rejection): void {
    if (res.finalResponseSent) return;
    res.send(rejection.status, rejection.phrase, { headers: rejectionHeaders(rejection, this.warnAgent) });
  }

  private count(result: InviteResult): void {
    this.deps.metrics.sipInvites.inc({ result });
  }

  private logRefusedPeer(): void {
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.lastRefusedLog < REFUSED_LOG_INTERVAL_MS) return;
    this.deps.log.warn({ refused: this.refusedSinceLog }, 'INVITEs refused (403) since the last such line: source not in any [[sip.peer]] addresses, or wrong digest credentials');
    this.refusedSinceLog = 0;
    this.lastRefusedLog = now;
  }
}
