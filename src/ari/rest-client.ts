// The handful of ARI REST operations the engine makes, over a transport: node:http keep-alive here,
// or the event WebSocket (ws-rest.ts) where Asterisk offers REST over it.
//
// ari-client stays the event stream (its WebSocket, reconnects and event objects). Its REST layer,
// swagger-client 2.0 on shred, lodash and request, cost most of the engine's CPU per survey in a
// profile on a real Asterisk (and `new Buffer` deprecation checks on every call), for what is a URL,
// a method and a JSON body. Errors keep ari-client's shape: an Error whose message is Asterisk's
// response body ({"message": "Channel not found"}), which src/ari/errors.ts classifies.
import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';

type Params = Readonly<Record<string, string | number | boolean | undefined>>;
type Op<P extends Params, R = unknown> = (params: P) => Promise<R>;

/** Operation names as in ARI's own API documents (what ari-client exposes). */
export interface AriRestApi {
  readonly channels: {
    answer: Op<{ channelId: string }>;
    /** `lang`: the language sounds play in (absent: the channel's own). */
    play: Op<{ channelId: string; media: string; playbackId: string; lang?: string | undefined }>;
    hangup: Op<{ channelId: string; reason?: string }>;
    continueInDialplan: Op<{ channelId: string }>;
    getChannelVar: Op<{ channelId: string; variable: string }, { value?: string }>;
    get: Op<{ channelId: string }, { state?: string; dialplan?: { app_name?: string; app_data?: string } }>;
    record: Op<{
      channelId: string;
      name: string;
      format: string;
      maxDurationSeconds: number;
      maxSilenceSeconds: number;
      beep: boolean;
      terminateOn: string;
      ifExists: 'fail';
    }>;
  };
  readonly sounds: {
    /** GET /sounds/{soundId}: the languages and formats a sound exists in (404: none). The id's "/" is sent as %2F. */
    get: Op<{ soundId: string }, { formats?: Array<{ language?: string; format?: string }> }>;
  };
  readonly recordings: {
    /** POST /recordings/live/{name}/stop: ends a live recording, keeping what it has. */
    stop: Op<{ recordingName: string }>;
  };
  readonly playbacks: {
    stop: Op<{ playbackId: string }>;
    get: Op<{ playbackId: string }>;
  };
  readonly applications: {
    get: Op<{ applicationName: string }, { channel_ids?: string[] }>;
    /** PUT eventFilter: only these event types reach the application (Asterisk 13.26, 16.3 and later). */
    filter: (params: { applicationName: string; allowed: readonly string[] }) => Promise<unknown>;
  };
}

/** An ARI answer of 4xx/5xx. The message is the body, as ari-client reports it. */
export class AriHttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(body || `HTTP ${status}`);
    this.name = 'AriHttpError';
  }
}

// A request Asterisk never answers frees its connection after this, whatever the caller's own timeout.
const SOCKET_TIMEOUT_MS = 60_000;

type Method = 'GET' | 'POST' | 'DELETE' | 'PUT';
/**
 * Sends one ARI request: `path` relative to /ari/ (segments already encoded), `query` an encoded
 * query string or '', `body` a JSON text if any.
 */
export type AriSend = (method: Method, path: string, query: string, body?: string) => Promise<any>;

function queryString(params: Params): string {
  let query = '';
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    query += `${query ? '&' : ''}${name}=${encodeURIComponent(String(value))}`;
  }
  return query;
}

/** The operations the engine uses, over any transport that can send an ARI request. */
export function ariOperations(send: AriSend): AriRestApi {
  const segment = encodeURIComponent;
  return {
    channels: {
      answer: ({ channelId }) => send('POST', `channels/${segment(channelId)}/answer`, ''),
      play: ({ channelId, media, playbackId, lang }) => send('POST', `channels/${segment(channelId)}/play`, queryString({ media, playbackId, lang })),
      hangup: ({ channelId, reason }) => send('DELETE', `channels/${segment(channelId)}`, queryString({ reason })),
      continueInDialplan: ({ channelId }) => send('POST', `channels/${segment(channelId)}/continue`, ''),
      getChannelVar: ({ channelId, variable }) => send('GET', `channels/${segment(channelId)}/variable`, queryString({ variable })),
      get: ({ channelId }) => send('GET', `channels/${segment(channelId)}`, ''),
      record: ({ channelId, ...options }) => send('POST', `channels/${segment(channelId)}/record`, queryString(options)),
    },
    sounds: {
      // Asterisk routes /sounds/csat/x as a path of its own (404): the id is one encoded segment.
      get: ({ soundId }) => send('GET', `sounds/${segment(soundId)}`, ''),
    },
    recordings: {
      stop: ({ recordingName }) => send('POST', `recordings/live/${segment(recordingName)}/stop`, ''),
    },
    playbacks: {
      stop: ({ playbackId }) => send('DELETE', `playbacks/${segment(playbackId)}`, ''),
      get: ({ playbackId }) => send('GET', `playbacks/${segment(playbackId)}`, ''),
    },
    applications: {
      get: ({ applicationName }) => send('GET', `applications/${segment(applicationName)}`, ''),
      filter: ({ applicationName, allowed }) =>
        send('PUT', `applications/${segment(applicationName)}/eventFilter`, '', JSON.stringify({ allowed: allowed.map((type) => ({ type })) })),
    },
  };
}

export interface HttpRestOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly maxSockets: number;
}

/**
 * Sends ARI requests over HTTP keep-alive: for an Asterisk without REST over WebSocket (before 20.13,
 * 21.8, 22.3), and for the WebSocket transport while its stream is down or slow.
 */
export function createHttpSend(options: HttpRestOptions): AriSend {
  const base = new URL(options.url.replace(/\/+$/, '') + '/ari/');
  const transport = base.protocol === 'https:' ? https : http;
  // The agent's timeout is set once per socket; a timeout per request would add listeners to it each time.
  const agent = new transport.Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, timeout: SOCKET_TIMEOUT_MS });
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const headers = { authorization, accept: 'application/json' };
  const jsonHeaders = { ...headers, 'content-type': 'application/json' };
  // urlToHttpOptions, not base.hostname: an IPv6 host ([::1]) keeps its brackets in hostname.
  const { protocol, hostname, port } = urlToHttpOptions(base);
  const target = { protocol, hostname, port, agent, headers };

  return (method, path, query, body) =>
    new Promise((resolve, reject) => {
      const options = { ...target, ...(body === undefined ? {} : { headers: jsonHeaders }), method, path: `${base.pathname}${path}${query ? `?${query}` : ''}` };
      const request = transport.request(options, (response) => {
        let answer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (answer += chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 400) return reject(new AriHttpError(status, answer));
          if (answer.length === 0) return resolve(undefined);
          try {
            resolve(JSON.parse(answer));
          } catch {
            reject(new AriHttpError(status, `unreadable answer: ${answer.slice(0, 200)}`));
          }
        });
      });
      request.on('timeout', () => request.destroy(new Error(`no answer from Asterisk within ${SOCKET_TIMEOUT_MS} ms`)));
      request.on('error', reject);
      request.end(body);
    });
}
