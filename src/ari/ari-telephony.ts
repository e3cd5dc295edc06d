// Telephony over Asterisk ARI with ari-client. Owns the connection lifecycle (connect forever with
// capped backoff, resync after a drop) and routes events to channels and playbacks by id.
import { setTimeout as sleep } from 'node:timers/promises';
import ari from 'ari-client';
import { DEFAULT_ARI_SERVER_NAME } from '../config/schema.js';
import type { Logger } from '../log.js';
import { ChannelTakenOverError, type ChannelGoneError, type ConnectionState, type IncomingCall, type Telephony, type TelephonyLoad } from '../telephony/port.js';
import { AriChannel, AriPlayback } from './channel.js';
import type { AriRecording } from './recording.js';
import { AriStoredRecordings } from './stored-recordings.js';
import { ariErrorMessage, isChannelGone, isPlaybackGone, withTimeout } from './errors.js';
import { AriHttpError, ariOperations, createHttpSend, type AriRestApi } from './rest-client.js';
import { isSoundMissing, SoundCatalog } from './sound-catalog.js';
import { AriRest } from './rest.js';
import { installSwaggerFailGuard, offersRestOverWebSocket, probeAri, skipEventResources } from './swagger-guard.js';
import { WebSocketRest, type EventSocket } from './ws-rest.js';

/** What ari-client is still used for: the event stream. REST goes through rest-client.ts. */
interface AriEventClient {
  on(event: string, listener: (event: any, resource?: unknown) => void): unknown;
  start(app: string): Promise<void>;
  stop(): void;
  /** ari-client's current event WebSocket (replaced on every reconnect): REST over WebSocket is sent on it. */
  readonly _ws?: EventSocket;
}

export type RestTransport = 'auto' | 'websocket' | 'http';

export interface AriOptions {
  /** The server's name ([[ari]] name): every channel taken here carries it. Default "asterisk". */
  readonly server?: string;
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly app: string;
  readonly reconnectMaxDelayMs: number;
  readonly requestTimeoutMs: number;
  /** REST requests sent at once ([ari] max_concurrent_requests; the HTTP agent's pool). Default 64. */
  readonly maxConcurrentRequests?: number;
  /** How REST reaches Asterisk ([ari] rest_transport); default "auto": the event WebSocket where Asterisk offers it. */
  readonly restTransport?: RestTransport;
  /**
   * Of those, how many may serve callers not admitted to a survey ([ari] admission_max_in_flight);
   * the rest is kept for running surveys. Default: all of them.
   */
  readonly maxPreAdmissionRequests?: number;
  readonly log: Logger;
  /** Observability hooks (metrics); optional. */
  readonly onStateChange?: (state: ConnectionState) => void;
  readonly onReconnectAttempt?: () => void;
}

const FIRST_RETRY_DELAY_MS = 500;
/**
 * The events a survey needs. Asterisk also sends ChannelVarset, ChannelStateChange, ChannelDialplan...
 * for every channel in the app, and each costs a parse and a dispatch here. Left out on purpose:
 * PlaybackStarted (only a play whose answer was lost asks about it, and GET /playbacks answers that)
 * and ChannelDestroyed (StasisEnd comes first for every channel in the app; the handlers stay for an
 * Asterisk without the filter). RESTResponse is listed so that answers over the WebSocket arrive
 * whatever Asterisk's filter applies to.
 */
const EVENTS_USED = [
  'StasisStart',
  'StasisEnd',
  'ChannelDtmfReceived',
  'PlaybackFinished',
  'ChannelHangupRequest',
  'RESTResponse',
  'ApplicationReplaced',
  // A spoken comment's end: reported after the caller hangs up too (Asterisk keeps what was said).
  'RecordingFinished',
  'RecordingFailed',
] as const;
const DEFAULT_MAX_CONCURRENT_REQUESTS = 64;
// A resync after a reconnect may find hundreds of channels to look at; asking for all at once would
// take every connection from running surveys, asking one by one would leave callers in silence.
const RESYNC_CONCURRENCY = 8;

