// ari-client's HTTP layer (swagger-client on shred) sends every ARI REST call through Node's global
// agent, and nothing else in this process uses it (the API is a server; probes use fetch). A
// bounded keep-alive pool does two things: bursts reuse connections instead of opening and closing
// hundreds of sockets, and the engine stays under Asterisk's own HTTP session limit (http.conf
// sessionlimit, 100 by default), past which Asterisk refuses connections.
import http from 'node:http';
import https from 'node:https';

export function useBoundedAriAgent(maxConcurrentRequests: number): void {
  const options = { keepAlive: true, maxSockets: maxConcurrentRequests, maxFreeSockets: maxConcurrentRequests };
  http.globalAgent = new http.Agent(options);
  https.globalAgent = new https.Agent(options);
}
