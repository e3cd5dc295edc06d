// The shape of a statistics answer, shared by every database's read model: ranges widened to whole
// periods, averages, trends with their gaps filled, agent rankings.
import type { Distribution, RankedAgent, Snapshot, StatsRange, TrendPoint } from '../storage/ports.js';
import { addDays, nextPeriodStart, periodStart, periodStarts, type Period } from './zone.js';

/** Widens [from, to] to whole weeks (ISO, Monday) or months, so week/month rollups answer exactly. */
export function alignRange(period: Period, from: string, to: string): StatsRange {
  return { period, from: periodStart(period, from), to: addDays(nextPeriodStart(period, periodStart(period, to)), -1) };
}

/** Two decimals; null when nothing was rated. */
export function average(sum: number, count: number): number | null {
  return count === 0 ? null : Math.round((sum / count) * 100) / 100;
}

/**
 * Average desc (exact, not the rounded figure), then count desc, then agent_id asc. Agents with
 * fewer than `minRatings` ratings are listed after the ranked ones with rank null.
 */
export function rankAgents(rows: ReadonlyArray<{ agent_id: string; count: number; sum: number }>, minRatings: number): RankedAgent[] {
  const order = (a: { agent_id: string; count: number; sum: number }, b: typeof a): number =>
    b.sum * a.count - a.sum * b.count || b.count - a.count || (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0);
  const ranked = rows.filter((row) => row.count >= minRatings).sort(order);
  const unranked = rows.filter((row) => row.count < minRatings).sort(order);
  return [
    ...ranked.map((row, index) => ({ rank: index + 1, agent_id: row.agent_id, average: average(row.sum, row.count), count: row.count })),
    ...unranked.map((row) => ({ rank: null, agent_id: row.agent_id, average: average(row.sum, row.count), count: row.count })),
  ];
}

/** A rollup bucket as read: period_start, count, sum, n1..n5. */
export type BucketRow = readonly [string, number, number, number, number, number, number, number];

/** Average, count, distribution and gap-filled trend of buckets ordered by period_start. */
export function summarize(
  rows: readonly BucketRow[],
  range: StatsRange,
): { average: number | null; count: number; distribution: Distribution; trend: TrendPoint[] } {
  const trend: TrendPoint[] = [];
  let next = 0;
  // Rows arrive ordered by period_start, as periodStarts are: one merge walk fills the trend's gaps.
  for (const start of periodStarts(range.period, range.from, range.to)) {
    while (next < rows.length && rows[next]![0] < start) next++;
    const row = rows[next]?.[0] === start ? rows[next++] : undefined;
    trend.push({ period_start: start, count: row?.[1] ?? 0, average: row ? average(row[2], row[1]) : null });
  }
  let count = 0;
  let sum = 0;
  const distribution: Distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  for (const row of rows) {
    count += row[1];
    sum += row[2];
    distribution['1'] += row[3];
    distribution['2'] += row[4];
    distribution['3'] += row[5];
    distribution['4'] += row[6];
    distribution['5'] += row[7];
  }
  return { average: average(sum, count), count, distribution, trend };
}

/** The standing of one agent in each of its queues, from each queue's ranking. */
export function standingsOf(agentId: string, rankings: ReadonlyArray<{ queue_id: string; ranking: readonly RankedAgent[] }>) {
  const queues = [];
  for (const { queue_id, ranking } of rankings) {
    const entry = ranking.find((ranked) => ranked.agent_id === agentId);
    // Rated in this queue before or after the range, not within it.
    if (!entry) continue;
    queues.push({ queue_id, rank: entry.rank, of: ranking.filter((ranked) => ranked.rank !== null).length, average: entry.average, count: entry.count });
  }
  return queues;
}

/**
 * The snapshot result_state describes. Every run stamps refreshed_at, and moves the watermark or
 * the timezone when the rollups change: together they name one committed state.
 */
export function snapshotOf(state: Readonly<Record<string, string>>): Snapshot {
  const refreshedAt = state['refreshed_at'];
  if (refreshedAt === undefined) return { asOf: null, version: null };
  return { asOf: refreshedAt, version: `${refreshedAt}|${state['watermark']}|${state['timezone']}` };
}
