// PostgreSQL's parts of the per-question and funnel rollups (src/db/survey-rollups.ts): the local day
// of csat_rollup's days (rollup-local-day.ts), calendar arithmetic on dates, and one statement per
// fold (waits are asynchronous here: no event loop to hand back).
import { sql } from 'kysely';
import type { ZoneCalendar } from '../../results/zone.js';
import type { SurveyRollupDialect } from '../survey-rollups.js';
import { localDayOf } from './rollup-local-day.js';
import { analyze } from './rollup-sql.js';

export function postgresSurveyDialect(zone: ZoneCalendar): SurveyRollupDialect {
  return {
    localDay: (span) => localDayOf(zone, span),
    // date_trunc of a timestamp (not timestamptz): pure calendar arithmetic, whatever the session zone.
    weekOf: (day) => sql<string>`date_trunc('week', ${day}::timestamp)::date`,
    monthOf: (day) => sql<string>`date_trunc('month', ${day}::timestamp)::date`,
    idsPerStatement: Number.POSITIVE_INFINITY,
    pause: async () => undefined,
    // The rebuild's aggregate of every answer in one hash table, not batches on disk: the csat part's
    // full run sets the same (rollups.ts); a rebuild after an upgrade may come without one.
    beforeRebuild: async (db) => {
      await sql`SELECT set_config('work_mem', '64MB', true)`.execute(db);
    },
    // Every row is new: the API's first queries are planned on real numbers, not autovacuum's later ones.
    // (A role that does not own the table gets a warning and no statistics, not an error.)
    afterRebuild: async (db, table) => {
      await analyze([table]).execute(db);
    },
  };
}