/** Runs `run` over `items`, at most `limit` at a time. `run` must not reject. */
async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function backoffDelay(attempt: number, capMs: number): number {
  const jitter = 0.2;
  const exponential = Math.min(capMs, FIRST_RETRY_DELAY_MS * 2 ** Math.min(attempt - 1, 20));
  // Jitter keeps a fleet of engines from reconnecting in lockstep after an Asterisk restart. It only
  // shortens the delay: the cap is a promise to ops, and clamping a longer draw to it would put half
  // the fleet back in lockstep, on the cap.
  return Math.round(exponential * (1 - jitter * Math.random()));
}

export class AriTelephony implements Telephony {
  private currentState: ConnectionState = 'connecting';
  private readonly rest: AriRest;
  private readonly channels = new Map<string, AriChannel>();
  private readonly playbacks = new Map<string, AriPlayback>();
  /** Live recordings by name: their events may come after the channel is gone. */
  private readonly recordings = new Map<string, AriRecording>();
  /** This server's stored recordings (measured, discarded, streamed and deleted over plain HTTP). */
  readonly storedRecordings: AriStoredRecordings;
  private callHandler: ((call: IncomingCall) => void) | undefined;
  private readonly stopController = new AbortController();
  private maxRetryRounds = 0;
  /** The client whose event stream has opened once; its drops and reopenings are ours to handle. */
  private streamClient: AriEventClient | undefined;
  /** The connection the event stream belongs to: REST is usable only while there is one. */
  private eventClient: AriEventClient | undefined;
  private readonly httpRest: AriRestApi;
  private readonly webSocketRest: WebSocketRest;
  /** While a resync runs: channels that left meanwhile, which its (older) answers may still list. */
  private departedDuringResync: Set<string> | undefined;
  private resyncsRunning = 0;
  /** The languages this server has each survey sound in, for prompts in the caller's language. */
  private readonly sounds: SoundCatalog;

  /** The server's name ([[ari]] name). */
  readonly server: string;

  constructor(private readonly options: AriOptions) {
    this.server = options.server ?? DEFAULT_ARI_SERVER_NAME;
    const maxConcurrent = options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS;
    this.rest = new AriRest({
      timeoutMs: options.requestTimeoutMs,
      maxConcurrent,
      maxBackground: options.maxPreAdmissionRequests ?? maxConcurrent,
      log: options.log,
    });
    const httpSend = createHttpSend({ url: options.url, username: options.username, password: options.password, maxSockets: maxConcurrent });
    this.httpRest = ariOperations(httpSend);
    this.webSocketRest = new WebSocketRest(() => this.eventClient?._ws, httpSend);
    this.storedRecordings = new AriStoredRecordings({ url: options.url, username: options.username, password: options.password, timeoutMs: options.requestTimeoutMs });
    this.sounds = new SoundCatalog(async (soundId, priority) => {
      try {
        const sound = (await this.rest.call('get sound', (client) => client.sounds.get({ soundId }), priority)) as { formats?: Array<{ language?: string }> };
        return new Set((sound.formats ?? []).flatMap((format) => (format.language ? [format.language] : [])));
      } catch (err) {
        if (isSoundMissing(err)) return new Set<string>();
        throw err;
      }
    }, () => this.options.log);
    installSwaggerFailGuard();
  }

