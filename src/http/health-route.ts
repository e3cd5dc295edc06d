// GET /cc/csat/health: are the dashboard's queries fast enough on this data? Runs what the dashboard
// asks for over the last 30 days, times each against a budget, and says how far behind the result
// service is. The run is shared: requests within a few seconds of it (and concurrent ones) get the
// same measurements, so asking often costs the database nothing more.
import { Router } from 'express';
import { addDays, type ZoneCalendar } from '../results/zone.js';
import type { RowCountStore, RowCounts, StatsRange, StatsStore, SurveyStatsStore } from '../storage/ports.js';
import { agentBinding, notOwnAgent, requireScope, type KeyRing, type RateLimiter } from './auth.js';
import { parse } from './parse-input.js';
import type { TeamMembers } from './responses-route.js';
import { HealthQuery } from './schemas.js';

export interface HealthRouteDeps {
  readonly stats: Pick<StatsStore, 'snapshot' | 'queueStats'>;
  /** Undefined until the storage has survey statistics: their queries are then not part of the run. */
  readonly surveyStats: SurveyStatsStore | undefined;
  readonly rowCounts: RowCountStore;
  /** The configured queues now. */
  readonly queues: () => Iterable<string>;
  readonly teams: () => ReadonlyMap<string, TeamMembers>;
  readonly zone: ZoneCalendar;
  readonly minRatingsToRank: number;
  readonly keyRing: KeyRing;
  readonly limiter: RateLimiter;
  readonly now: () => Date;
  /** How long one run's measurements are served; default 5000 ms. */
  readonly reuseMs?: number;
}

const HEALTH_DAYS = 30;
const DEFAULT_REUSE_MS = 5000;

interface Measurement {
  readonly name: string;
  /** Unrounded: a budget of 0 is missed by any query, however fast. */
  readonly ms: number;
}

interface Run {
  readonly queries: readonly Measurement[];
  readonly asOf: string | null;
  readonly counts: RowCounts;
  readonly measuredAt: Date;
}

const round2 = (ms: number): number => Math.round(ms * 100) / 100;

export function healthRoutes(deps: HealthRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const read = requireScope(deps.keyRing, deps.limiter, 'csat:read');
  const reuseMs = deps.reuseMs ?? DEFAULT_REUSE_MS;
  let latest: { startedMs: number; run: Promise<Run> } | undefined;

  const measure = async (): Promise<Run> => {
    const measuredAt = deps.now();
    const today = deps.zone.currentDate(measuredAt.getTime());
    const range: StatsRange = { period: 'day', from: addDays(today, -(HEALTH_DAYS - 1)), to: today };
    const snapshot = await deps.stats.snapshot();
    const queries: Measurement[] = [];
    // One after another: each time is that query's own, not its share of a crowd.
    const timed = async (name: string, work: () => Promise<unknown>): Promise<void> => {
      const started = performance.now();
      await work();
      queries.push({ name, ms: performance.now() - started });
    };
    for (const queue of [...deps.queues()].sort()) {
      await timed(`queue_stats ${queue}`, () => deps.stats.queueStats(queue, range, deps.minRatingsToRank, snapshot.asOf));
    }
    const survey = deps.surveyStats;
    if (survey) {
      await timed('questions (contact center)', () => survey.answerRows({}, range));
      await timed('funnel (contact center)', () => survey.outcomeRows({}, range));
      const team = [...deps.teams()].find(([, members]) => members.agents.length > 0);
      if (team) await timed(`team ${team[0]}`, () => survey.agentCsatRows(team[1].agents, range));
    }
    return { queries, asOf: snapshot.asOf, counts: await deps.rowCounts.counts(), measuredAt };
  };

  /** The latest run if recent enough (or still going), else a new one; a failed run is not kept. */
  const currentRun = (): Promise<Run> => {
    const nowMs = deps.now().getTime();
    if (latest && nowMs - latest.startedMs < reuseMs && nowMs >= latest.startedMs) return latest.run;
    const run = measure();
    const entry = { startedMs: nowMs, run };
    latest = entry;
    run.catch(() => {
      if (latest === entry) latest = undefined;
    });
    return run;
  };

  router.get('/cc/csat/health', read, async (req, res) => {
    // It names every queue and team and the whole contact center's size: not for a key bound to one agent.
    if (agentBinding(res) !== undefined) throw notOwnAgent(res);
    const query = parse(HealthQuery, req.query, 'query');
    const run = await currentRun();
    const queries = run.queries.map((measured) => ({ name: measured.name, ms: round2(measured.ms), budget_ms: query.budget_ms, ok: measured.ms <= query.budget_ms }));
    const totalMs = run.queries.reduce((sum, measured) => sum + measured.ms, 0);
    const lagMs = run.asOf === null ? null : Math.max(0, deps.now().getTime() - Date.parse(run.asOf));
    res.set('Cache-Control', 'no-store').json({
      queries,
      total_ms: round2(totalMs),
      total_budget_ms: query.total_budget_ms,
      result_service: { as_of: run.asOf, lag_seconds: lagMs === null ? null : Math.round(lagMs / 100) / 10 },
      data: { ratings: run.counts.ratings, answers: run.counts.answers, outcomes: run.counts.outcomes, estimated: run.counts.estimated },
      measured_at: run.measuredAt.toISOString(),
      target_met: queries.every((measured) => measured.ok) && totalMs <= query.total_budget_ms,
    });
  });

  return router;
}
