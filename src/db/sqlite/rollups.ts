// The result service's SQL on SQLite: folds new ratings into csat_rollup and csat_running by a
// rowid watermark, then answers and outcomes into answer_rollup and outcome_rollup (../survey-rollups.ts).
// SQLite has one writer at a time, so ids commit in order and the watermarks are exact.
import { sql, type Kysely } from 'kysely';
import type { ZoneCalendar } from '../../results/zone.js';
import { addDays, monthStart, weekStart } from '../../results/zone.js';
import type { RefreshMode, RefreshReport, RollupStore } from '../../storage/ports.js';
import type { Database } from '../schema.js';
import {
  applyBaseDelta,
  deleteDays,
  deleteEmpty,
  insertAllBaseDays,
  insertAllDerived,
  insertStagedDays,
  localDayExpression,
  insertAllRunning,
  refreshRunningFrom,
  stageBaseDays,
} from './rollup-sql.js';
import { readSurveyBounds, refreshSurveyRollups, surveyRollupsNeedRefill } from '../survey-rollups.js';
import { removeScratch } from './rollup-scratch.js';
import { buildAndSwap } from './rollup-swap.js';
import { sqliteSurveyDialect } from './survey-rollup-dialect.js';
import type { WriteGate } from './write-gate.js';

type State = { watermark?: string; timezone?: string; refreshed_at?: string };

export async function readResultState(db: Kysely<Database>): Promise<State> {
  const rows = (await sql<{ key: string; value: string }>`SELECT key, value FROM result_state`.execute(db)).rows;
  return Object.fromEntries(rows.map((row) => [row.key, row.value])) as State;
}

export interface SqliteRollupOptions {
  /** Answers or outcomes folded per statement (see survey-rollup-dialect.ts); tests make it small. */
  readonly surveyRowsPerSlice?: number;
  /**
   * The database file: full builds then run on a worker thread into a scratch file beside it and are
   * swapped in (rollup-swap.ts). Without it (an in-memory database) they run in the writer's transaction.
   */
  readonly livePath?: string;
  /** How long a full build's swap waits for another process's write lock (as the write gate does). */
  readonly lockWaitMs?: number;
  /** Between a full build and its swap (tests: what is stored meanwhile must be folded in too). */
  readonly beforeSwap?: () => Promise<void>;
}

export class SqliteRollupStore implements RollupStore {
  constructor(
    private readonly writes: WriteGate,
    private readonly options: SqliteRollupOptions = {},
  ) {}

  async refresh(mode: RefreshMode, zone: ZoneCalendar, refreshedAt: string): Promise<RefreshReport> {
    const livePath = this.options.livePath;
    if (livePath !== undefined && (await this.writes.write('result service check', (db) => wantsFullBuild(db, zone, mode)))) {
      return this.buildAside(livePath, zone, refreshedAt);
    }
    // One transaction (BEGIN IMMEDIATE): the watermark read and the rollup writes see one snapshot.
    // A lock held by another process (cc-csat aggregate) is waited for without blocking live calls.
    return this.writes.transaction('result service run', (db) => refreshRollups(db, zone, this.options, mode, refreshedAt));
  }

  private async buildAside(livePath: string, zone: ZoneCalendar, refreshedAt: string): Promise<RefreshReport> {
    const scratchPath = `${livePath}.rollup-build`;
    try {
      const job = { livePath, scratchPath, timezone: zone.zone, refreshedAt, lockWaitMs: this.options.lockWaitMs ?? 5000 };
      return await buildAndSwap(this.writes, job, this.options.beforeSwap);
    } finally {
      removeScratch(scratchPath);
    }
  }
}

/** One result-service run on `db`, inside the caller's transaction. */
export function refreshRollups(db: Kysely<Database>, zone: ZoneCalendar, options: SqliteRollupOptions, mode: RefreshMode, refreshedAt: string): Promise<RefreshReport> {
  return new Run(db, zone, options).refresh(mode, refreshedAt);
}

/** Whether this run rebuilds everything: asked to, a first run, a changed timezone, a reset table, or survey rollups to refill. */
async function wantsFullBuild(db: Kysely<Database>, zone: ZoneCalendar, mode: RefreshMode): Promise<boolean> {
  if (mode === 'full') return true;
  const state = await readResultState(db);
  const maxId = (await sql<{ id: number | null }>`SELECT max(id) AS id FROM cc_csat`.execute(db)).rows[0]?.id ?? 0;
  const watermark = state.watermark === undefined ? undefined : Number(state.watermark);
  if (watermark === undefined || state.timezone !== zone.zone || maxId < watermark) return true;
  return (await hasSurveyRollups(db)) && (await surveyRollupsNeedRefill(db));
}

