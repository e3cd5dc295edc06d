// Calendar arithmetic in an IANA time zone, on Intl only: a contact center reports in its local day.
// Dates are 'YYYY-MM-DD' strings; instants are epoch milliseconds.

const DAY_MS = 86_400_000;

export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Days since 1970-01-01 of a 'YYYY-MM-DD' date: cheap arithmetic for loops over dates. */
export function dayNumber(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

export function dateOfDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Pure date arithmetic (no zone): the date `days` after `date`. */
export function addDays(date: string, days: number): string {
  return dateOfDayNumber(dayNumber(date) + days);
}

/** Every period start from `from` (a period start) to `to`, inclusive. */
export function periodStarts(period: Period, from: string, to: string): string[] {
  const starts: string[] = [];
  if (period === 'day' || period === 'week') {
    const step = period === 'day' ? 1 : 7;
    for (let day = dayNumber(from), last = dayNumber(to); day <= last; day += step) starts.push(dateOfDayNumber(day));
    return starts;
  }
  for (let start = from; start <= to; start = addMonths(start, 1)) starts.push(start);
  return starts;
}

export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** Monday of the ISO week containing `date`. */
export function weekStart(date: string): string {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(date, -((weekday + 6) % 7));
}

export function monthStart(date: string): string {
  return `${date.slice(0, 7)}-01`;
}

export function addMonths(date: string, months: number): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const total = y * 12 + (m - 1) + months;
  return `${String(Math.floor(total / 12)).padStart(4, '0')}-${String((total % 12) + 1).padStart(2, '0')}-01`;
}

export type Period = 'day' | 'week' | 'month';

export function periodStart(period: Period, date: string): string {
  return period === 'day' ? date : period === 'week' ? weekStart(date) : monthStart(date);
}

export function nextPeriodStart(period: Period, start: string): string {
  return period === 'day' ? addDays(start, 1) : period === 'week' ? addDays(start, 7) : addMonths(start, 1);
}

export class ZoneCalendar {
  private readonly parts: Intl.DateTimeFormat;
  private today: { date: string; startMs: number; endMs: number } | undefined;

  constructor(readonly zone: string) {
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  private fields(ms: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const part of this.parts.formatToParts(ms)) if (part.type !== 'literal') out[part.type] = Number(part.value);
    return out;
  }

  /** Local time minus UTC, in minutes, at instant `ms`. */
  offsetMinutes(ms: number): number {
    const f = this.fields(ms);
    const asUtc = Date.UTC(f['year']!, f['month']! - 1, f['day']!, f['hour']!, f['minute']!, f['second']!);
    return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
  }

  localDate(ms: number): string {
    const f = this.fields(ms);
    return `${String(f['year']).padStart(4, '0')}-${String(f['month']).padStart(2, '0')}-${String(f['day']).padStart(2, '0')}`;
  }

  /**
   * Today's local date at `ms`, for requests that default to "today": the day's bounds are found once
   * a day, then each call is two comparisons instead of an Intl format (~10 µs).
   */
  currentDate(ms: number): string {
    const today = this.today;
    if (today && ms >= today.startMs && ms < today.endMs) return today.date;
    const date = this.localDate(ms);
    this.today = { date, startMs: this.startOfDay(date), endMs: this.startOfDay(addDays(date, 1)) };
    return date;
  }

  /** The first instant of local `date` (midnight, or later where a DST gap swallows midnight). */
  startOfDay(date: string): number {
    const naive = Date.parse(`${date}T00:00:00Z`);
    let low = naive - 2 * DAY_MS;
    let high = naive + 2 * DAY_MS;
    while (high - low > 1000) {
      const mid = Math.floor((low + high) / 2 / 1000) * 1000;
      if (this.localDate(mid) < date) low = mid;
      else high = mid;
    }
    return high;
  }

  /** Instants in [fromMs, toMs] where the UTC offset changes, with the offset that starts there. */
  transitions(fromMs: number, toMs: number): Array<{ atMs: number; offsetMinutes: number }> {
    const found: Array<{ atMs: number; offsetMinutes: number }> = [];
    const step = 6 * 3_600_000;
    let previousMs = fromMs;
    let previousOffset = this.offsetMinutes(fromMs);
    for (let ms = fromMs + step; previousMs < toMs; ms += step) {
      const at = Math.min(ms, toMs);
      const offset = this.offsetMinutes(at);
      if (offset !== previousOffset) {
        let low = previousMs;
        let high = at;
        while (high - low > 1000) {
          const mid = Math.floor((low + high) / 2 / 1000) * 1000;
          if (this.offsetMinutes(mid) === previousOffset) low = mid;
          else high = mid;
        }
        found.push({ atMs: high, offsetMinutes: offset });
        previousOffset = offset;
      }
      previousMs = at;
    }
    return found;
  }
}
