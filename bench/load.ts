// Load generator, run as its own process so it never shares the server's event loop:
// node --import tsx bench/load.ts '{"url": ..., "connections": 32, "duration": 10, ...}'
import autocannon from 'autocannon';

interface LoadConfig {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  /** POST with a body and a unique call id per request (write path). */
  post?: { body: string; pathPrefix: string };
}

const config = JSON.parse(process.argv[2]!) as LoadConfig;
let sequence = 0;
const result = await autocannon({
  url: config.url,
  connections: config.connections,
  duration: config.duration,
  headers: config.headers,
  ...(config.post
    ? {
        method: 'POST' as const,
        body: config.post.body,
        requests: [{ setupRequest: (request: autocannon.Request) => ({ ...request, path: `${config.post!.pathPrefix}${process.pid}-${++sequence}` }) }],
      }
    : {}),
});
console.log(
  JSON.stringify({
    requests_per_second: result.requests.average,
    total: result.requests.total,
    latency_p50_ms: result.latency.p50,
    latency_p99_ms: result.latency.p99,
    latency_max_ms: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    status: result.statusCodeStats,
  }),
);
