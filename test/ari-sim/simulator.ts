// An ARI simulator: a real HTTP + WebSocket server speaking Asterisk 22's ARI closely enough that the
// unmodified ari-client connects to it. Behaviour follows recorded Asterisk traffic:
//  - PlaybackStarted may arrive before the REST answer to `play` (we alternate both orders);
//  - on a stop, PlaybackFinished comes before or after the DELETE's 204 (alternated);
//  - a missing sound gives 201, then PlaybackFinished "failed"; an unknown scheme never finishes;
//  - caller hangup: ChannelHangupRequest, PlaybackFinished "failed", StasisEnd, ChannelDestroyed,
//    then every REST call on the channel answers 404 {"message":"Channel not found"};
//  - unrelated events (ChannelVarset, ChannelDialplan, Dial, the Local ;2 half) are sent too, unless
//    the application's event filter (PUT eventFilter) leaves them out;
//  - REST requests come over HTTP, or as RESTRequest messages on the event WebSocket answered by
//    RESTResponse messages on it (Asterisk 20.13, 21.8, 22.3 and later; restOverWebSocket).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { SimRecorder } from './recordings.js';
import { resourceDocument, resourceListing, type EventType } from './swagger.js';

export interface SimOptions {
  username?: string;
  password?: string;
  /** The application callers enter by default (enterStasis without `app`). Any name can be held. */
  app?: string;
  /** How long one media URI plays. Default: 120 ms for sound:, 60 ms per digit for digits:. */
  mediaMs?: (uri: string) => number;
  /** sound: names that do not exist on this "Asterisk" (PlaybackFinished state "failed"). */
  missingSounds?: string[];
  /**
   * Languages every sound (csat/..., digits/N) exists in, unless missingInLanguage says otherwise.
   * Default ["en"]. As on Asterisk, a sound missing in the language asked for plays in "en" if it is there.
   */
  soundLanguages?: string[];
  /** Sound ids (e.g. "csat/thank-you", "digits/4") missing in one language: { fr: ["csat/thank-you"] }. */
  missingInLanguage?: Record<string, string[]>;
  /** Order of PlaybackStarted vs the 201 answer to `play`; both occur on a real Asterisk. Default: alternate. */
  playOrder?: 'event-first' | 'response-first' | 'alternate';
  /** Order of PlaybackFinished vs the 204 answer to a playback DELETE; both occur. Default: alternate. */
  stopOrder?: 'event-first' | 'response-first' | 'alternate';
  /** Answer 500 to channel-variable reads (an Asterisk in trouble). */
  failVariables?: boolean;
  /** sound: names that start but never finish (as Asterisk does for an unknown media scheme). */
  stuckSounds?: string[];
  /** Delay before the events of a caller hangup are delivered, to open the 404-after-hangup race. */
  hangupEventDelayMs?: number;
  /**
   * REST over the event WebSocket (RESTRequest in, RESTResponse out), as Asterisk 20.13, 21.8 and
   * 22.3 and later offer it; its API documents then describe RESTResponse. Default: true.
   */
  restOverWebSocket?: boolean;
}

export interface RestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** How the request came: an HTTP request, or a RESTRequest on the event WebSocket. */
  via?: 'http' | 'websocket';
  /** 0: never answered (the connection was reset by refuseRest, or the request was held by leaveUnanswered). */
  status: number;
}

/** A REST request as it arrived, before any answer (path without /ari). */
export interface RestArrival {
  method: string;
  path: string;
  query: Record<string, string>;
}

interface UnansweredRule {
  matches: (method: string, path: string) => boolean;
  /** Whether "Asterisk" acts on the request (the answer alone is lost) or never gets it. */
  process: boolean;
}

interface SimPlayback {
  id: string;
  channelId: string;
  media: string[];
  index: number;
  state: 'queued' | 'playing' | 'done' | 'failed';
  /** The `lang` asked for, else the channel's language. */
  language: string;
  timer?: NodeJS.Timeout;
}

