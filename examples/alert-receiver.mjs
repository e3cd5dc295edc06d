// A receiver of cc-csat alerts: checks the signature, drops repeats by Idempotency-Key, answers 2xx.
// Run: CSAT_ALERT_SECRET=... PORT=9000 node examples/alert-receiver.mjs
// Plain Node (no dependencies); the checks are what any receiver should do, in any language.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.CSAT_ALERT_SECRET;
if (!secret) throw new Error('set CSAT_ALERT_SECRET to the [[alerts.destination]] secret');
const TOLERANCE_SECONDS = 300; // refuse deliveries signed more than 5 minutes away (replays)
const seen = new Set(); // Idempotency-Keys handled; keep them in your database in production

/** X-CSAT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> (several v1 while a secret rotates). */
function verified(header, body) {
  if (typeof header !== 'string' || header.length > 1024) return false;
  const parts = header.split(',').map((part) => part.split('='));
  const t = Number(parts.find(([name]) => name === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > TOLERANCE_SECONDS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts
    .filter(([name, value]) => name === 'v1' && /^[0-9a-f]{64}$/.test(value ?? ''))
    .some(([, value]) => timingSafeEqual(Buffer.from(value, 'hex'), expected));
}

createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8'); // the raw bytes: never re-serialized JSON
    if (!verified(req.headers['x-csat-signature'], body)) {
      res.writeHead(401).end();
      return;
    }
    const key = req.headers['idempotency-key'];
    if (!seen.has(key)) {
      seen.add(key);
      const alert = JSON.parse(body);
      // Your work here: open a ticket, page a supervisor, call the customer back.
      console.log(JSON.stringify({ received: key, rule: alert.rule.name, call: alert.call.call_id, agent: alert.call.agent_id, answer: alert.answer }));
    }
    res.writeHead(204).end(); // 2xx: delivered. A repeat is answered 2xx too, or it is sent again
  });
}).listen(Number(process.env.PORT ?? 9000), '127.0.0.1', () => console.log(JSON.stringify({ listening: Number(process.env.PORT ?? 9000) })));
