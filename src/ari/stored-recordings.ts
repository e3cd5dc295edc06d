// Asterisk's stored recordings over plain HTTP (GET/DELETE /ari/recordings/stored/{name}[/file]):
// the audio is binary, which neither ari-client nor REST over the event WebSocket carries, and it is
// streamed, never held whole. Used to measure a comment's exact length, to discard a too-short one,
// and behind the RecordingSource the API streams from and the result service deletes through.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { RecordingSourceUnavailableError, type RecordingAudio, type RecordingSource } from '../telephony/recordings.js';

export interface StoredRecordingsOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** How long Asterisk may take to answer (headers); a body that stalls this long is cut off. */
  readonly timeoutMs: number;
}

/** Bytes per second of the formats whose files are raw samples (no header). */
const RAW_BYTES_PER_SECOND: Readonly<Record<string, number>> = { ulaw: 8000, alaw: 8000, gsm: 1650, sln: 16000, sln16: 32000 };
/** A WAV header is 44 bytes as Asterisk writes it; a few chunks more are still read before giving up. */
const MAX_WAV_HEADER_BYTES = 4096;

export class AriStoredRecordings {
  private readonly base: URL;
  private readonly transport: typeof http | typeof https;
  private readonly authorization: string;

  constructor(private readonly options: StoredRecordingsOptions) {
    this.base = new URL(options.url.replace(/\/+$/, '') + '/ari/recordings/stored/');
    this.transport = this.base.protocol === 'https:' ? https : http;
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  }

  /** Sends one request; resolves with Asterisk's response (headers in), body unread. */
  private request(method: 'GET' | 'DELETE', path: string): Promise<IncomingMessage> {
    const { protocol, hostname, port } = urlToHttpOptions(this.base);
    return new Promise((resolve, reject) => {
      const request = this.transport.request(
        // A connection per request (they are rare): a socket timeout set for one body never lingers on a pooled socket.
        { protocol, hostname, port, agent: false, method, path: `${this.base.pathname}${path}`, headers: { authorization: this.authorization } },
        (response) => {
          clearTimeout(timer);
          // A body that stalls (an Asterisk gone mid-stream) must not hold the stream open forever.
          response.socket.setTimeout(this.options.timeoutMs, () => response.destroy(new Error(`Asterisk stopped sending ${path}`)));
          resolve(response);
        },
      );
      const timer = setTimeout(() => request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      request.on('error', (err) => {
        clearTimeout(timer);
        reject(new RecordingSourceUnavailableError(`Asterisk at ${this.options.url} unreachable for ${method} ${path}: ${err.message}`));
      });
      request.end();
    });
  }

  /** The audio of a stored recording, streamed; undefined when Asterisk has no such recording. */
  async open(name: string): Promise<RecordingAudio | undefined> {
    const response = await this.request('GET', `${encodeURIComponent(name)}/file`);
    const status = response.statusCode ?? 0;
    if (status === 404) {
      response.resume();
      return undefined;
    }
    if (status !== 200) {
      response.resume();
      // 401 (our credentials), 403 (the file cannot be opened), 5xx: ours to fix, the client's to retry.
      throw new RecordingSourceUnavailableError(`Asterisk at ${this.options.url} answered ${status} for recording ${name}`);
    }
    const length = Number(response.headers['content-length']);
    return { body: response, contentLength: Number.isFinite(length) ? length : undefined };
  }

  async delete(name: string): Promise<'deleted' | 'missing'> {
    const response = await this.request('DELETE', encodeURIComponent(name));
    response.resume();
    const status = response.statusCode ?? 0;
    if (status === 404) return 'missing';
    if (status >= 200 && status < 300) return 'deleted';
    throw new RecordingSourceUnavailableError(`Asterisk at ${this.options.url} answered ${status} to deleting recording ${name}`);
  }

  /**
   * The exact length of a stored recording, from its bytes (RecordingFinished's duration is whole
   * seconds): a WAV's data size over its byte rate, a raw format's size over its rate. Undefined when
   * Asterisk has no such recording or the format is one whose length cannot be read off its size.
   */
  async durationMs(name: string, format: string): Promise<number | undefined> {
    const audio = await this.open(name);
    if (!audio) return undefined;
    let total = 0;
    let head = Buffer.alloc(0);
    for await (const chunk of audio.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (head.length < MAX_WAV_HEADER_BYTES) head = Buffer.concat([head, chunk.subarray(0, MAX_WAV_HEADER_BYTES - head.length)]);
    }
    if (format.startsWith('wav')) {
      const wav = wavLayout(head);
      if (!wav) return undefined;
      // The header's size is written when Asterisk closes the file; the bytes served are the truth if they disagree.
      const dataBytes = wav.dataBytes > 0 && wav.dataOffset + wav.dataBytes <= total ? wav.dataBytes : total - wav.dataOffset;
      return Math.round((Math.max(0, dataBytes) * 1000) / wav.byteRate);
    }
    const rate = RAW_BYTES_PER_SECOND[format];
    return rate === undefined ? undefined : Math.round((total * 1000) / rate);
  }

}

/** Where a WAV file's samples start, how many bytes they take, and how many bytes make a second. */
export function wavLayout(head: Buffer): { dataOffset: number; dataBytes: number; byteRate: number } | undefined {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let byteRate: number | undefined;
  for (let offset = 12; offset + 8 <= head.length; ) {
    const id = head.toString('ascii', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    if (id === 'fmt ' && offset + 20 <= head.length) byteRate = head.readUInt32LE(offset + 16);
    if (id === 'data') return byteRate ? { dataOffset: offset + 8, dataBytes: size, byteRate } : undefined;
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/**
 * The RecordingSource over every configured server. A recording made on a known server is asked of
 * that server only; one without a server (or on a server no longer configured) of each in turn.
 */
export function ariRecordingSource(servers: ReadonlyMap<string, AriStoredRecordings>): RecordingSource {
  const candidates = (server: string | null): AriStoredRecordings[] => {
    const known = server === null ? undefined : servers.get(server);
    return known ? [known] : [...servers.values()];
  };
  return {
    async open(server, name) {
      let unavailable: RecordingSourceUnavailableError | undefined;
      for (const each of candidates(server)) {
        try {
          const audio = await each.open(name);
          if (audio) return audio;
        } catch (err) {
          if (!(err instanceof RecordingSourceUnavailableError)) throw err;
          unavailable = err;
        }
      }
      // Not found where it could be asked, but a server that could not be asked may have it.
      if (unavailable) throw unavailable;
      return undefined;
    },
    async delete(server, name) {
      let unavailable: RecordingSourceUnavailableError | undefined;
      let deleted = false;
      for (const each of candidates(server)) {
        try {
          if ((await each.delete(name)) === 'deleted') deleted = true;
        } catch (err) {
          if (!(err instanceof RecordingSourceUnavailableError)) throw err;
          unavailable = err;
        }
      }
      if (deleted) return 'deleted';
      if (unavailable) throw unavailable;
      return 'missing';
    },
  };
}
