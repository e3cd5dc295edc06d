// The result service: runs the database's rollup refresh on schedule, on the one engine that leads
// (see Leadership), never two runs at once in this process, never an exception into the scheduler.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';
import type { Leadership, RefreshMode, RefreshReport, RollupStore } from '../storage/ports.js';
import type { RecordingRetention, RetentionReport } from './recording-retention.js';
import { ZoneCalendar } from './zone.js';

export interface RunReport extends RefreshReport {
  readonly durationMs: number;
}

export interface ResultServiceOptions {
  readonly rollups: RollupStore;
  /** Scheduled runs happen only while this engine leads; a run asked for explicitly always happens. */
  readonly leadership?: Leadership;
  readonly timezone: string;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly onRun?: (report: RunReport) => void;
  readonly onError?: (err: unknown) => void;
  readonly onLeadership?: (leading: boolean) => void;
  /** Deletes recordings past their retention after each scheduled run, on the leading engine only. */
  readonly recordingRetention?: Pick<RecordingRetention, 'sweep'>;
}

export class ResultService {
  private running: Promise<RunReport> | undefined;
  private task: ScheduledTask | undefined;
  private leading = false;
  private readonly zone: ZoneCalendar;
  private readonly now: () => Date;

  constructor(private readonly options: ResultServiceOptions) {
    this.zone = new ZoneCalendar(options.timezone);
    this.now = options.now ?? (() => new Date());
  }

  /** Whether this engine ran the service at its last scheduled attempt. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Runs once; a call while a run is in progress joins that run instead of starting another. */
  run(mode: RefreshMode = 'incremental'): Promise<RunReport> {
    if (this.running) return this.running;
    this.running = this.execute(mode).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * A scheduled run: only on the engine that leads. Another engine takes over at its next tick after
   * the leader's database session ends (a killed engine's session ends with its connection).
   */
  async runIfLeader(mode: RefreshMode = 'incremental'): Promise<RunReport | undefined> {
    const leading = this.options.leadership ? await this.options.leadership.acquire() : true;
    if (leading !== this.leading) {
      this.leading = leading;
      this.options.log.info({ leading }, leading ? 'result service: this engine runs the result service' : 'result service: another engine runs the result service');
      this.options.onLeadership?.(leading);
    }
    return leading ? this.run(mode) : undefined;
  }

  /** Schedules incremental runs; errors are logged and the next tick tries again. */
  start(schedule: string): void {
    this.task = cron.schedule(
      schedule,
      async () => {
        if (this.running) {
          this.options.log.info('result service: previous run still going; skipping this tick');
          return;
        }
        try {
          await this.runIfLeader('incremental');
          await this.sweepRecordings();
        } catch (err) {
          this.options.log.error({ err }, 'result service run failed; the next tick will retry');
          this.options.onError?.(err);
        }
      },
      { timezone: this.options.timezone, noOverlap: true, name: 'cc-csat-results' },
    );
  }

  /** Deletes expired recordings if this engine leads (see runIfLeader); undefined when it does not or there is nothing to do. */
  async sweepRecordings(): Promise<RetentionReport | undefined> {
    if (!this.leading || !this.options.recordingRetention) return undefined;
    const report = await this.options.recordingRetention.sweep();
    if (report.deleted + report.missing + report.failed > 0) this.options.log.info(report, 'recording retention run');
    return report;
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    await this.task?.destroy();
    this.task = undefined;
    await this.running?.catch(() => undefined);
    await this.options.leadership?.release();
    this.leading = false;
  }

  private async execute(mode: RefreshMode): Promise<RunReport> {
    const started = performance.now();
    const report = await this.options.rollups.refresh(mode, this.zone, this.now().toISOString());
    const full: RunReport = { ...report, durationMs: Math.round(performance.now() - started) };
    this.options.log.info(full, 'result service run');
    this.options.onRun?.(full);
    return full;
  }
}