export interface SimChannel {
  id: string;
  /** The Stasis application the caller entered: its events go to that application's holder. */
  app: string;
  args: string[];
  variables: Map<string, string>;
  /** CALLERID(num): StasisStart's channel.caller.number (empty when unset). */
  callerNumber?: string;
  /** CHANNEL(language): StasisStart's channel.language (default "en"). */
  language?: string;
  /** The `lang` of every `play` request, in the order of `played` (undefined: none asked for). */
  playedLanguages: Array<string | undefined>;
  state: 'Ring' | 'Up';
  inStasis: boolean;
  alive: boolean;
  /** Every `play` request's media list, in order. */
  played: string[][];
  /** Media lists that played to their end (not stopped, not failed). */
  completed: string[][];
  stoppedPlaybacks: number;
  ended: Promise<'app_hangup' | 'caller_hangup' | 'continued'>;
  endedBy?: 'app_hangup' | 'caller_hangup' | 'continued';
  resolveEnded: (how: 'app_hangup' | 'caller_hangup' | 'continued') => void;
  playbacks: SimPlayback[];
}

const KNOWN_SCHEMES = /^(sound|digits|number|characters|recording|tone):/;

export class AriSimulator {
  readonly restLog: RestRecord[] = [];
  /** Every REST request in the order it arrived (restLog is in the order of the answers). */
  readonly received: RestArrival[] = [];
  readonly channels = new Map<string, SimChannel>();
  private readonly playbacks = new Map<string, SimPlayback>();
  private readonly sockets = new Set<WebSocket>();
  /**
   * The socket each application's events go to. As on Asterisk, one WebSocket holds an application:
   * a newer one takes it over, the older gets ApplicationReplaced and stays open, deaf.
   */
  private readonly holders = new Map<string, WebSocket>();
  private server!: Server;
  private wss!: WebSocketServer;
  private orderToggle = 0;

  private eventFirst(setting: 'event-first' | 'response-first' | 'alternate'): boolean {
    if (setting === 'alternate') return this.orderToggle++ % 2 === 0;
    return setting === 'event-first';
  }
  private counter = 0;
  /** The application's event filter (PUT eventFilter): only these types are sent; undefined: all. */
  allowedEvents: ReadonlySet<string> | undefined;
  /** Called whenever a playback starts on a channel: lets a scripted caller react to what it hears. */
  readonly onPlaybackStarted = new Set<(channel: SimChannel, media: readonly string[]) => void>();
  /**
   * Called after a REST answer is computed and before it is written (method, path without /ari):
   * lets a test send events that overtake an answer that is already stale.
   */
  beforeRespond: ((method: string, path: string) => void) | undefined;
  /** Called the moment a REST request arrives, before it is delayed or handled (method, path without /ari). */
  onRequest: ((method: string, path: string) => void) | undefined;
  /**
   * How long "Asterisk" takes before it handles a request (an overloaded one: seconds). Set it any
   * time; 0 by default.
   */
  restDelay: (method: string, path: string, via: 'http' | 'websocket') => number = () => 0;
  private readonly unanswered: UnansweredRule[] = [];
  private readonly delayed = new Set<NodeJS.Timeout>();
  /** When true, WebSocket upgrades are refused (Asterisk down for the event stream). */
  refuseEvents = false;
  /** When true, every REST request's connection is reset unanswered (Asterisk unreachable). */
  refuseRest = false;
  /**
   * Called the moment an event WebSocket is accepted, before the client has seen anything else:
   * a caller can enter Stasis right as the application registers, as on a busy Asterisk.
   */
  readonly onClientConnected = new Set<() => void>();
  readonly options: Required<SimOptions>;
  /** Recordings (POST /channels/{id}/record) and the stored files they leave: see recordings.ts. */
  readonly recorder = new SimRecorder((type, body) => this.emit(type, body));

