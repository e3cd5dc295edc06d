// Deletes spoken comments older than [survey] recording_retention_days from Asterisk, run by the
// result service on the engine that leads it. Each deletion is logged and counted; the answer row
// stays (the comment was given), marked with when its audio was deleted. A server out of reach
// leaves its recordings for the next run; one that no longer has the file counts as deleted.
import type { Logger } from '../log.js';
import type { RecordingPosition, RecordingStore } from '../storage/ports.js';
import { RecordingSourceUnavailableError, type RecordingSource } from '../telephony/recordings.js';

const DAY_MS = 86_400_000;
/** Recordings deleted per run at most: a first run on a year of comments must not hold the service for long. */
const BATCH = 500;
/** Pages read per run at most: recordings waiting on unreachable servers are paged past, not endlessly. */
const MAX_PAGES = 20;

export interface RetentionReport {
  readonly deleted: number;
  /** Already gone from Asterisk (deleted by hand, or a lost Asterisk spool): marked all the same. */
  readonly missing: number;
  /** Left for the next run (the server could not be asked). */
  readonly failed: number;
}

export interface RecordingRetentionOptions {
  readonly store: RecordingStore;
  readonly source: RecordingSource;
  /** 0: recordings are kept forever. */
  readonly retentionDays: number;
  readonly log: Logger;
  readonly now?: () => Date;
  /** Each recording deleted (or found gone), for metrics. */
  readonly onDeleted?: (how: 'deleted' | 'missing') => void;
}

export class RecordingRetention {
  private readonly now: () => Date;

  constructor(private readonly options: RecordingRetentionOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async sweep(): Promise<RetentionReport> {
    const { store, source, retentionDays, log, onDeleted } = this.options;
    if (retentionDays === 0) return { deleted: 0, missing: 0, failed: 0 };
    const now = this.now();
    const before = new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
    let deleted = 0;
    let missing = 0;
    let failed = 0;
    // An Asterisk that cannot be reached is asked once per run, not once per recording (each ask may
    // wait a whole request timeout, and the run holds up the next statistics tick); its recordings
    // are paged past, so those on servers that answer are still deleted.
    const unreachable = new Set<string | null>();
    let after: RecordingPosition | undefined;
    for (let page = 0; page < MAX_PAGES && deleted + missing < BATCH; page++) {
      const expired = await store.expired(before, BATCH, after);
      if (expired.length === 0) break;
      after = { answeredAt: expired.at(-1)!.answeredAt, id: expired.at(-1)!.id };
      for (const recording of expired) {
        if (deleted + missing >= BATCH) break;
        if (unreachable.has(recording.server)) {
          failed++;
          continue;
        }
        let how: 'deleted' | 'missing';
        try {
          how = await source.delete(recording.server, recording.name);
        } catch (err) {
          if (!(err instanceof RecordingSourceUnavailableError)) throw err;
          failed++;
          unreachable.add(recording.server);
          log.warn({ server: recording.server, err: err.message }, 'recording retention: Asterisk unreachable; its recordings wait for the next run');
          continue;
        }
        await store.markDeleted(recording.id, now.toISOString());
        if (how === 'deleted') deleted++;
        else missing++;
        onDeleted?.(how);
        log.info(
          { recording: recording.name, server: recording.server, call_id: recording.callId, question: recording.questionId, answered_at: recording.answeredAt, retention_days: retentionDays, found: how === 'deleted' },
          how === 'deleted' ? 'recording older than the retention deleted' : 'recording older than the retention was already gone from Asterisk',
        );
      }
    }
    return { deleted, missing, failed };
  }
}
