// SQLite's parts of the per-question and funnel rollups (src/db/survey-rollups.ts): the local day of
// csat_rollup's days (rollup-sql.ts), date arithmetic on 'YYYY-MM-DD' text, and slices small enough
// that a rebuild never holds the event loop for long: better-sqlite3 runs each statement synchronously,
// and live calls share the loop with the run.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql } from 'kysely';
import type { ZoneCalendar } from '../../results/zone.js';
import type { SurveyRollupDialect } from '../survey-rollups.js';
import { localDayExpression } from './rollup-sql.js';

// Each answer costs about four rollup upserts (its agent's day is nearly always a row of its own).
// Measured on a busy 2-core host: slices of 20,000 answers held the event loop 0.5-2.5 s each (the
// later ones longer, as the table grows). Slices of 2,000 take ~55 ms each on the same host idle
// (900,000 answers rebuilt in 24 s), at the price of more statements.
export const ROWS_PER_SLICE = 2_000;

export function sqliteSurveyDialect(zone: ZoneCalendar, rowsPerSlice = ROWS_PER_SLICE): SurveyRollupDialect {
  return {
    localDay: (span) => localDayExpression(zone, span.fromMs, span.toMs),
    weekOf: (day) => sql<string>`date(${day}, '-6 days', 'weekday 1')`,
    monthOf: (day) => sql<string>`substr(${day}, 1, 8) || '01'`,
    idsPerStatement: rowsPerSlice,
    pause: async () => {
      await nextTurn();
    },
    // Slices are small; SQLite keeps no statistics the reads depend on.
    beforeRebuild: async () => undefined,
    afterRebuild: async () => undefined,
  };
}
