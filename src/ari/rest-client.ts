// The handful of ARI REST operations the engine makes, on node:http keep-alive.
//
// ari-client stays the event stream (its WebSocket, reconnects and event objects). Its REST layer,
// swagger-client 2.0 on shred, lodash and request, cost most of the engine's CPU per survey in a
// profile on a real Asterisk (and `new Buffer` deprecation checks on every call), for what is a URL,
// a method and a JSON body. Errors keep ari-client's shape: an Error whose message is Asterisk's
// response body ({"message": "Channel not found"}), which src/ari/errors.ts classifies.
import http from 'node:http';
import https from 'node:https';

type Params = Readonly<Record<string, string | number | boolean | undefined>>;
type Op<P extends Params, R = unknown> = (params: P) => Promise<R>;

/** Operation names as in ARI's own API documents (what ari-client exposes). */
export interface AriRestApi {
  readonly channels: {
    answer: Op<{ channelId: string }>;
    play: Op<{ channelId: string; media: string; playbackId: string }>;
    hangup: Op<{ channelId: string; reason?: string }>;
    continueInDialplan: Op<{ channelId: string }>;
    getChannelVar: Op<{ channelId: string; variable: string }, { value?: string }>;
    get: Op<{ channelId: string }, { state?: string; dialplan?: { app_name?: string; app_data?: string } }>;
  };
  readonly playbacks: {
    stop: Op<{ playbackId: string }>;
    get: Op<{ playbackId: string }>;
  };
  readonly applications: {
    get: Op<{ applicationName: string }, { channel_ids?: string[] }>;
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

export function createAriRestApi(options: { url: string; username: string; password: string; maxSockets: number }): AriRestApi {
  const base = new URL(options.url.replace(/\/+$/, '') + '/ari/');
  const transport = base.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets });
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const segment = encodeURIComponent;

  const send = (method: 'GET' | 'POST' | 'DELETE', path: string, query: Params = {}): Promise<any> => {
    const target = new URL(path, base);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) target.searchParams.set(name, String(value));
    return new Promise((resolve, reject) => {
      const request = transport.request(target, { method, agent, headers: { authorization, accept: 'application/json' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status >= 400) return reject(new AriHttpError(status, body));
          if (body.length === 0) return resolve(undefined);
          try {
            resolve(JSON.parse(body));
          } catch {
            reject(new AriHttpError(status, `unreadable answer: ${body.slice(0, 200)}`));
          }
        });
      });
      request.setTimeout(SOCKET_TIMEOUT_MS, () => request.destroy(new Error(`no answer from Asterisk within ${SOCKET_TIMEOUT_MS} ms`)));
      request.on('error', reject);
      request.end();
    });
  };

  return {
    channels: {
      answer: ({ channelId }) => send('POST', `channels/${segment(channelId)}/answer`),
      play: ({ channelId, media, playbackId }) => send('POST', `channels/${segment(channelId)}/play`, { media, playbackId }),
      hangup: ({ channelId, reason }) => send('DELETE', `channels/${segment(channelId)}`, { reason }),
      continueInDialplan: ({ channelId }) => send('POST', `channels/${segment(channelId)}/continue`),
      getChannelVar: ({ channelId, variable }) => send('GET', `channels/${segment(channelId)}/variable`, { variable }),
      get: ({ channelId }) => send('GET', `channels/${segment(channelId)}`),
    },
    playbacks: {
      stop: ({ playbackId }) => send('DELETE', `playbacks/${segment(playbackId)}`),
      get: ({ playbackId }) => send('GET', `playbacks/${segment(playbackId)}`),
    },
    applications: {
      get: ({ applicationName }) => send('GET', `applications/${segment(applicationName)}`),
    },
  };
}
