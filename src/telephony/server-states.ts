// One engine, several telephony servers: their connection states seen as one, for /readyz and metrics.
import type { CombinedConnectionState, ConnectionState, TelephonyReadiness } from './port.js';

export interface NamedServer {
  readonly server: string;
  readonly state: ConnectionState;
}

/**
 * 'connected' when every server is, 'degraded' when some are; with none connected, 'connecting'
 * while any still tries, else 'replaced' if another engine holds the application, else 'stopped'.
 * One server's state is its own.
 */
export function combineStates(states: readonly ConnectionState[]): CombinedConnectionState {
  const connected = states.filter((state) => state === 'connected').length;
  if (connected > 0) return connected === states.length ? 'connected' : 'degraded';
  if (states.includes('connecting')) return 'connecting';
  return states.includes('replaced') ? 'replaced' : 'stopped';
}

/**
 * Whether new calls can be surveyed: some server is connected and in sync. A load balancer in front
 * of engines needs one that takes calls; which servers are down shows in the report and the metrics.
 */
export function takesCalls(state: CombinedConnectionState): boolean {
  return state === 'connected' || state === 'degraded';
}

/** Live view over the servers (their states change as they connect and drop). */
export class ServerStates implements TelephonyReadiness {
  constructor(private readonly list: readonly NamedServer[]) {}

  get state(): CombinedConnectionState {
    return combineStates(this.list.map((server) => server.state));
  }

  get servers(): Readonly<Record<string, ConnectionState>> | undefined {
    if (this.list.length < 2) return undefined;
    return Object.fromEntries(this.list.map((server) => [server.server, server.state]));
  }
}
