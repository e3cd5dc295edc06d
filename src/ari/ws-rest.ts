// ARI REST over the event WebSocket (Asterisk 20.13, 21.8, 22.3 and later): a request is one
// `RESTRequest` message on the connection ari-client already holds, its answer one `RESTResponse`
// event on the same stream. Per request that is a WebSocket frame each way instead of an HTTP
// exchange (a socket write, a response parse, an agent and a stream per request in node:http): on a
// real Asterisk, node:http was the largest share of the engine's CPU per survey.
//
// What changes with the transport: answers and events share one ordered stream, so a play's answer
// can no longer overtake its PlaybackFinished by arriving on another connection; and a dropped stream
// takes its unanswered requests with it. They fail at once with StreamClosedError, which the channel
// treats as it treats a timeout (a stop or hangup is sent again, a play after asking whether Asterisk
// has it). While the stream is not open, requests go over HTTP (`fallback`): a blip of the event
// stream must not cut a survey short when Asterisk itself still answers.
//
// Asterisk runs the REST requests of one WebSocket one after another on that connection's thread,
// where HTTP gets a thread per connection. On an Asterisk short of CPU that one thread falls behind
// and every caller's stop waits in its queue: barge-in suffers first. So while the stream's answers
// are slow (mean over the last second at or above `spillOverAtMs`), requests go over HTTP too; once
// the window has emptied, the stream is tried again.
import type { AriRestApi, AriSend } from './rest-client.js';
import { LatencyWindow } from './latency-window.js';
import { AriHttpError, ariOperations } from './rest-client.js';

/** The part of ws's WebSocket this needs. */
export interface EventSocket {
  readonly readyState: number;
  send(data: string, callback: (err?: Error) => void): void;
  once(event: 'close', listener: () => void): unknown;
}

const OPEN = 1;

/** A `RESTResponse` event as Asterisk sends it. */
export interface RestResponseEvent {
  readonly request_id?: string;
  readonly status_code?: number;
  readonly message_body?: string;
}

interface Pending {
  readonly socket: EventSocket;
  readonly sentAt: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class StreamClosedError extends Error {
  constructor(what: string) {
    super(`ARI event stream ${what} before Asterisk answered`);
    this.name = 'StreamClosedError';
  }
}

export interface WebSocketRestOptions {
  /**
   * A request Asterisk has not answered after this long is given up for good, as node:http's socket
   * timeout does for HTTP: its place in the request pool is held until then. Default 60 s.
   */
  readonly giveUpAfterMs?: number;
  /** While the stream's answers take this long on average, requests go over HTTP. Default 20 ms. */
  readonly spillOverAtMs?: number;
}

const GIVE_UP_AFTER_MS = 60_000;
// An Asterisk with CPU to spare answers on the stream in a millisecond or two.
const SPILL_OVER_AT_MS = 20;

export class WebSocketRest {
  readonly api: AriRestApi;
  private readonly pending = new Map<string, Pending>();
  /** Sockets whose close already fails the requests sent on them. */
  private readonly watched = new WeakSet<EventSocket>();
  private nextId = 0;
  private readonly giveUpAfterMs: number;
  private readonly spillOverAtMs: number;
  private readonly latency = new LatencyWindow();
  /** One timer for every request, running only while some are unanswered. */
  private sweeper: NodeJS.Timeout | undefined;

  /** @param socket the event stream's current WebSocket (ari-client replaces it on every reconnect). */
  constructor(
    private readonly socket: () => EventSocket | undefined,
    private readonly fallback: AriSend,
    options: WebSocketRestOptions = {},
  ) {
    this.giveUpAfterMs = options.giveUpAfterMs ?? GIVE_UP_AFTER_MS;
    this.spillOverAtMs = options.spillOverAtMs ?? SPILL_OVER_AT_MS;
    this.api = ariOperations((method, path, query, body) => this.send(method, path, query, body));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Hands a `RESTResponse` event to the request waiting for it. Unknown ids (a stream that closed and came back) are ignored. */
  settle(event: RestResponseEvent): void {
    const id = event.request_id;
    if (id === undefined) return;
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    this.latency.record(performance.now() - request.sentAt);
    const status = Number(event.status_code ?? 0);
    const body = event.message_body ?? '';
    if (status >= 400 || status < 200) return request.reject(new AriHttpError(status, body));
    if (body.length === 0) return request.resolve(undefined);
    try {
      request.resolve(JSON.parse(body));
    } catch {
      request.reject(new AriHttpError(status, `unreadable answer: ${body.slice(0, 200)}`));
    }
  }

  private send(method: Parameters<AriSend>[0], path: string, query: string, body?: string): Promise<unknown> {
    const socket = this.socket();
    if (!socket || socket.readyState !== OPEN || this.latency.meanMs() >= this.spillOverAtMs) return this.fallback(method, path, query, body);
    this.watch(socket);
    const id = String(++this.nextId);
    const uri = query ? `${path}?${query}` : path;
    const message = JSON.stringify(
      body === undefined
        ? { type: 'RESTRequest', request_id: id, method, uri }
        : { type: 'RESTRequest', request_id: id, method, uri, content_type: 'application/json', message_body: body },
    );
    return new Promise((resolve, reject) => {
      this.pending.set(id, { socket, sentAt: performance.now(), resolve, reject });
      this.sweeper ??= setInterval(() => this.giveUpOnStale(), Math.max(10, Math.min(1000, this.giveUpAfterMs / 4))).unref();
      socket.send(message, (err) => {
        if (!err) return;
        if (this.pending.delete(id)) reject(err);
      });
    });
  }

  /** Requests that outlived giveUpAfterMs: Asterisk lost them (or is stuck), their slots are freed. */
  private giveUpOnStale(): void {
    const before = performance.now() - this.giveUpAfterMs;
    for (const [id, request] of this.pending) {
      if (request.sentAt > before) break; // in the order sent
      this.pending.delete(id);
      request.reject(new Error(`no answer from Asterisk within ${this.giveUpAfterMs} ms`));
    }
    if (this.pending.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private watch(socket: EventSocket): void {
    if (this.watched.has(socket)) return;
    this.watched.add(socket);
    socket.once('close', () => {
      for (const [id, request] of this.pending) {
        if (request.socket !== socket) continue;
        this.pending.delete(id);
        request.reject(new StreamClosedError('closed'));
      }
    });
  }
}
