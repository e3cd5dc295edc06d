// The local dates a statistics request covers: from/to or the last `days`, widened to whole periods,
// and bounded so that one request never asks for an unbounded trend.
import { alignRange } from '../results/stats-shape.js';
import { addDays, daysBetween, type ZoneCalendar } from '../results/zone.js';
import type { StatsRange } from '../storage/ports.js';
import { HttpError } from './errors.js';

// Longest span a single answer may cover: a day-by-day trend of two years, or ten years by week/month.
const MAX_DAYS = { day: 731, week: 3660, month: 3660 } as const;

export interface StatsRangeQuery {
  readonly period: StatsRange['period'];
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly days?: number | undefined;
}

export function statsRangeOf(query: StatsRangeQuery, options: { zone: ZoneCalendar; now: Date; defaultDays: number }): StatsRange {
  const today = options.zone.currentDate(options.now.getTime());
  const to = query.to ?? today;
  const from = query.from ?? addDays(to, -((query.days ?? options.defaultDays) - 1));
  if (from > to) throw new HttpError(400, `invalid query: from ${from} is after to ${to}`, { issues: [{ path: 'from', message: 'from is after to' }] });
  const span = daysBetween(from, to) + 1;
  if (span > MAX_DAYS[query.period]) {
    // Name what the client sent: days=800 is fixed in `days`, a from/to range in `from`.
    const field = query.from === undefined && query.days !== undefined ? 'days' : 'from';
    throw new HttpError(400, `invalid query: ${field}: ${span} days is more than ${MAX_DAYS[query.period]} for period=${query.period}`, {
      issues: [{ path: field, message: `range is at most ${MAX_DAYS[query.period]} days for period=${query.period}` }],
    });
  }
  return alignRange(query.period, from, to);
}

/** A cache key naming one statistics answer: what it is about and the range it covers. */
export function statsKey(kind: string, id: string, range: StatsRange, ...more: string[]): string {
  return [kind, id, range.period, range.from, range.to, ...more].join('\u0000');
}
