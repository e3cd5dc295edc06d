// A hot query compiled once per dialect; each run puts its values in the parameter slots.
//
// Kysely builds an operation tree and compiles it to SQL on every execution: for the three queries
// every survey runs (already rated?, the rating, the outcome) that was more CPU than SQLite's own
// work. The query is still written with Kysely, so it compiles for whichever dialect the database
// uses; only the building and compiling are done once.
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.js';

const SENTINEL = '\u0000cc-csat-parameter:';

interface Compiled<Result> {
  readonly query: CompiledQuery<Result>;
  /** For each parameter slot, the name of the value that goes there. */
  readonly slots: readonly string[];
}

export class Precompiled<Values extends Record<string, unknown>, Result> {
  // Keyed by the dialect's adapter: shared by a database handle and the single-connection handles
  // made from it (the write gate runs each write on one), different for another dialect.
  private readonly byAdapter = new WeakMap<object, Compiled<Result>>();

  /**
   * @param build the query, with every value taken from `values` (the builder must not inspect them;
   *   `values` holds exactly `names`, so an insert can take it whole)
   * @param names every key of Values
   */
  constructor(
    private readonly build: (db: Kysely<Database>, values: Values) => Compilable<Result>,
    private readonly names: readonly (keyof Values & string)[],
  ) {}

  async execute(db: Kysely<Database>, values: Values): Promise<QueryResult<Result>> {
    const compiled = this.compiledFor(db);
    // Every named value is bound, always: one left undefined (an optional Insertable column, which in
    // these tables is a nullable one without a default) is NULL.
    const parameters = compiled.slots.map((name) => values[name] ?? null);
    return db.executeQuery<Result>({ ...compiled.query, parameters });
  }

  private compiledFor(db: Kysely<Database>): Compiled<Result> {
    const adapter = db.getExecutor().adapter;
    let compiled = this.byAdapter.get(adapter);
    if (!compiled) {
      const sentinels = Object.fromEntries(this.names.map((name) => [name, `${SENTINEL}${name}`])) as unknown as Values;
      const query = this.build(db, sentinels).compile();
      const slots = query.parameters.map((parameter) => {
        if (typeof parameter !== 'string' || !parameter.startsWith(SENTINEL)) {
          throw new Error(`precompiled query has a parameter not taken from its values: ${query.sql}`);
        }
        return parameter.slice(SENTINEL.length);
      });
      // A value the builder left out, or one Kysely wrote into the SQL text, would silently not be stored.
      const unbound = this.names.filter((name) => !slots.includes(name));
      if (unbound.length > 0) throw new Error(`precompiled query does not bind ${unbound.join(', ')}: ${query.sql}`);
      compiled = { query, slots };
      this.byAdapter.set(adapter, compiled);
    }
    return compiled;
  }
}
