// Which engine runs the result service: the one whose own session holds the leadership advisory lock
// (locks.ts). The session is a dedicated connection, not a pooled one: a session lock must live
// exactly as long as the connection that took it. When the leader dies, PostgreSQL ends its session
// and frees the lock, and another engine's next acquire() takes it.
import pg from 'pg';
import type { ClientConfig } from 'pg';
import type { Leadership } from '../../storage/ports.js';
import { CC_CSAT_LOCK_CLASS, LOCK } from './locks.js';

export interface LeadershipOptions {
  /** How long a check of the leader's session may take before the session counts as lost. Default 5000. */
  readonly queryTimeoutMs?: number;
  /** A lost session or a failed attempt: acquire() answers false, this hears why. */
  readonly onSessionError?: (err: Error) => void;
}

const LOCK_ARGS = [CC_CSAT_LOCK_CLASS, LOCK.leadership];

export class PostgresLeadership implements Leadership {
  private client: pg.Client | undefined;
  private holding = false;
  private attempt: Promise<boolean> | undefined;

  constructor(
    private readonly clientConfig: ClientConfig,
    private readonly options: LeadershipOptions = {},
  ) {}

  /** Whether this engine leads now. Never rejects: a database that cannot be reached means "not now". */
  acquire(): Promise<boolean> {
    // One attempt at a time: overlapping calls share it rather than open two sessions.
    this.attempt ??= this.tryToLead().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  async release(): Promise<void> {
    await this.attempt;
    const client = this.client;
    const held = this.holding;
    this.client = undefined;
    this.holding = false;
    if (!client) return;
    try {
      // Ending the session frees the lock too; unlocking first makes the hand-over not wait on the
      // server noticing the disconnect.
      if (held) await client.query('SELECT pg_advisory_unlock($1::int, $2::int)', LOCK_ARGS);
    } catch (err) {
      this.report(err);
    } finally {
      await client.end().catch((err: unknown) => this.report(err));
    }
  }

  private async tryToLead(): Promise<boolean> {
    try {
      const client = await this.session();
      if (this.holding) {
        // Still our session? A round trip proves it is alive, and with it the lock.
        await client.query('SELECT 1');
        return true;
      }
      const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS locked', LOCK_ARGS);
      this.holding = result.rows[0]?.locked === true;
      return this.holding;
    } catch (err) {
      this.report(err);
      await this.dropSession();
      return false;
    }
  }

  /** The open session, or a new one when there is none (first call, or the last one died). */
  private async session(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ ...this.clientConfig, keepAlive: true, query_timeout: this.options.queryTimeoutMs ?? 5000 });
    // Errors of an idle session (server restart, terminated backend) arrive as events: without a
    // listener they would crash the process. The session and its lock are gone.
    const lost = (err?: Error): void => {
      if (this.client !== client) return;
      this.client = undefined;
      this.holding = false;
      if (err) this.report(err);
      client.end().catch((endErr: unknown) => this.report(endErr));
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined); // the connect failure is what gets reported
      throw err;
    }
    this.client = client;
    return client;
  }

  private async dropSession(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.holding = false;
    await client?.end().catch((err: unknown) => this.report(err));
  }

  private report(err: unknown): void {
    this.options.onSessionError?.(err instanceof Error ? err : new Error(String(err)));
  }
}
