// Which Asterisk media server a caller goes to: only servers whose ARI connection is up and in sync
// (a survey needs the engine to see the call), below their max_live_surveys, fewest live surveys
// first. Live surveys are what the engine runs on the server (the front door's callers and the
// server's own) plus the front door's calls still being set up there, which the engine does not see
// yet: a burst of INVITEs must not all land on the server that was idlest a moment ago.

export interface MediaServer {
  readonly name: string;
  readonly sipUri: string;
  readonly maxLiveSurveys: number | undefined;
}

export interface MediaServerView {
  /** Whether the engine's ARI connection to `server` is up and in sync. */
  isReady(server: string): boolean;
  /** Surveys the engine runs on `server` now. */
  liveSurveys(server: string): number;
}

export type MediaServerChoice = { readonly kind: 'servers'; readonly servers: readonly MediaServer[] } | { readonly kind: 'none'; readonly why: string };

export class MediaServerPool {
  private readonly settingUp = new Map<string, number>();
  /** Where ties start: equal servers take turns. */
  private turn = 0;

  constructor(
    private readonly servers: readonly MediaServer[],
    private readonly view: MediaServerView,
  ) {}

  /** The servers to try, best first; none when no server is ready or every ready one is full. */
  choose(): MediaServerChoice {
    const ready = this.servers.filter((server) => this.view.isReady(server.name));
    if (ready.length === 0) return { kind: 'none', why: 'no media server ready: no Asterisk with a sip_uri is connected' };
    const withRoom = ready.filter((server) => server.maxLiveSurveys === undefined || this.load(server.name) < server.maxLiveSurveys);
    if (withRoom.length === 0) return { kind: 'none', why: 'all media servers at capacity (max_live_surveys)' };
    const start = this.turn++ % withRoom.length;
    const rotated = [...withRoom.slice(start), ...withRoom.slice(0, start)];
    // A stable sort keeps the rotation among equals.
    rotated.sort((a, b) => this.load(a.name) - this.load(b.name));
    return { kind: 'servers', servers: rotated };
  }

  /** A call is being set up on `server` until the returned function is called (once). */
  settingUpOn(server: string): () => void {
    this.settingUp.set(server, (this.settingUp.get(server) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.settingUp.set(server, (this.settingUp.get(server) ?? 1) - 1);
    };
  }

  load(server: string): number {
    return this.view.liveSurveys(server) + (this.settingUp.get(server) ?? 0);
  }
}
