// The shape of the per-question, funnel and team answers, computed from rollup rows (any database's):
// pure functions, so every number can be checked against rows a test builds by hand.
import type { AnswerKind } from '../db/schema.js';
import type { AgentCsatRow, AnswerRollupRow, Distribution, OutcomeRollupRow, RankedAgent, StatsRange, TrendPoint } from '../storage/ports.js';
import { average, rankAgents, summarize, type BucketRow } from './stats-shape.js';
import { periodStarts } from './zone.js';

/** One decimal: how every percentage and NPS figure is shown. */
export function oneDecimal(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Share of 4 and 5 among the 1-5 ratings, 0-100; null without ratings. */
export function csatPercent(distribution: Distribution): number | null {
  const count = distribution['1'] + distribution['2'] + distribution['3'] + distribution['4'] + distribution['5'];
  return count === 0 ? null : oneDecimal(((distribution['4'] + distribution['5']) / count) * 100);
}

/** (n4 + n5 - n1 - n2) / count x 100: satisfied minus dissatisfied, -100..100; null without ratings. */
export function csatNps(distribution: Distribution): number | null {
  const count = distribution['1'] + distribution['2'] + distribution['3'] + distribution['4'] + distribution['5'];
  return count === 0 ? null : oneDecimal(((distribution['4'] + distribution['5'] - distribution['1'] - distribution['2']) / count) * 100);
}

/** Queue or agent statistics with the two csat figures of their distribution. */
export function withCsatFigures<T extends { distribution: Distribution }>(stats: T): T & { csat_percent: number | null; csat_nps: number | null } {
  // Right after the distribution they are read from, as in team statistics.
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stats)) {
    out[key] = value;
    if (key === 'distribution') Object.assign(out, { csat_percent: csatPercent(stats.distribution), csat_nps: csatNps(stats.distribution) });
  }
  return out as T & { csat_percent: number | null; csat_nps: number | null };
}

// ------------------------------------------------------------------------------------------ teams

export interface TeamStatsShape {
  team_id: string;
  name: string;
  period: StatsRange['period'];
  from: string;
  to: string;
  average: number | null;
  count: number;
  distribution: Distribution;
  csat_percent: number | null;
  csat_nps: number | null;
  trend: TrendPoint[];
  agent_ranking: RankedAgent[];
  as_of: string | null;
}

/** A team's totals, trend and ranking from its members' own rows (an agent listed twice in the file counts once). */
export function teamStats(
  team: { readonly id: string; readonly name: string },
  rows: readonly AgentCsatRow[],
  range: StatsRange,
  minRatings: number,
  asOf: string | null,
): TeamStatsShape {
  const byPeriod = new Map<string, [number, number, number, number, number, number, number]>();
  const byAgent = new Map<string, { agent_id: string; count: number; sum: number }>();
  for (const row of rows) {
    const bucket = byPeriod.get(row.period_start) ?? [0, 0, 0, 0, 0, 0, 0];
    const values = [row.count, row.sum, row.n1, row.n2, row.n3, row.n4, row.n5];
    values.forEach((value, index) => (bucket[index] = bucket[index]! + value));
    byPeriod.set(row.period_start, bucket);
    const agent = byAgent.get(row.agent_id) ?? { agent_id: row.agent_id, count: 0, sum: 0 };
    agent.count += row.count;
    agent.sum += row.sum;
    byAgent.set(row.agent_id, agent);
  }
  const buckets: BucketRow[] = [...byPeriod.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([start, bucket]) => [start, ...bucket] as const);
  const summary = summarize(buckets, range);
  return {
    team_id: team.id,
    name: team.name,
    period: range.period,
    from: range.from,
    to: range.to,
    average: summary.average,
    count: summary.count,
    distribution: summary.distribution,
    csat_percent: csatPercent(summary.distribution),
    csat_nps: csatNps(summary.distribution),
    trend: summary.trend,
    agent_ranking: rankAgents(
      [...byAgent.values()].filter((agent) => agent.count > 0),
      minRatings,
    ),
    as_of: asOf,
  };
}

