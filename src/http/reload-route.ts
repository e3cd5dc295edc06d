// POST /-/reload: `cc-csat reload` asks the engine to re-read queues and IVRs. No API key: it is
// answered only to a client on this host that came straight to the socket. Refused: any other
// address, requests a proxy forwarded (a reverse proxy on the same host would make every remote
// client look local) and requests a web browser sent (a page on the operator's desktop posting to
// localhost).
import type { IncomingHttpHeaders } from 'node:http';
import { Router } from 'express';
import type { ReloadOutcome } from '../config/reloader.js';

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via'] as const;
const BROWSER_HEADERS = ['origin', 'sec-fetch-site', 'sec-fetch-mode'] as const;

function isLoopback(address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

/** Why this request may not reload, or undefined when it comes from this host, directly. */
export function reloadRefusal(socket: { remoteAddress?: string | undefined; localAddress?: string | undefined }, headers: IncomingHttpHeaders): string | undefined {
  const remote = socket.remoteAddress;
  // A client connecting to one of this host's own addresses (the API bound to a LAN address) has that address.
  const sameHost = remote !== undefined && (isLoopback(remote) || remote === socket.localAddress);
  if (!sameHost) return 'reload is answered only on the engine host (run cc-csat reload there)';
  if (PROXY_HEADERS.some((name) => headers[name] !== undefined)) return 'reload is not answered through a proxy (run cc-csat reload on the engine host)';
  if (BROWSER_HEADERS.some((name) => headers[name] !== undefined)) return 'reload is not answered to web browsers (run cc-csat reload on the engine host)';
  return undefined;
}

export function reloadRoutes(reload: () => ReloadOutcome): Router {
  const router = Router();
  router.post('/-/reload', (req, res) => {
    const refusal = reloadRefusal(req.socket, req.headers);
    if (refusal) {
      res.status(403).json({ detail: refusal });
      return;
    }
    const outcome = reload();
    const body = {
      result: outcome.result,
      at: outcome.at.toISOString(),
      queues: outcome.queues,
      ivrs: outcome.ivrs,
      hash: outcome.hash,
      engine_file_changed: outcome.engineFileChanged,
      problems: outcome.problems,
    };
    if (outcome.result === 'ok') {
      res.json(body);
      return;
    }
    const count = outcome.problems.length;
    res.status(422).json({ detail: `invalid configuration (${count} problem${count === 1 ? '' : 's'}): the running config is kept`, ...body });
  });
  return router;
}
