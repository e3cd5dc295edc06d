// Whether the rollup snapshot last read from result_state is still the current one, known without
// asking the server. Two things can move it:
// - a run of another engine (or `cc-csat aggregate`): result_state's trigger (005_result_state_notify.sql)
//   sends a notification when it commits, which one session of the pool LISTENs for;
// - anything this process does on the pool outside the statistics reads (a run, a migration, a hand
//   edit in a test): the pool's `release` of that connection, which comes after its COMMIT and before
//   its caller resumes. So a run of this engine is never followed by an answer of the snapshot before
//   it; another engine's run is seen as soon as its notification arrives (a read in between is
//   answered as just before that run committed).
// While the listening session is gone (the pool closes idle connections), until it is back, or when
// the trigger is missing, nothing is remembered: every snapshot is read from the server, as before.
import type { Pool, PoolClient } from 'pg';
import type { Snapshot } from '../../storage/ports.js';

const CHANNEL = 'cc_csat_result_state';

// The trigger must be there, or another engine's runs would go unnoticed.
const TRIGGER_IN_PLACE = {
  name: 'cc_csat_result_state_notifies',
  text: `SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'result_state'::regclass AND tgname = 'result_state_notify' AND tgenabled <> 'D') AS notifies`,
};

export class RollupStateWatch {
  // Bumped by everything that may have moved result_state: a snapshot read before the last bump is not trusted.
  private generation = 0;
  private listener: PoolClient | undefined;
  private starting = false;
  private remembered: { readonly snapshot: Snapshot; readonly generation: number } | undefined;
  // Connections the statistics reads hold right now: their release moves nothing.
  private readonly reading = new Set<PoolClient>();

  constructor(private readonly pool: Pool) {
    pool.on('release', (_err, client) => {
      if (!this.reading.has(client)) this.moved();
    });
  }

  /** The snapshot last read, if nothing can have moved it since. */
  current(): Snapshot | undefined {
    // A closed storage answers as the server would: with its failure, not from memory.
    if (this.pool.ending) return undefined;
    return this.remembered?.generation === this.generation ? this.remembered.snapshot : undefined;
  }

  /** A read of result_state begins: pass the returned mark to `remember` with its result. */
  mark(): number | undefined {
    if (this.listener === undefined) {
      this.listen();
      return undefined;
    }
    return this.generation;
  }

  /** `snapshot` was read after `mark`: it is current until something moves it. */
  remember(snapshot: Snapshot, mark: number | undefined): void {
    if (mark !== undefined && mark === this.generation) this.remembered = { snapshot, generation: mark };
  }

  /** Runs a statistics read on a pooled connection whose release is not taken for a write. */
  async read<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    this.reading.add(client);
    let failure: Error | undefined;
    try {
      return await work(client);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      // As pool.query does: a connection whose statement failed is closed, not reused. 'release' is
      // emitted inside release(): the client must still be known as a reader then.
      client.release(failure);
      this.reading.delete(client);
    }
  }

  private moved(): void {
    this.generation++;
    this.remembered = undefined;
  }

  /** Starts listening in the background; until it is done every snapshot is read from the server. */
  private listen(): void {
    if (this.starting || this.pool.ending) return;
    this.starting = true;
    this.startListening()
      .catch(() => {
        // Not a caller's failure: without the listening session the snapshot is read from the server
        // each time, and the next read tries again. A database in trouble fails those reads.
      })
      .finally(() => {
        this.starting = false;
      });
  }

  private async startListening(): Promise<void> {
    await this.read(async (client) => {
      const notifies = (await client.query<{ notifies: boolean }>(TRIGGER_IN_PLACE)).rows[0]?.notifies === true;
      if (!notifies) return;
      const lost = (): void => {
        if (this.listener !== client) return;
        this.listener = undefined;
        this.moved();
      };
      client.on('notification', (message) => {
        if (message.channel === CHANNEL) this.moved();
      });
      client.on('end', lost);
      client.on('error', lost);
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
      // Reads that began before the session listened may have missed a notification.
      this.moved();
    });
  }
}