// -------------------------------------------------------------------------------------- questions

/** Every value a kind can take, listed even when nobody chose it; scale and comment have none fixed. */
const KIND_VALUES: Partial<Record<AnswerKind, readonly number[]>> = {
  csat: [1, 2, 3, 4, 5],
  nps: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  ces: [1, 2, 3, 4, 5, 6, 7],
  yes_no: [0, 1],
};

export interface QuestionTrendPoint {
  period_start: string;
  count: number;
  average: number | null;
  nps?: number | null;
  csat_percent?: number | null;
  yes_percent?: number | null;
}

export interface QuestionStatsShape {
  question_id: string;
  kind: AnswerKind;
  count: number;
  average: number | null;
  distribution: Record<string, number>;
  nps?: number | null;
  csat_percent?: number | null;
  csat_nps?: number | null;
  yes_percent?: number | null;
  trend: QuestionTrendPoint[];
}

/** Counts per value, with the figure each kind is read by. */
function figures(kind: AnswerKind, counts: ReadonlyMap<number, number>): { count: number; average: number | null; nps?: number | null; csat_percent?: number | null; csat_nps?: number | null; yes_percent?: number | null } {
  let count = 0;
  let sum = 0;
  const share = (test: (value: number) => boolean): number => {
    let n = 0;
    for (const [value, times] of counts) if (test(value)) n += times;
    return n;
  };
  for (const [value, times] of counts) {
    count += times;
    sum += value * times;
  }
  const percent = (n: number): number | null => (count === 0 ? null : oneDecimal((n / count) * 100));
  if (kind === 'comment') return { count, average: null };
  const base = { count, average: average(sum, count) };
  if (kind === 'nps') return { ...base, nps: count === 0 ? null : oneDecimal(((share((v) => v >= 9) - share((v) => v <= 6)) / count) * 100) };
  if (kind === 'csat') {
    const distribution: Distribution = { '1': counts.get(1) ?? 0, '2': counts.get(2) ?? 0, '3': counts.get(3) ?? 0, '4': counts.get(4) ?? 0, '5': counts.get(5) ?? 0 };
    return { ...base, csat_percent: csatPercent(distribution), csat_nps: csatNps(distribution) };
  }
  if (kind === 'yes_no') return { ...base, yes_percent: percent(share((v) => v === 1)) };
  return base;
}

/** A scale question's configured values (its IVR step's range or keys), when the config knows them. */
export type ScaleRanges = ReadonlyMap<string, { readonly min: number; readonly max: number }>;

// A scale configured wider than this lists only the values seen: a 0-999999 range is no histogram.
const MAX_LISTED_SCALE_VALUES = 101;

/** Per question (and kind: a question id reused with another kind in another IVR is listed apart), ordered by question_id. */
export function questionStats(rows: readonly AnswerRollupRow[], range: StatsRange, scaleRanges: ScaleRanges = new Map()): QuestionStatsShape[] {
  const questions = new Map<string, { question_id: string; kind: AnswerKind; total: Map<number, number>; byPeriod: Map<string, Map<number, number>> }>();
  for (const row of rows) {
    const key = `${row.question_id}\u0000${row.kind}`;
    let question = questions.get(key);
    if (!question) questions.set(key, (question = { question_id: row.question_id, kind: row.kind, total: new Map(), byPeriod: new Map() }));
    question.total.set(row.value, (question.total.get(row.value) ?? 0) + row.count);
    let period = question.byPeriod.get(row.period_start);
    if (!period) question.byPeriod.set(row.period_start, (period = new Map()));
    period.set(row.value, (period.get(row.value) ?? 0) + row.count);
  }
  const starts = periodStarts(range.period, range.from, range.to);
  return [...questions.values()]
    .sort((a, b) => (a.question_id < b.question_id ? -1 : a.question_id > b.question_id ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0))
    .map((question) => {
      const distribution: Record<string, number> = {};
      if (question.kind !== 'comment') {
        const configured = question.kind === 'scale' ? scaleRanges.get(question.question_id) : undefined;
        const listed = configured && configured.max - configured.min < MAX_LISTED_SCALE_VALUES ? Array.from({ length: configured.max - configured.min + 1 }, (_, i) => configured.min + i) : [];
        const values = [...new Set([...(KIND_VALUES[question.kind] ?? []), ...listed, ...question.total.keys()])].sort((a, b) => a - b);
        for (const value of values) distribution[String(value)] = question.total.get(value) ?? 0;
      }
      const { count, average: mean, ...kindFigures } = figures(question.kind, question.total);
      const trend = starts.map((period_start): QuestionTrendPoint => {
        const { csat_nps: _notInTrend, ...point } = figures(question.kind, question.byPeriod.get(period_start) ?? new Map());
        return { period_start, ...point };
      });
      return { question_id: question.question_id, kind: question.kind, count, average: mean, distribution, ...kindFigures, trend };
    });
}

