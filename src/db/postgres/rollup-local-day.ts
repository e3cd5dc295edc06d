// The local day of a rating, as the result service's SQL computes it: the UTC date of created_at shifted
// by the zone's UTC offset at that instant, the offset chosen by a CASE over the instants where it
// changes within the ratings' time span (computed once per run in JavaScript, as on SQLite).
//
// Why not `created_at AT TIME ZONE zone`: for a zone with DST that looks the instant up in the zone's
// rules for every row, ~0.15-0.2 s more per million ratings than the plain UTC conversion on this host
// (measured: 376-484 ms against 224-274 ms for a max() over 1M rows), a tenth of a full rebuild. The
// CASE costs a comparison or two per row (ratings are mostly recent: latest change first).
//
// Full and incremental runs build it from the same zone calendar (results/zone.ts, the one the rest of
// the engine and SQLite's rollups use), each over the span of the ratings it reads, so their local days
// cannot disagree. (Spans beyond MAX_SPAN_MS fall back to AT TIME ZONE: see there.)
import { sql, type RawBuilder } from 'kysely';
import type { ZoneCalendar } from '../../results/zone.js';

/** The instants of the ratings a run reads: min and max of cc_csat.created_at; null with no ratings. */
export interface TimeSpan {
  readonly fromMs: number;
  readonly toMs: number;
}

const shift = (offsetMinutes: number): RawBuilder<unknown> => sql.raw(`interval '${offsetMinutes} minutes'`);
const instant = (ms: number): RawBuilder<unknown> => sql.raw(`timestamptz '${new Date(ms).toISOString()}'`);

// Finding the changes steps through the span (ZoneCalendar.transitions: 4 Intl calls a day, ~10 ms a
// year). Beyond this span (a clock gone wrong, years imported from elsewhere) the zone database does it.
const MAX_SPAN_MS = 20 * 366 * 86_400_000;

/** The local date of `created_at` in `zone`, exact for every instant in `span`. */
export function localDayOf(zone: ZoneCalendar, span: TimeSpan | null): RawBuilder<string> {
  const utcDate = sql`(created_at AT TIME ZONE 'UTC')`;
  if (span === null) return sql<string>`${utcDate}::date`;
  if (span.toMs - span.fromMs > MAX_SPAN_MS) return sql<string>`(created_at AT TIME ZONE ${zone.zone})::date`;
  const first = zone.offsetMinutes(span.fromMs);
  const changes = zone.transitions(span.fromMs, span.toMs);
  if (changes.length === 0) return first === 0 ? sql<string>`${utcDate}::date` : sql<string>`(${utcDate} + ${shift(first)})::date`;
  const branches = [...changes].reverse().map((change) => sql`WHEN created_at >= ${instant(change.atMs)} THEN ${shift(change.offsetMinutes)}`);
  return sql<string>`(${utcDate} + CASE ${sql.join(branches, sql` `)} ELSE ${shift(first)} END)::date`;
}
