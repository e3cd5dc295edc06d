// How values come back from PostgreSQL, for cc-csat's pool only (pg's global parsers are left alone):
// the shapes src/db/schema.ts promises, the same as SQLite's.
import pg from 'pg';
import type { CustomTypesConfig } from 'pg';

const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const TIMESTAMPTZ = 1184;

// The session runs with TimeZone=UTC and DateStyle=ISO (see connection.ts), so every timestamptz is
// printed as "YYYY-MM-DD HH:MM:SS[.ffffff]+00", trailing fraction zeros dropped.
const UTC_TIMESTAMPTZ = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

/**
 * PostgreSQL's text form of a timestamptz in a UTC session as the engine's ISO string with exactly
 * three fraction digits: "2026-11-20 14:03:07.1+00" → "2026-11-20T14:03:07.100Z". Exact text work,
 * no Date round trip. Microseconds, which the schema does not let cc_csat hold, are cut off.
 */
export function isoFromTimestamptz(text: string): string {
  const match = UTC_TIMESTAMPTZ.exec(text);
  if (!match) {
    throw new Error(`unexpected timestamptz text "${text}": cc-csat needs a UTC session (TimeZone=UTC, DateStyle=ISO) and years 0001-9999`);
  }
  const milliseconds = (match[3] ?? '').padEnd(3, '0').slice(0, 3);
  return `${match[1]}T${match[2]}.${milliseconds}Z`;
}

const asIs = (text: string): string => text;

function textParser(oid: number): ((text: string) => unknown) | undefined {
  switch (oid) {
    // Ids and counts: bigint in the schema, plain numbers in the engine (exact below 2^53).
    case INT8:
    case NUMERIC:
      return Number;
    case TIMESTAMPTZ:
      return isoFromTimestamptz;
    // A local date is a 'YYYY-MM-DD' string everywhere in the engine; pg would make it a Date at local midnight.
    case DATE:
      return asIs;
    default:
      return undefined;
  }
}

function getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
  if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
  return textParser(oid) ?? pg.types.getTypeParser(oid, 'text');
}

/** The `types` of cc-csat's pool and clients. */
export const CC_CSAT_TYPES: CustomTypesConfig = {
  // pg-types declares getTypeParser with one overload per format; this one function serves them all.
  getTypeParser: getTypeParser as CustomTypesConfig['getTypeParser'],
};