// ----------------------------------------------------------------------------------------- funnel

export interface FunnelShape {
  offered: number;
  accepted: number;
  declined: number;
  completed: number;
  abandoned: number;
  no_input: number;
  invalid: number;
  failed: number;
  skipped: number;
  response_rate: number | null;
  abandoned_at: Record<string, number>;
  skipped_by_reason: Record<string, number>;
  declined_by_reason: Record<string, number>;
  failed_by_reason: Record<string, number>;
  trend: Array<{ period_start: string; offered: number; completed: number; response_rate: number | null }>;
}

/** What a breakdown calls an outcome stored without a step or reason. */
export const NO_DETAIL = 'unknown';

const rate = (completed: number, offered: number): number | null => (offered === 0 ? null : oneDecimal((completed / offered) * 100));

/** Skipped surveys were never offered (the caller was not eligible): every other outcome was. */
export function funnel(rows: readonly OutcomeRollupRow[], range: StatsRange): FunnelShape {
  const totals = { completed: 0, no_input: 0, invalid: 0, abandoned: 0, skipped: 0, failed: 0, declined: 0 };
  const breakdown = { abandoned: {}, skipped: {}, declined: {}, failed: {} } as Record<'abandoned' | 'skipped' | 'declined' | 'failed', Record<string, number>>;
  const byPeriod = new Map<string, { offered: number; completed: number }>();
  for (const row of rows) {
    totals[row.outcome] += row.count;
    if (row.outcome === 'abandoned' || row.outcome === 'skipped' || row.outcome === 'declined' || row.outcome === 'failed') {
      const detail = row.detail === '' ? NO_DETAIL : row.detail;
      const counts = breakdown[row.outcome];
      counts[detail] = (counts[detail] ?? 0) + row.count;
    }
    const period = byPeriod.get(row.period_start) ?? { offered: 0, completed: 0 };
    if (row.outcome !== 'skipped') period.offered += row.count;
    if (row.outcome === 'completed') period.completed += row.count;
    byPeriod.set(row.period_start, period);
  }
  const offered = totals.completed + totals.no_input + totals.invalid + totals.abandoned + totals.failed + totals.declined;
  return {
    offered,
    accepted: offered - totals.declined,
    declined: totals.declined,
    completed: totals.completed,
    abandoned: totals.abandoned,
    no_input: totals.no_input,
    invalid: totals.invalid,
    failed: totals.failed,
    skipped: totals.skipped,
    response_rate: rate(totals.completed, offered),
    abandoned_at: sortedKeys(breakdown.abandoned),
    skipped_by_reason: sortedKeys(breakdown.skipped),
    declined_by_reason: sortedKeys(breakdown.declined),
    failed_by_reason: sortedKeys(breakdown.failed),
    trend: periodStarts(range.period, range.from, range.to).map((period_start) => {
      const period = byPeriod.get(period_start) ?? { offered: 0, completed: 0 };
      return { period_start, offered: period.offered, completed: period.completed, response_rate: rate(period.completed, period.offered) };
    }),
  };
}

/** Same input, same bytes: a breakdown's keys in a stable order. */
function sortedKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