  /** How busy Asterisk's REST interface is, as seen from here: for admission control. */
  get load(): TelephonyLoad {
    return this.rest.load;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get liveChannelCount(): number {
    return this.channels.size;
  }

  onCall(handler: (call: IncomingCall) => void): void {
    this.callHandler = handler;
  }

  /** Starts connecting in the background; the engine serves its API whether or not Asterisk is up. */
  start(): void {
    void this.connectLoop().catch((err: unknown) => this.options.log.error({ err }, 'ARI connect loop stopped unexpectedly'));
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    this.stopController.abort();
    try {
      this.eventClient?.stop();
    } catch (err) {
      this.options.log.debug({ err: String(err) }, 'closing the ARI websocket');
    }
    this.rest.client = undefined;
    this.eventClient = undefined;
    this.streamClient = undefined;
  }

  private setState(state: ConnectionState): void {
    if (this.currentState === state || this.currentState === 'stopped') return;
    this.currentState = state;
    this.rest.eventStreamUp = state === 'connected';
    this.options.onStateChange?.(state);
  }

  private async connectLoop(): Promise<void> {
    const { log, url, username, password, app, reconnectMaxDelayMs, requestTimeoutMs } = this.options;
    for (let attempt = 1; !this.stopController.signal.aborted; attempt++) {
      let client: AriEventClient | undefined;
      try {
        log.info({ url, app, attempt }, 'connecting to ARI');
        await probeAri(url, username, password, requestTimeoutMs, this.stopController.signal);
        client = (await withTimeout(ari.connect(url, username, password) as Promise<unknown>, requestTimeoutMs * 2, 'connect', (err) =>
          log.debug({ err: String(err) }, 'late ARI connect failure'),
        )) as AriEventClient;
        if (this.stopController.signal.aborted) return;
        // REST works as soon as the API is loaded. It must, before the event stream opens: ari-client
        // resolves start() through Bluebird on a later macrotask, so a caller entering Stasis the
        // moment the app registers arrives before that, and needs play/hangup to reach Asterisk.
        const overWebSocket = this.chooseRestTransport(client);
        skipEventResources(client, EVENTS_USED);
        this.eventClient = client;
        this.rest.client = overWebSocket ? this.webSocketRest.api : this.httpRest;
        this.attach(client);
        await client.start(app);
        if (this.stopController.signal.aborted) {
          client.stop();
          return;
        }
        // Taken over the moment it registered: onApplicationReplaced let go and watches for the app.
        if (this.eventClient !== client) return;
        this.streamClient = client;
        log.info({ url, app, rest_transport: overWebSocket ? 'websocket' : 'http' }, 'connected to ARI');
        // "connected" means in sync with Asterisk: readiness and tests rely on that. A failed resync
        // is not a failed connection: the stream is up and new callers are served either way.
        await Promise.all([
          this.filterEvents(),
          this.resync('connect').catch((err: unknown) => log.error({ err: ariErrorMessage(err) }, 'resync after connect failed')),
        ]);
        if (this.eventClient !== client) return;
        this.setState('connected');
        return;
      } catch (err) {
        if (this.stopController.signal.aborted) return;
        // Only start() gets here with a client, after ari-client's own retries ran out: that client is done.
        if (client && this.eventClient === client) {
          this.eventClient = undefined;
          this.rest.client = undefined;
        }
        this.options.onReconnectAttempt?.();
        const delay = backoffDelay(attempt, reconnectMaxDelayMs);
        log.warn({ url, attempt, retry_in_ms: delay, err: ariErrorMessage(err) }, 'ARI not reachable; will retry');
        await sleep(delay, undefined, { signal: this.stopController.signal }).catch(() => undefined);
      }
    }
  }

  /**
   * Asks Asterisk to send only the events the engine uses (set again after every reconnect: a
   * restarted Asterisk has forgotten it). Without it (an Asterisk before 13.26/16.3, or a failure)
   * the engine works the same, at the cost of reading the other events.
   */
  private async filterEvents(): Promise<void> {
    try {
      await this.rest.call('set event filter', (client) => client.applications.filter({ applicationName: this.options.app, allowed: EVENTS_USED }), 'survey');
    } catch (err) {
      this.options.log.warn({ err: ariErrorMessage(err) }, 'could not set the ARI event filter; receiving every event');
    }
  }

  /** Whether REST goes over the event WebSocket on this connection; throws if configured to and Asterisk cannot. */
  private chooseRestTransport(client: AriEventClient): boolean {
    const wanted = this.options.restTransport ?? 'auto';
    if (wanted === 'http') return false;
    const offered = offersRestOverWebSocket(client);
    if (wanted === 'websocket' && !offered) {
      throw new Error('this Asterisk does not offer ARI REST over WebSocket (Asterisk 20.13, 21.8, 22.3 and later do): set [ari] rest_transport = "auto" or "http"');
    }
    return offered;
  }

  private attach(client: AriEventClient): void {
    const { log } = this.options;
    client.on('RESTResponse', (event) => this.webSocketRest.settle(event));
    client.on('ApplicationReplaced', () => this.onApplicationReplaced(client));
    client.on('StasisStart', (event) => this.onStasisStart(event));
    client.on('ChannelDtmfReceived', (event) => this.channels.get(event.channel?.id)?.dtmf(event.digit));
    client.on('PlaybackStarted', (event) => this.playbacks.get(event.playback?.id)?.markStarted());
    client.on('RecordingFinished', (event) => this.recordings.get(event.recording?.name)?.reportedEnd('done', { duration: event.recording?.duration }));
    client.on('RecordingFailed', (event) => this.recordings.get(event.recording?.name)?.reportedEnd('failed', { cause: event.recording?.cause }));
    client.on('PlaybackFinished', (event) => {
      this.playbacks.get(event.playback?.id)?.settle(event.playback.state === 'failed' ? 'failed' : 'done');
    });
    // A soft hangup request can precede a redirect; only a hard request (the caller's BYE) means gone.
    client.on('ChannelHangupRequest', (event) => {
      const channel = this.channels.get(event.channel?.id);
      if (channel) channel.hangupRequested = true;
      if (!event.soft) this.forgetChannel(event.channel?.id, 'caller hung up');
    });
    client.on('StasisEnd', (event) => this.forgetChannel(event.channel?.id, 'left the Stasis application'));
    client.on('ChannelDestroyed', (event) => this.forgetChannel(event.channel?.id, 'channel destroyed'));
    // ari-client emits these during the first start() too; until it resolves, connectLoop owns retrying.
    client.on('WebSocketReconnecting', (err) => {
      if (this.streamClient !== client) return;
      this.setState('connecting');
      this.options.onReconnectAttempt?.();
      log.warn({ err: err ? String(err.message ?? err) : undefined }, 'ARI event stream lost; reconnecting');
    });
    client.on('WebSocketConnected', () => {
      if (this.streamClient !== client) return;
      this.maxRetryRounds = 0;
      log.info('ARI event stream back');
      void Promise.all([this.filterEvents(), this.resync('reconnect')])
        .catch((err: unknown) => log.error({ err }, 'resync after reconnect failed'))
        .finally(() => {
          if (this.streamClient === client) this.setState('connected');
        });
    });
    // ari-client gives up after 10 tries; we never do. Each new round backs off more, up to the cap.
    client.on('WebSocketMaxRetries', () => {
      if (this.streamClient !== client || this.stopController.signal.aborted) return;
      this.maxRetryRounds++;
      const delay = backoffDelay(this.maxRetryRounds, this.options.reconnectMaxDelayMs);
      log.warn({ round: this.maxRetryRounds, retry_in_ms: delay }, 'ARI reconnect round exhausted; starting another');
      void sleep(delay, undefined, { signal: this.stopController.signal })
        .then(() => client.start(this.options.app))
        .catch((err: unknown) => log.debug({ err: String(err) }, 'ARI reconnect round ended without a connection'));
    });
  }

  /**
   * Asterisk lets one WebSocket hold an application: a newer one (another engine with the same [ari]
   * app, or any ARI client using that name) takes it, and this one stays open but hears nothing.
   * Believing itself connected, the engine would leave callers unserved while /readyz says ready.
   * It does not fight back (two engines taking the app from each other would cut both surveys'
   * events): it lets go, says so, and takes the app again only once nobody holds it.
   */
  private onApplicationReplaced(client: AriEventClient): void {
    const { log, url, app } = this.options;
    if (this.eventClient !== client || this.stopController.signal.aborted) return;
    log.error(
      { url, app, server: this.server },
      `another connection took over ARI application "${app}" on this Asterisk: no calls reach this engine from it. Engines sharing an Asterisk need an [ari] app each (README "Scaling out"); this engine takes "${app}" back once nobody holds it`,
    );
    this.streamClient = undefined;
    this.eventClient = undefined;
    this.rest.client = undefined;
    try {
      client.stop();
    } catch (err) {
      log.debug({ err: String(err) }, 'closing the replaced ARI websocket');
    }
    this.setState('replaced');
    // Their events now go to the new holder, which adopts them (its resync lists the app's channels).
    for (const id of [...this.channels.keys()]) this.forgetChannel(id, (channelId) => new ChannelTakenOverError(channelId));
    void this.takeBackWhenFree().catch((err: unknown) => log.error({ err }, 'ARI application watch stopped unexpectedly'));
  }

  private async takeBackWhenFree(): Promise<void> {
    const { log, app, reconnectMaxDelayMs, requestTimeoutMs } = this.options;
    const { signal } = this.stopController;
    while (!signal.aborted) {
      await sleep(reconnectMaxDelayMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      try {
        await withTimeout(this.httpRest.applications.get({ applicationName: app }), requestTimeoutMs, 'get application', () => undefined);
        log.debug({ app }, 'ARI application still held by another connection');
        continue;
      } catch (err) {
        // Only Asterisk's 404 says nobody holds it. A timeout, a 5xx or a refused connection says
        // nothing about the holder: registering then could take the app from a live engine and cut
        // its callers' surveys. The next poll asks again.
        if (!(err instanceof AriHttpError && err.status === 404)) {
          log.warn({ app, err: ariErrorMessage(err) }, 'could not ask Asterisk whether the ARI application is free; asking again later');
          continue;
        }
        log.info({ app }, 'ARI application free again: taking it');
      }
      this.setState('connecting');
      await this.connectLoop();
      return;
    }
  }

  private onStasisStart(event: any): void {
    const id: string | undefined = event.channel?.id;
    if (!id || this.channels.has(id)) return;
    this.adopt(id, event.channel.state ?? 'Up', Array.isArray(event.args) ? event.args.map(String) : [], {
      callerNumber: callerNumberOf(event.channel),
      language: languageOf(event.channel),
    });
  }

  private adopt(
    id: string,
    state: string,
    args: readonly string[],
    options: { afterRestart?: boolean; callerNumber?: string | undefined; language?: string | undefined } = {},
  ): void {
    const channel = new AriChannel(id, this.server, state, this.rest, this.playbacks, this.options.log, {
      adopted: options.afterRestart ?? false,
      recordings: { live: this.recordings, stored: this.storedRecordings },
      sounds: this.sounds,
    });
    this.channels.set(id, channel);
    if (this.callHandler) {
      this.callHandler({ channel, args, callerNumber: options.callerNumber, language: options.language });
    } else {
      void channel.continueInDialplan().catch((err: unknown) => this.options.log.warn({ err: String(err) }, 'continue failed'));
    }
  }

  private forgetChannel(id: string | undefined, why: string | ((id: string) => ChannelGoneError)): void {
    if (!id) return;
    this.departedDuringResync?.add(id);
    const channel = this.channels.get(id);
    if (!channel) return;
    this.channels.delete(id);
    channel.markGone(typeof why === 'string' ? why : why(id));
  }

  /**
   * After the event stream was down, events may be missing. Ask Asterisk what is true now:
   * channels that left meanwhile are settled as gone, playbacks that ended are settled as done,
   * callers whose survey ended but could not be released are released now, and channels that
   * entered our app while we were away are adopted (args read from the dialplan).
   */
  /** Forgets which sounds Asterisk has in which language: a config reload may name new prompts, made since. */
  forgetSounds(): void {
    this.sounds.clear();
  }

  private async resync(why: 'connect' | 'reconnect'): Promise<void> {
    this.resyncsRunning++;
    this.departedDuringResync ??= new Set();
    // Another connection may be another (reinstalled, restarted) Asterisk with other sounds.
    this.sounds.clear();
    try {
      await this.resyncOnce(why);
    } finally {
      if (--this.resyncsRunning === 0) this.departedDuringResync = undefined;
    }
  }

  private async resyncOnce(why: 'connect' | 'reconnect'): Promise<void> {
    const { log, app } = this.options;
    // The connection this resync serves: once another connection takes the app (ApplicationReplaced),
    // channels its answers list are no longer ours to adopt.
    const connection = this.eventClient;
    // Only what we knew before asking can be stale: a StasisStart that lands while the request is
    // in flight belongs to a channel the answer may not list yet, and it is not an orphan.
    const knownChannels = [...this.channels.keys()];
    const knownPlaybacks = [...this.playbacks.values()];
    // Running surveys wait on what this finds (their playbacks, their release): it goes first.
    const application = (await this.rest.call(
      'get application',
      (client) => client.applications.get({ applicationName: app }),
      'survey',
    )) as { channel_ids?: string[] };
    const live = new Set(application.channel_ids ?? []);
    for (const id of knownChannels) {
      if (!live.has(id)) this.forgetChannel(id, `not in application after ${why}`);
    }
    await forEachLimited(knownPlaybacks, RESYNC_CONCURRENCY, async (playback) => {
      try {
        await this.rest.call('get playback', (client) => client.playbacks.get({ playbackId: playback.id }), 'survey');
      } catch (err) {
        if (isPlaybackGone(err)) playback.settle('done');
        else log.warn({ err: ariErrorMessage(err), playback_id: playback.id }, 'could not check playback after reconnect');
      }
    });
    await Promise.all(
      knownChannels.map(async (id) => {
        const channel = this.channels.get(id);
        const how = channel?.pendingRelease;
        if (!channel || !how || !live.has(id)) return;
        log.info({ channel_id: id, release: how }, `releasing a caller whose survey ended while Asterisk was unreachable`);
        await channel.release(how).catch((err: unknown) => log.warn({ channel_id: id, err: ariErrorMessage(err) }, `${how} after ${why} failed`));
      }),
    );
    // Between the answer above and each answer below, the channel's StasisStart may arrive (it is
    // then ours already) or it may leave: look again after every await, or one caller gets two surveys.
    const unclaimed = (id: string): boolean =>
      !this.channels.has(id) && !this.departedDuringResync?.has(id) && !this.stopController.signal.aborted && this.eventClient === connection;
    await forEachLimited([...live].filter(unclaimed), RESYNC_CONCURRENCY, async (id) => {
      if (!unclaimed(id)) return;
      try {
        const channel = (await this.rest.call('get channel', (client) => client.channels.get({ channelId: id }))) as {
          state?: string;
          dialplan?: { app_name?: string; app_data?: string };
          caller?: { number?: string };
          language?: string;
        };
        if (!unclaimed(id)) return;
        const appData = channel.dialplan?.app_name === 'Stasis' ? (channel.dialplan.app_data ?? '') : '';
        const args = appData.split(',').slice(1);
        log.info({ channel_id: id, args }, `adopting a channel that entered ${app} while events were down`);
        this.adopt(id, channel.state ?? 'Up', args, { afterRestart: true, callerNumber: callerNumberOf(channel), language: languageOf(channel) });
      } catch (err) {
        // A caller who hung up since the list was made: nothing to adopt.
        const level = isChannelGone(err) ? 'debug' : 'warn';
        log[level]({ channel_id: id, err: ariErrorMessage(err) }, 'could not adopt channel after reconnect');
      }
    });
    if (live.size > 0 || why === 'reconnect') log.info({ live_channels: live.size }, `resynced after ${why}`);
  }
}

/** CALLERID(num) of an ARI channel object; undefined when Asterisk gave none. */
function callerNumberOf(channel: { caller?: { number?: unknown } } | undefined): string | undefined {
  const number = channel?.caller?.number;
  return typeof number === 'string' && number !== '' ? number : undefined;
}

/** CHANNEL(language) of an ARI channel object; undefined when Asterisk gave none. */
function languageOf(channel: { language?: unknown } | undefined): string | undefined {
  const language = channel?.language;
  return typeof language === 'string' && language !== '' ? language : undefined;
}
