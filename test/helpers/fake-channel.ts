// The fast tier's caller: a CallChannel in memory whose playbacks last as long as the test says, on
// whatever timers are installed (node:test's mock timers in test/ivr-runner.test.ts). What the caller
// heard is the list of media of every play; keys and hangups are driven by the test.
import { ChannelGoneError, type CallChannel, type Playback, type PlaybackEnd, type RecordOptions, type Recording, type RecordingEnd } from '../../src/telephony/port.js';

/** A recording on the fake channel: it lasts (on Date.now, mockable) until the terminate key, max_seconds, stop or hangup. */
export interface FakeRecording {
  readonly options: RecordOptions;
  /** Set when it ended: the length it kept. */
  durationMs: number | undefined;
  discarded: boolean;
  end(): void;
}

export class FakeChannel implements CallChannel {
  readonly id: string;
  readonly server = null;
  readonly initialState = 'Up';
  readonly hangupRequested = false;
  /** Every play's media, in order. */
  readonly heard: string[][] = [];
  /** How the plays ended, in the same order. */
  readonly ends: PlaybackEnd[] = [];
  hungUpByUs = false;
  private readonly goneController = new AbortController();
  readonly gone = this.goneController.signal;
  private readonly listeners = new Set<(digit: string) => void>();
  private readonly playing = new Set<(end: PlaybackEnd) => void>();
  /** Every recording asked for, in order. */
  readonly recordings: FakeRecording[] = [];
  /** Called as a play starts: a scripted caller reacts to what it hears. */
  onPlay: ((media: readonly string[]) => void) | undefined;

  constructor(
    id = 'fake-1',
    private readonly options: { readonly mediaMs?: number; readonly failing?: readonly string[] } = {},
  ) {
    this.id = id;
  }

  async answer(): Promise<void> {}

  async play(media: readonly string[]): Promise<Playback> {
    if (this.gone.aborted) throw this.gone.reason;
    const index = this.heard.push([...media]) - 1;
    let timer: NodeJS.Timeout | undefined;
    let settle!: (end: PlaybackEnd) => void;
    const finished = new Promise<PlaybackEnd>((resolve) => {
      settle = (end) => {
        if (!this.playing.delete(settle)) return;
        clearTimeout(timer);
        this.ends[index] = end;
        resolve(end);
      };
    });
    this.playing.add(settle);
    const fails = media.some((uri) => this.options.failing?.includes(uri));
    timer = setTimeout(() => settle(fails ? 'failed' : 'done'), (this.options.mediaMs ?? 1_000) * media.length);
    this.onPlay?.(media);
    return { id: `play-${index}`, finished, stop: async () => settle('stopped') };
  }

  async record(options: RecordOptions): Promise<Recording> {
    if (this.gone.aborted) throw this.gone.reason;
    const startedAt = Date.now();
    let settle!: (end: RecordingEnd) => void;
    const finished = new Promise<RecordingEnd>((resolve) => (settle = resolve));
    const recording: FakeRecording = {
      options,
      durationMs: undefined,
      discarded: false,
      end: () => {
        if (recording.durationMs !== undefined) return;
        clearTimeout(timer);
        recording.durationMs = Math.min(Date.now() - startedAt, options.maxSeconds * 1000);
        settle({ kind: 'done', durationMs: recording.durationMs });
      },
    };
    const timer = setTimeout(() => recording.end(), options.maxSeconds * 1000);
    this.recordings.push(recording);
    return { name: options.name, format: options.format, finished, stop: async () => recording.end(), discard: async () => void (recording.discarded = true) };
  }

  onDtmf(listener: (digit: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  press(digit: string): void {
    const terminated = this.recordings.find((r) => r.durationMs === undefined && (r.options.terminateOn === digit || r.options.terminateOn === 'any'));
    terminated?.end();
    for (const listener of this.listeners) listener(digit);
  }

  callerHangsUp(): void {
    this.leave('caller hung up');
  }

  async getVariable(): Promise<string | undefined> {
    return undefined;
  }

  async hangup(): Promise<void> {
    this.hungUpByUs = true;
    this.leave('hung up by cc-csat');
  }

  async continueInDialplan(): Promise<void> {
    this.leave('back to the dialplan');
  }

  admit(): void {}

  private leave(why: string): void {
    if (this.gone.aborted) return;
    // As Asterisk does, a hangup ends a recording with what was said.
    for (const recording of this.recordings) recording.end();
    this.goneController.abort(new ChannelGoneError(this.id, why));
    for (const settle of [...this.playing]) settle('stopped');
  }
}
