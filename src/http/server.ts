// The HTTP server under the Express app: taken before anything else starts, JSON even for errors
// Node's parser answers by itself, and bounded in how long a slow client may hold a connection.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';

const LISTEN_ADVICE: Record<string, string> = {
  EADDRINUSE: 'address already in use (another cc-csat or another server has it)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'address not available on this machine',
};

// A client that trickles its headers or body holds a connection and its buffers; these bound it.
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** Until the engine is ready, every request but /healthz is told to come back (the process is alive). */
const starting: RequestListener = (req, res) => {
  const alive = req.url === '/healthz';
  res.writeHead(alive ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', ...(alive ? {} : { 'retry-after': '2' }) });
  res.end(JSON.stringify(alive ? { status: 'ok' } : { detail: 'cc-csat is starting' }));
};

/**
 * Node answers malformed requests (a 20 KB header, a raw byte in the path, a bad chunk) before any
 * handler runs, with an empty body: answer them as every other error, JSON {detail}.
 */
function answerClientError(err: NodeJS.ErrnoException & { bytesParsed?: number }, socket: Socket): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable)) {
    socket.destroy();
    return;
  }
  const [status, reason] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout']
    : [400, 'Bad Request'];
  const body = JSON.stringify({ detail: `malformed HTTP request (${err.code ?? 'unknown'})` });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export interface ListeningServer {
  readonly server: Server;
  /** Hands requests to `app` from now on. */
  serve(app: RequestListener): void;
}

/** Listens on host:port answering "starting"; rejects naming the address and the reason when it cannot. */
export function listenFirst(port: number, host: string, section: string): Promise<ListeningServer> {
  const server = createServer(starting);
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.on('clientError', answerClientError);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const reason = (err.code && LISTEN_ADVICE[err.code]) ?? err.message;
      reject(new Error(`cannot listen on ${host}:${port}: ${reason}; change ${section} host/port in the engine config`));
    });
    server.listen(port, host, () =>
      resolve({
        server,
        serve(app) {
          server.removeListener('request', starting);
          server.on('request', app);
        },
      }),
    );
  });
}