  constructor(options: SimOptions = {}) {
    this.options = {
      username: 'csat',
      password: 'secret',
      app: 'csat',
      mediaMs: (uri) => (uri.startsWith('digits:') ? 60 * (uri.length - 7) : 120),
      missingSounds: [],
      soundLanguages: ['en'],
      missingInLanguage: {},
      stuckSounds: [],
      failVariables: false,
      playOrder: 'alternate',
      stopOrder: 'alternate',
      hangupEventDelayMs: 0,
      restOverWebSocket: true,
      ...options,
    };
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get connectedClients(): number {
    return this.sockets.size;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.handleHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const apiKey = url.searchParams.get('api_key');
      const authorized = apiKey === `${this.options.username}:${this.options.password}` || this.basicAuthOk(req);
      const app = url.searchParams.get('app') ?? '';
      if (url.pathname !== '/ari/events' || !authorized || this.refuseEvents || app === '') {
        const status = this.refuseEvents ? '503 Service Unavailable' : !authorized ? '401 Unauthorized' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        const replaced = this.holders.get(app);
        this.holders.set(app, ws);
        if (replaced?.readyState === WebSocket.OPEN) replaced.send(this.eventJson(app, 'ApplicationReplaced', {}));
        const gone = (): void => {
          this.sockets.delete(ws);
          // Nobody holds the application any more: Asterisk unregisters it.
          if (this.holders.get(app) === ws) this.holders.delete(app);
        };
        ws.on('close', gone);
        ws.on('message', (data) => this.handleWebSocketRequest(ws, String(data)));
        ws.on('error', gone);
        for (const listener of this.onClientConnected) listener();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const playback of this.playbacks.values()) clearTimeout(playback.timer);
    for (const timer of this.delayed) clearTimeout(timer);
    this.recorder.close();
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Drops every event WebSocket, as a network blip or an Asterisk restart would. */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Asterisk out of reach: event streams dropped and refused, and with `rest` REST connections reset too. */
  startOutage(options: { rest?: boolean } = {}): void {
    this.refuseEvents = true;
    this.refuseRest = options.rest ?? false;
    this.dropConnections();
  }

  endOutage(): void {
    this.refuseEvents = false;
    this.refuseRest = false;
  }

  async waitForClients(count = 1, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size < count) {
      if (Date.now() > deadline) throw new Error(`no ARI client connected within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * The next request matching `matches` is never answered: with `process`, Asterisk acts on it and
   * only the answer is lost; without, it never reaches Asterisk. The connection stays open.
   */
  leaveUnanswered(matches: (method: string, path: string) => boolean, options: { process: boolean }): void {
    this.unanswered.push({ matches, process: options.process });
  }

  private takeUnanswered(method: string, path: string): UnansweredRule | undefined {
    const index = this.unanswered.findIndex((rule) => rule.matches(method, path));
    return index < 0 ? undefined : this.unanswered.splice(index, 1)[0];
  }

  // ------------------------------------------------------------------ events

  private eventJson(app: string, type: string, body: Record<string, unknown>): string {
    return JSON.stringify({
      type,
      timestamp: new Date().toISOString().replace('Z', '+0000'),
      ...body,
      asterisk_id: '02:fc:00:00:00:01',
      application: app,
    });
  }

  /** The application of the caller an event is about (either half of its Local channel). */
  private appOf(body: Record<string, any>): string {
    const target: string | undefined = body['playback']?.target_uri ?? body['recording']?.target_uri;
    const id: string | undefined = body['channel']?.id ?? body['peer']?.id ?? (target?.startsWith('channel:') ? target.slice('channel:'.length) : undefined);
    return (id && this.channels.get(id.replace(/;2$/, ''))?.app) ?? this.options.app;
  }

  private emit(type: EventType, body: Record<string, unknown>): void {
    if (this.allowedEvents && !this.allowedEvents.has(type)) return;
    const app = this.appOf(body);
    const holder = this.holders.get(app);
    if (holder?.readyState === WebSocket.OPEN) holder.send(this.eventJson(app, type, body));
  }

  /** Whether some WebSocket holds the application (default: the default one). */
  applicationHeld(app: string = this.options.app): boolean {
    return this.holders.has(app);
  }

  channelJson(channel: SimChannel, half: ';1' | ';2' = ';1') {
    const id = half === ';1' ? channel.id : `${channel.id};2`;
    return {
      id,
      name: `Local/caller@csat-test-${channel.id}${half}`,
      state: channel.state,
      protocol_id: '',
      caller: { name: '', number: channel.callerNumber ?? '' },
      connected: { name: '', number: '' },
      accountcode: '',
      dialplan: channel.inStasis && half === ';1'
        ? { context: 'csat-test', exten: 'survey', priority: 2, app_name: 'Stasis', app_data: [channel.app, ...channel.args].join(',') }
        : { context: 'csat-test', exten: 'caller', priority: 1, app_name: 'Wait', app_data: '30' },
      creationtime: new Date().toISOString().replace('Z', '+0000'),
      language: channel.language ?? 'en',
    };
  }

  private playbackJson(playback: SimPlayback) {
    return {
      id: playback.id,
      media_uri: playback.media[Math.min(playback.index, playback.media.length - 1)],
      ...(playback.index + 1 < playback.media.length ? { next_media_uri: playback.media[playback.index + 1] } : {}),
      target_uri: `channel:${playback.channelId}`,
      language: playback.language,
      state: playback.state,
    };
  }

  // ------------------------------------------------------------------ caller side

  /** A caller enters Stasis(csat, args...). Returns the simulated channel; drive it with press/hangup. */
  enterStasis(
    options: {
      id?: string;
      args?: string[];
      variables?: Record<string, string>;
      state?: 'Ring' | 'Up';
      /** false: the channel is in the application but its StasisStart is held back until deliverStasisStart. */
      announce?: boolean;
      /** Stasis(app, ...): default the simulator's app. */
      app?: string;
      /** CALLERID(num) of the caller. */
      callerNumber?: string;
      /** CHANNEL(language) of the caller (default "en"). */
      language?: string;
    } = {},
  ): SimChannel {
    const id = options.id ?? `sim-${++this.counter}-${Date.now()}`;
    let resolveEnded!: SimChannel['resolveEnded'];
    const ended = new Promise<'app_hangup' | 'caller_hangup' | 'continued'>((resolve) => (resolveEnded = resolve));
    const channel: SimChannel = {
      id,
      app: options.app ?? this.options.app,
      args: options.args ?? [],
      variables: new Map(Object.entries(options.variables ?? {})),
      ...(options.callerNumber !== undefined ? { callerNumber: options.callerNumber } : {}),
      ...(options.language !== undefined ? { language: options.language } : {}),
      playedLanguages: [],
      state: options.state ?? 'Up',
      inStasis: true,
      alive: true,
      played: [],
      completed: [],
      stoppedPlaybacks: 0,
      ended,
      resolveEnded: (how) => {
        if (channel.endedBy) return;
        channel.endedBy = how;
        resolveEnded(how);
      },
      playbacks: [],
    };
    this.channels.set(id, channel);
    // Unrelated traffic a real Asterisk sends around a Local channel entering Stasis.
    this.emit('ChannelVarset', { variable: 'DIGITS', value: '', channel: this.channelJson(channel, ';2') });
    this.emit('Dial', { dialstatus: 'ANSWER', forward: '', dialstring: 'caller@csat-test', peer: this.channelJson(channel) });
    this.emit('ChannelVarset', { variable: 'STASISSTATUS', value: '', channel: this.channelJson(channel) });
    if (options.announce ?? true) this.deliverStasisStart(channel);
    this.emit('ChannelDialplan', { dialplan_app: 'Wait', dialplan_app_data: '30', channel: this.channelJson(channel, ';2') });
    return channel;
  }

  /** Sends a channel's StasisStart, e.g. one that reaches the client late, behind other traffic. */
  deliverStasisStart(channel: SimChannel): void {
    this.emit('StasisStart', { args: channel.args, channel: this.channelJson(channel) });
  }

  press(channel: SimChannel, digit: string): void {
    if (!channel.alive || !channel.inStasis) return;
    this.emit('ChannelDtmfReceived', { digit, duration_ms: 100, channel: this.channelJson(channel) });
    this.recorder.press(channel, digit);
  }

  /** The caller speaks for `ms` from now (what a recording of the channel captures). */
  speak(channel: SimChannel, ms: number): void {
    this.recorder.speak(channel, ms);
  }

  callerHangup(channel: SimChannel): void {
    if (!channel.alive) return;
    channel.alive = false;
    const wasInStasis = channel.inStasis;
    channel.inStasis = false;
    channel.resolveEnded('caller_hangup');
    // Media stops at once (REST on these playbacks now answers 404); the events may come later.
    const active = channel.playbacks;
    channel.playbacks = [];
    // Asterisk closes a recording's file at once, with what was said; its event follows the hangup request.
    const recordingEvents = this.recorder.hangup(channel);
    for (const playback of active) {
      clearTimeout(playback.timer);
      this.playbacks.delete(playback.id);
    }
    const deliver = (): void => {
      this.emit('ChannelHangupRequest', { cause: 16, soft: true, channel: this.channelJson(channel, ';2') });
      this.emit('ChannelHangupRequest', { cause: 16, channel: this.channelJson(channel) });
      for (const send of recordingEvents) send();
      for (const playback of active.filter((p) => p.state === 'playing')) {
        playback.state = 'failed';
        this.emit('PlaybackFinished', { playback: this.playbackJson(playback) });
      }
      if (wasInStasis) this.emit('StasisEnd', { channel: this.channelJson(channel) });
      this.emit('ChannelDestroyed', { cause: 16, cause_txt: 'Normal Clearing', channel: this.channelJson(channel) });
    };
    if (this.options.hangupEventDelayMs > 0) setTimeout(deliver, this.options.hangupEventDelayMs);
    else deliver();
  }

  /**
   * Asterisk stopping under a call, as a real Asterisk 22 reports it: only a soft hangup request,
   * the playing prompt finished "failed", and the channel destroyed a moment later (no StasisEnd).
   */
  shutDownUnder(channel: SimChannel, destroyAfterMs = 200): void {
    channel.alive = false;
    channel.inStasis = false;
    this.emit('ChannelHangupRequest', { cause: 0, soft: true, channel: this.channelJson(channel) });
    for (const send of this.recorder.hangup(channel)) send();
    this.endPlaybacks(channel, 'failed');
    setTimeout(() => {
      this.emit('ChannelDestroyed', { cause: 0, cause_txt: 'Unknown', channel: this.channelJson(channel) });
      channel.resolveEnded('caller_hangup');
    }, destroyAfterMs);
  }

  private endPlaybacks(channel: SimChannel, state: 'failed' | 'done'): void {
    for (const playback of channel.playbacks) {
      clearTimeout(playback.timer);
      this.playbacks.delete(playback.id);
      if (playback.state === 'playing') {
        playback.state = state;
        this.emit('PlaybackFinished', { playback: this.playbackJson(playback) });
      }
    }
    channel.playbacks = [];
  }

  // ------------------------------------------------------------------ playback engine

  private startNext(channel: SimChannel): void {
    const playback = channel.playbacks[0];
    if (!playback || playback.state !== 'queued') return;
    playback.state = 'playing';
    this.emit('PlaybackStarted', { playback: this.playbackJson(playback) });
    this.playItem(channel, playback);
    for (const listener of this.onPlaybackStarted) listener(channel, playback.media);
  }

  private playItem(channel: SimChannel, playback: SimPlayback): void {
    const uri = playback.media[playback.index]!;
    // Asterisk accepts an unknown scheme with 201 and then never finishes it: callers must guard.
    if (!KNOWN_SCHEMES.test(uri) || this.options.stuckSounds.includes(uri.slice('sound:'.length))) return;
    // Asterisk's own fallback (file.c): the language asked for, then "en".
    const missing = uri.startsWith('sound:') && !this.soundExists(uri.slice('sound:'.length), playback.language) && !this.soundExists(uri.slice('sound:'.length), 'en');
    if (missing) {
      this.finishPlayback(channel, playback, 'failed');
      return;
    }
    playback.timer = setTimeout(() => {
      if (playback.index + 1 < playback.media.length) {
        playback.index++;
        this.emit('PlaybackContinuing', { playback: this.playbackJson(playback) });
        this.playItem(channel, playback);
      } else {
        channel.completed.push(playback.media);
        this.finishPlayback(channel, playback, 'done');
      }
    }, this.options.mediaMs(uri));
  }

  /** Whether sounds/<language>/<id> exists on this "Asterisk". */
  soundExists(id: string, language: string): boolean {
    const { missingSounds, soundLanguages, missingInLanguage } = this.options;
    return !missingSounds.includes(id) && soundLanguages.includes(language) && !(missingInLanguage[language] ?? []).includes(id);
  }

  private finishPlayback(channel: SimChannel, playback: SimPlayback, state: 'done' | 'failed'): void {
    clearTimeout(playback.timer);
    playback.state = state;
    this.playbacks.delete(playback.id);
    channel.playbacks = channel.playbacks.filter((p) => p !== playback);
    this.emit('PlaybackFinished', { playback: this.playbackJson(playback) });
    this.startNext(channel);
  }

  // ------------------------------------------------------------------ REST

  private basicAuthOk(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    return Buffer.from(header.slice(6), 'base64').toString() === `${this.options.username}:${this.options.password}`;
  }

  private handleHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/^\/ari/, '');
    if (this.refuseRest) {
      this.restLog.push({ method, path, query, status: 0, via: 'http' });
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (!this.basicAuthOk(req) && url.searchParams.get('api_key') !== `${this.options.username}:${this.options.password}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="Asterisk REST Interface"', 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'Authentication required' }));
        return;
      }
      // The one binary answer: a stored recording's file, as Asterisk serves it.
      const file = method === 'GET' ? /^\/ari\/recordings\/stored\/([^/]+)\/file$/.exec(url.pathname) : null;
      if (file) {
        const stored = this.recorder.stored.get(decodeURIComponent(file[1]!));
        this.received.push({ method, path, query });
        this.restLog.push({ method, path, query, status: stored ? 200 : 404, via: 'http' });
        if (!stored) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: 'Recording not found' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'audio/x-wav', 'content-length': stored.audio.length });
        res.end(stored.audio);
        return;
      }
      this.handleRequest({ method, pathname: url.pathname, query, body: Buffer.concat(chunks).toString(), host: req.headers.host ?? '127.0.0.1', via: 'http' }, (status, body) => {
        const text = body === undefined ? '' : JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
  }

  /** A RESTRequest on the event WebSocket: handled like an HTTP request, answered with a RESTResponse on that socket. */
  private handleWebSocketRequest(ws: WebSocket, data: string): void {
    let message: { type?: string; request_id?: string; transaction_id?: string; method?: string; uri?: string; message_body?: string };
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type !== 'RESTRequest' || !this.options.restOverWebSocket) return;
    const [uriPath = '', queryText = ''] = (message.uri ?? '').split('?', 2);
    const query = Object.fromEntries(new URLSearchParams(queryText));
    const pathname = `/ari/${uriPath.replace(/^\/+/, '')}`;
    this.handleRequest({ method: message.method ?? 'GET', pathname, query, body: message.message_body ?? '', host: '127.0.0.1', via: 'websocket' }, (status, body) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(
        JSON.stringify({
          type: 'RESTResponse',
          transaction_id: message.transaction_id ?? '',
          request_id: message.request_id ?? '',
          status_code: status,
          reason_phrase: status < 400 ? 'OK' : 'Error',
          uri: uriPath,
          ...(body === undefined ? {} : { content_type: 'application/json', message_body: JSON.stringify(body) }),
          asterisk_id: '02:fc:00:00:00:01',
          application: [...this.holders].find(([, holder]) => holder === ws)?.[0] ?? this.options.app,
        }),
      );
    });
  }

