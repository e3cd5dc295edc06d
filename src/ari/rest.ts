import type { Logger } from '../log.js';
import { withTimeout } from './errors.js';

type Params = Record<string, string | number | boolean | undefined>;
type Op = (params: Params) => Promise<any>;

/** The slice of ari-client's generated API this engine uses (operation names from the ARI Swagger docs). */
export interface AriClientLike {
  channels: { answer: Op; play: Op; hangup: Op; continueInDialplan: Op; getChannelVar: Op; get: Op };
  playbacks: { stop: Op; get: Op };
  applications: { get: Op };
  on(event: string, listener: (event: any, resource?: unknown) => void): unknown;
  start(app: string): Promise<void>;
  stop(): void;
}

/** Every REST call goes through here: one place for the timeout and for "not connected". */
export class AriRest {
  client: AriClientLike | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  async call(what: string, run: (client: AriClientLike) => Promise<unknown>): Promise<unknown> {
    const client = this.client;
    if (!client) throw new Error(`ARI ${what}: not connected to Asterisk`);
    return withTimeout(run(client), this.timeoutMs, what, (err) =>
      this.log.warn({ err: String(err), what }, 'ARI request failed after its timeout'),
    );
  }
}