async function hasSurveyRollups(db: Kysely<Database>): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('answer_rollup', 'outcome_rollup')`.execute(db);
  return rows[0]?.n === 2;
}

class Run {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly zone: ZoneCalendar,
    private readonly options: SqliteRollupOptions,
  ) {}

  async refresh(mode: RefreshMode, refreshedAt: string): Promise<RefreshReport> {
    const { report, full } = await this.refreshCsat(mode, refreshedAt);
    // A file migrated only part of the way (upgraded step by step) has no survey rollups yet.
    if (!(await hasSurveyRollups(this.db))) return report;
    // Same transaction: the per-question and funnel rollups commit with the csat ones, or neither does.
    const survey = await refreshSurveyRollups(this.db, sqliteSurveyDialect(this.zone, this.options.surveyRowsPerSlice), full, await readSurveyBounds(this.db));
    return { ...report, ...survey };
  }

  private async refreshCsat(mode: RefreshMode, refreshedAt: string): Promise<{ report: RefreshReport; full: boolean }> {
    const db = this.db;
    const state = await readResultState(db);
    const maxId = (await sql<{ id: number | null }>`SELECT max(id) AS id FROM cc_csat`.execute(db)).rows[0]?.id ?? 0;
    const watermark = state.watermark === undefined ? undefined : Number(state.watermark);
    // Only a first run, a changed timezone or a reset table needs everything rebuilt; any backlog of
    // new ratings goes the incremental way, whose cost follows the local days it touches.
    const needsFull = mode === 'full' || watermark === undefined || state.timezone !== this.zone.zone || maxId < watermark;

    if (needsFull) {
      await this.rebuildAll(maxId);
      await this.saveState(maxId, refreshedAt);
      const total = (await sql<{ n: number }>`SELECT count(*) AS n FROM cc_csat WHERE id <= ${maxId}`.execute(db)).rows[0]!.n;
      return { report: { kind: 'full', newRatings: total, touchedDays: -1, watermark: maxId, refreshedAt }, full: true };
    }
    if (maxId === watermark) {
      await this.saveState(maxId, refreshedAt);
      return { report: { kind: 'unchanged', newRatings: 0, touchedDays: 0, watermark: maxId, refreshedAt }, full: false };
    }
    const fresh = await this.touchedDays(watermark, maxId);
    await this.rebuildDays(fresh.days);
    await this.saveState(maxId, refreshedAt);
    return { report: { kind: 'incremental', newRatings: fresh.count, touchedDays: fresh.days.length, watermark: maxId, refreshedAt }, full: false };
  }

  private async rebuildAll(maxId: number): Promise<void> {
    const db = this.db;
    await sql`DELETE FROM csat_rollup`.execute(db);
    await sql`DELETE FROM csat_running`.execute(db);
    await sql`DELETE FROM csat_queue_agent`.execute(db);
    const span = (
      await sql<{ first: string | null; last: string | null }>`SELECT min(created_at) AS first, max(created_at) AS last FROM cc_csat WHERE id <= ${maxId}`.execute(db)
    ).rows[0];
    if (!span?.first || !span.last) return;
    const dayExpr = localDayExpression(this.zone, Date.parse(span.first), Date.parse(span.last));
    await insertAllBaseDays(dayExpr).execute(db);
    for (const statement of [...insertAllDerived(), ...insertAllRunning()]) await statement.execute(db);
  }

  private async rebuildDays(days: readonly string[]): Promise<void> {
    const db = this.db;
    const weeks = [...new Set(days.map(weekStart))];
    const months = [...new Set(days.map(monthStart))];
    const fromMs = this.zone.startOfDay(days[0]!);
    const toMs = this.zone.startOfDay(addDays(days.at(-1)!, 1));
    const dayExpr = localDayExpression(this.zone, fromMs, toMs);
    const filter = { days, fromIso: new Date(fromMs).toISOString(), toIso: new Date(toMs).toISOString() };
    // Recompute the touched days from cc_csat, move weeks and months by the difference, replace
    // the day rows, then the running totals from the first touched day: idempotent for the days
    // and running totals, exact for weeks and months.
    const statements = [
      ...stageBaseDays(dayExpr, filter),
      ...applyBaseDelta(days),
      deleteDays(days),
      ...insertStagedDays(),
      ...refreshRunningFrom(days[0]!),
      deleteEmpty(weeks, months),
    ];
    for (const statement of statements) await statement.execute(db);
  }

  /**
   * Local days of the ratings after the watermark. Local dates are computed per UTC hour, not per
   * rating; only an hour in which the local date changes (a zone offset with minutes, or a DST
   * change) looks at its ratings one by one.
   */
  private async touchedDays(watermark: number, maxId: number): Promise<{ days: string[]; count: number }> {
    const db = this.db;
    const hours = (
      await sql<{ hour: string; n: number }>`SELECT substr(created_at, 1, 13) AS hour, count(*) AS n FROM cc_csat WHERE id > ${watermark} AND id <= ${maxId} GROUP BY hour`.execute(db)
    ).rows;
    const days = new Set<string>();
    let count = 0;
    for (const { hour, n } of hours) {
      count += n;
      const startMs = Date.parse(`${hour}:00:00.000Z`);
      const first = this.zone.localDate(startMs);
      const last = this.zone.localDate(startMs + 3_599_999);
      if (first === last) {
        days.add(first);
        continue;
      }
      const rows = (
        await sql<{ created_at: string }>`SELECT created_at FROM cc_csat WHERE id > ${watermark} AND id <= ${maxId} AND substr(created_at, 1, 13) = ${hour}`.execute(db)
      ).rows;
      for (const row of rows) days.add(this.zone.localDate(Date.parse(row.created_at)));
    }
    return { days: [...days].sort(), count };
  }

  private async saveState(watermark: number, refreshedAt: string): Promise<void> {
    const db = this.db;
    const entries: Array<[string, string]> = [
      ['watermark', String(watermark)],
      ['timezone', this.zone.zone],
      ['refreshed_at', refreshedAt],
    ];
    for (const [key, value] of entries) {
      await sql`INSERT INTO result_state (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(db);
    }
  }
}