  private handleRequest(
    request: { method: string; pathname: string; query: Record<string, string>; body: string; host: string; via: 'http' | 'websocket' },
    respond: (status: number, body?: unknown) => void,
  ): void {
    const { method, pathname, query, via } = request;
    const path = pathname.replace(/^\/ari/, '');
    const send = (status: number, body?: unknown): void => {
      this.restLog.push({ method, path, query, status, via });
      this.beforeRespond?.(method, path);
      respond(status, body);
    };
    this.received.push({ method, path, query });
    this.onRequest?.(method, path);
    const unanswered = this.takeUnanswered(method, path);
    const handle = (): void => {
      if (unanswered) {
        this.restLog.push({ method, path, query, status: 0, via });
        if (unanswered.process) this.route(method, pathname, query, request.body, request.host, () => undefined);
        return;
      }
      try {
        this.route(method, pathname, query, request.body, request.host, send);
      } catch (err) {
        send(500, { message: String(err) });
      }
    };
    const delay = this.restDelay(method, path, via);
    if (delay <= 0) return handle();
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      handle();
    }, delay);
    this.delayed.add(timer);
  }

  private route(method: string, pathname: string, query: Record<string, string>, body: string, host: string, send: (status: number, body?: unknown) => void): void {
    const basePath = `http://${host}/ari`;
    let m: RegExpExecArray | null;
    if (method === 'GET' && pathname === '/ari/api-docs/resources.json') return send(200, resourceListing(basePath));
    if (method === 'GET' && (m = /^\/ari\/api-docs\/(\w+)\.json$/.exec(pathname))) {
      const doc = resourceDocument(m[1]!, basePath, { restOverWebSocket: this.options.restOverWebSocket });
      return doc ? send(200, doc) : send(404, { message: 'Not found' });
    }
    if (method === 'GET' && pathname === '/ari/channels') {
      return send(200, [...this.channels.values()].filter((c) => c.alive).map((c) => this.channelJson(c)));
    }
    if (method === 'PUT' && (m = /^\/ari\/applications\/([^/]+)\/eventFilter$/.exec(pathname))) {
      const app = decodeURIComponent(m[1]!);
      if (!this.holders.has(app)) return send(404, { message: 'Application not found' });
      let filter: { allowed?: Array<{ type?: unknown }> };
      try {
        filter = body ? JSON.parse(body) : {};
      } catch {
        return send(400, { message: 'Bad request' });
      }
      // As Asterisk: an empty or absent allowed list means every event.
      const allowed = (filter.allowed ?? []).map((entry) => String(entry.type));
      this.allowedEvents = allowed.length > 0 ? new Set(allowed) : undefined;
      return send(200, { name: app, channel_ids: [], bridge_ids: [], endpoint_ids: [], device_names: [], events_allowed: filter.allowed ?? [], events_disallowed: [] });
    }
    if (method === 'GET' && (m = /^\/ari\/applications\/([^/]+)$/.exec(pathname))) {
      const app = decodeURIComponent(m[1]!);
      const ids = [...this.channels.values()].filter((c) => c.alive && c.inStasis && c.app === app).map((c) => c.id);
      // As Asterisk 22: an application nobody holds stays listed while channels are still in it.
      if (!this.holders.has(app) && ids.length === 0) return send(404, { message: 'Application not found' });
      return send(200, { name: app, channel_ids: ids, bridge_ids: [], endpoint_ids: [], device_names: [] });
    }
    if ((m = /^\/ari\/playbacks\/([^/]+)$/.exec(pathname))) {
      const playback = this.playbacks.get(decodeURIComponent(m[1]!));
      if (!playback) return send(404, { message: 'Playback not found' });
      if (method === 'GET') return send(200, this.playbackJson(playback));
      if (method === 'DELETE') return this.stopPlayback(playback, send);
    }
    if (method === 'GET' && (m = /^\/ari\/sounds\/([^/]+)$/.exec(pathname))) {
      // As Asterisk: the id's "/" must come encoded (csat%2Fx); its formats list each language it exists in.
      const id = decodeURIComponent(m[1]!);
      const languages = this.options.soundLanguages.filter((language) => this.soundExists(id, language));
      if (languages.length === 0) return send(404, { message: 'Sound not found' });
      return send(200, { id, formats: languages.map((language) => ({ language, format: 'slin' })) });
    }
    if ((m = /^\/ari\/recordings\/stored\/([^/]+)$/.exec(pathname))) {
      const name = decodeURIComponent(m[1]!);
      const stored = this.recorder.stored.get(name);
      if (!stored) return send(404, { message: 'Recording not found' });
      if (method === 'GET') return send(200, { name, format: stored.format });
      if (method === 'DELETE') {
        this.recorder.stored.delete(name);
        return send(204);
      }
    }
    if (method === 'POST' && (m = /^\/ari\/recordings\/live\/([^/]+)\/stop$/.exec(pathname))) {
      return this.recorder.stop(decodeURIComponent(m[1]!)) ? send(204) : send(404, { message: 'Recording not found' });
    }
    if ((m = /^\/ari\/channels\/([^/]+)(?:\/(answer|continue|play|variable|record))?(?:\/([^/]+))?$/.exec(pathname))) {
      const channel = this.channels.get(decodeURIComponent(m[1]!));
      if (!channel || !channel.alive) return send(404, { message: 'Channel not found' });
      const action = m[2];
      if (action !== undefined && !channel.inStasis) return send(409, { message: 'Channel not in Stasis application' });
      if (!action && method === 'GET') return send(200, this.channelJson(channel));
      if (!action && method === 'DELETE') return this.appHangup(channel, send);
      if (action === 'answer' && method === 'POST') {
        channel.state = 'Up';
        return send(204);
      }
      if (action === 'continue' && method === 'POST') {
        channel.inStasis = false;
        this.endPlaybacks(channel, 'done');
        send(204);
        this.emit('StasisEnd', { channel: this.channelJson(channel) });
        channel.resolveEnded('continued');
        return;
      }
      if (action === 'variable' && method === 'GET') {
        if (this.options.failVariables) return send(500, { message: 'Internal Server Error' });
        if (!query['variable']) return send(400, { message: 'Variable name is required' });
        const value = channel.variables.get(query['variable']);
        return value === undefined ? send(404, { message: 'Provided variable was not found' }) : send(200, { value });
      }
      if (action === 'record' && method === 'POST') {
        const started = this.recorder.start(channel, query);
        return send(started.status, started.body);
      }
      if (action === 'play' && method === 'POST') return this.play(channel, query, m[3] ? decodeURIComponent(m[3]) : query['playbackId'], send);
    }
    send(404, { message: 'Not found' });
  }

  private play(channel: SimChannel, query: Record<string, string>, requestedId: string | undefined, send: (status: number, body?: unknown) => void): void {
    // As Asterisk 22 does, a playbackId already in use is not refused: the media is queued again.
    const media = (query['media'] ?? '').split(',').filter(Boolean);
    if (media.length === 0) return send(400, { message: 'media parameter is required' });
    const playback: SimPlayback = { id: requestedId ?? `pb-${++this.counter}`, channelId: channel.id, media, index: 0, state: 'queued', language: query['lang'] || channel.language || 'en' };
    channel.played.push(media);
    channel.playedLanguages.push(query['lang'] || undefined);
    channel.playbacks.push(playback);
    this.playbacks.set(playback.id, playback);
    const startsFirst = this.eventFirst(this.options.playOrder);
    const response = this.playbackJson(playback);
    if (startsFirst) {
      this.startNext(channel);
      send(201, { ...response, state: playback.state });
    } else {
      send(201, response);
      setImmediate(() => this.startNext(channel));
    }
  }

  private stopPlayback(playback: SimPlayback, send: (status: number, body?: unknown) => void): void {
    const channel = this.channels.get(playback.channelId);
    const finish = (): void => {
      if (!channel || !this.playbacks.has(playback.id)) return;
      channel.stoppedPlaybacks++;
      if (playback.state === 'playing') this.finishPlayback(channel, playback, 'done');
      else {
        this.playbacks.delete(playback.id);
        channel.playbacks = channel.playbacks.filter((p) => p !== playback);
      }
    };
    if (this.eventFirst(this.options.stopOrder)) {
      finish();
      send(204);
    } else {
      send(204);
      setImmediate(finish);
    }
  }

  private appHangup(channel: SimChannel, send: (status: number, body?: unknown) => void): void {
    channel.alive = false;
    send(204);
    this.emit('ChannelHangupRequest', { cause: 32, soft: true, channel: this.channelJson(channel) });
    for (const send of this.recorder.hangup(channel)) send();
    this.endPlaybacks(channel, 'failed');
    if (channel.inStasis) this.emit('StasisEnd', { channel: this.channelJson(channel) });
    channel.inStasis = false;
    this.emit('ChannelVarset', { variable: 'STASISSTATUS', value: 'SUCCESS', channel: this.channelJson(channel) });
    this.emit('ChannelDestroyed', { cause: 16, cause_txt: 'Normal Clearing', channel: this.channelJson(channel) });
    channel.resolveEnded('app_hangup');
  }
}
