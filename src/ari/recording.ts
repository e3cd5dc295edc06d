// One live recording of a caller (a spoken comment), as ARI reports it. It outlives the channel: when
// the caller hangs up while speaking, Asterisk closes the file with what was said and reports
// RecordingFinished; the length is then measured from the stored file, since the event's `duration`
// is whole seconds. If the event never comes (the event stream dropped), the stored file is looked
// for directly, so the survey never waits on a recording forever.
import type { Logger } from '../log.js';
import type { Recording, RecordingEnd } from '../telephony/port.js';
import { ariErrorMessage } from './errors.js';
import type { RequestPriority } from './request-pool.js';
import type { AriRest } from './rest.js';
import type { AriStoredRecordings } from './stored-recordings.js';

/** After a hangup or a stop, how long RecordingFinished may take before the stored file is looked for. */
const EVENT_WAIT_AFTER_END_MS = 3_000;
/** Beyond max_seconds (and the beep), the longest a recording may run before it is stopped from here. */
const OVERRUN_GUARD_MS = 10_000;

export class AriRecording implements Recording {
  readonly finished: Promise<RecordingEnd>;
  private settleFinished!: (end: RecordingEnd) => void;
  private settled = false;
  /** Asterisk reported the end (RecordingFinished or RecordingFailed). */
  private reported = false;
  private lookTimer: NodeJS.Timeout | undefined;
  private readonly guardTimer: NodeJS.Timeout;

  constructor(
    readonly name: string,
    readonly format: string,
    maxSeconds: number,
    private readonly deps: {
      readonly rest: AriRest;
      readonly stored: AriStoredRecordings;
      readonly forget: (recording: AriRecording) => void;
      readonly priority: () => RequestPriority;
      readonly log: () => Logger;
    },
  ) {
    this.finished = new Promise((resolve) => (this.settleFinished = resolve));
    this.guardTimer = setTimeout(() => {
      this.deps.log().warn({ recording: name }, 'recording ran past max_seconds without Asterisk reporting its end; stopping it');
      void this.stop().catch(() => undefined);
    }, maxSeconds * 1000 + OVERRUN_GUARD_MS);
  }

  private settle(end: RecordingEnd): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.lookTimer);
    clearTimeout(this.guardTimer);
    this.deps.forget(this);
    this.settleFinished(end);
  }

  /** RecordingFinished (state done) or RecordingFailed, with the event's own whole-second duration. */
  reportedEnd(state: 'done' | 'failed', details: { duration?: number; cause?: string }): void {
    if (this.reported || this.settled) return;
    this.reported = true;
    if (state === 'failed') {
      this.settle({ kind: 'failed', cause: details.cause ?? 'recording failed in Asterisk' });
      return;
    }
    void this.measure(details.duration).then((end) => this.settle(end));
  }

  /** The request to record failed: Asterisk has no such recording. */
  failedToStart(cause: string): void {
    this.reported = true;
    this.settle({ kind: 'failed', cause });
  }

  /** The caller hung up (or the recording was stopped): the end is near, and looked for if it is not reported. */
  endExpected(): void {
    if (this.reported || this.settled || this.lookTimer) return;
    this.lookTimer = setTimeout(() => {
      if (this.reported || this.settled) return;
      this.deps.log().warn({ recording: this.name }, 'no RecordingFinished from Asterisk; looking for the stored recording');
      void this.measure(undefined).then((end) => this.settle(end));
    }, EVENT_WAIT_AFTER_END_MS);
  }

  private async measure(reportedSeconds: number | undefined): Promise<RecordingEnd> {
    try {
      const durationMs = await this.deps.stored.durationMs(this.name, this.format);
      if (durationMs !== undefined) return { kind: 'done', durationMs };
      if (reportedSeconds === undefined) return { kind: 'failed', cause: 'Asterisk has no stored recording of that name' };
    } catch (err) {
      if (reportedSeconds === undefined) return { kind: 'failed', cause: `stored recording could not be read: ${err instanceof Error ? err.message : String(err)}` };
      this.deps.log().warn({ recording: this.name, err: err instanceof Error ? err.message : String(err) }, 'could not measure the recording; keeping Asterisk\'s whole-second duration');
    }
    // What was said is stored in Asterisk; its length in whole seconds beats losing the comment.
    return { kind: 'done', durationMs: reportedSeconds! * 1000 };
  }

  async stop(): Promise<void> {
    if (this.settled) return;
    try {
      await this.deps.rest.call('stop recording', (client) => client.recordings.stop({ recordingName: this.name }), this.deps.priority());
    } catch (err) {
      // 404: not live any more (it ended, or the caller hung up and it is being closed).
      if (!/recording not found/i.test(ariErrorMessage(err))) throw err;
    } finally {
      this.endExpected();
    }
  }

  async discard(): Promise<void> {
    await this.deps.stored.delete(this.name);
  }
}
