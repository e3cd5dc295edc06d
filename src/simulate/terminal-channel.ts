// A caller in the terminal: the telephony port implemented with console output and key presses,
// so `cc-csat simulate` runs the real controller and IVR engine on the real database.
import { randomUUID } from 'node:crypto';
import { ChannelGoneError, type CallChannel, type Playback, type PlaybackEnd, type PlayOptions, type RecordOptions, type Recording, type RecordingEnd } from '../telephony/port.js';

export interface TerminalOutput {
  line(text: string): void;
}

export class TerminalChannel implements CallChannel {
  readonly id = `terminal-${randomUUID()}`;
  readonly initialState = 'Up';
  // No Asterisk server runs a simulated call: its outcome row has server NULL, like rows from before servers were recorded.
  readonly server = null;
  private readonly goneController = new AbortController();
  readonly gone = this.goneController.signal;
  readonly hangupRequested = false;
  private readonly listeners = new Set<(digit: string) => void>();
  private readonly playing = new Set<{ settle: (end: PlaybackEnd) => void }>();
  /** Called when a playback starts (scripted callers answer questions from here). */
  onPlaybackStart: ((media: readonly string[]) => void) | undefined;
  /** Called when a recording starts: the caller's comment is as long as `speak` then says. */
  onRecordStart: ((options: RecordOptions) => void) | undefined;
  private recording: { readonly options: RecordOptions; readonly startedAt: number; settle(end: RecordingEnd): void } | undefined;

  constructor(
    private readonly out: TerminalOutput,
    private readonly mediaMs: (uri: string) => number,
    /** Print the language each prompt plays in (`simulate --language`). */
    private readonly showLanguage = false,
  ) {}

  private leave(why: string): void {
    if (this.gone.aborted) return;
    // As on Asterisk, a hang-up ends a recording with what was said so far.
    this.endRecording(Date.now() - (this.recording?.startedAt ?? Date.now()));
    this.goneController.abort(new ChannelGoneError(this.id, why));
    for (const playback of this.playing) playback.settle('stopped');
  }

  async answer(): Promise<void> {}

  async play(media: readonly string[], options: PlayOptions = {}): Promise<Playback> {
    if (this.gone.aborted) throw this.gone.reason;
    // No Asterisk to ask which sounds exist: prompts play in the caller's language as chosen.
    const language = options.language ?? options.fallbackLanguage;
    this.out.line(`  ♪ ${this.showLanguage && language ? `[${language}] ` : ''}${media.join('  ')}`);
    let timer: NodeJS.Timeout | undefined;
    let settle!: (end: PlaybackEnd) => void;
    const finished = new Promise<PlaybackEnd>((resolve) => {
      settle = (end) => {
        clearTimeout(timer);
        this.playing.delete(entry);
        resolve(end);
      };
    });
    const entry = { settle };
    this.playing.add(entry);
    timer = setTimeout(() => settle('done'), media.reduce((total, uri) => total + this.mediaMs(uri), 0));
    this.onPlaybackStart?.(media);
    return { id: randomUUID(), language, finished, stop: async () => settle('stopped') };
  }

  /** Whether a comment is being recorded (the keyboard then types its length in seconds). */
  get recordingActive(): boolean {
    return this.recording !== undefined;
  }

  async record(options: RecordOptions): Promise<Recording> {
    if (this.gone.aborted) throw this.gone.reason;
    const ends = options.terminateOn === 'none' ? '' : `, ${options.terminateOn} ends it`;
    this.out.line(`  ● recording${options.beep ? ' after the beep' : ''}: up to ${options.maxSeconds} s${ends}`);
    let settle!: (end: RecordingEnd) => void;
    const finished = new Promise<RecordingEnd>((resolve) => (settle = resolve));
    // Nobody types: Asterisk would stop at max_seconds.
    const timer = setTimeout(() => this.endRecording(options.maxSeconds * 1000), options.maxSeconds * 1000);
    this.recording = {
      options,
      startedAt: Date.now(),
      settle: (end) => {
        clearTimeout(timer);
        settle(end);
      },
    };
    this.onRecordStart?.(options);
    return {
      name: options.name,
      format: options.format,
      finished,
      stop: async () => this.endRecording(Date.now() - (this.recording?.startedAt ?? Date.now())),
      discard: async () => this.out.line('  ✗ comment too short: discarded'),
    };
  }

  /** The caller spoke for `seconds` (typed, or scripted): the recording ends with that length, max_seconds at most. */
  speak(seconds: number): void {
    this.endRecording(seconds * 1000);
  }

  private endRecording(durationMs: number): void {
    const recording = this.recording;
    if (!recording) return;
    this.recording = undefined;
    const kept = Math.max(0, Math.min(durationMs, recording.options.maxSeconds * 1000));
    this.out.line(`  ● recorded ${(kept / 1000).toFixed(1)} s`);
    recording.settle({ kind: 'done', durationMs: Math.round(kept) });
  }

  onDtmf(listener: (digit: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  press(digit: string): void {
    if (this.gone.aborted) return;
    this.out.line(`  ⌨ caller pressed ${digit}`);
    for (const listener of this.listeners) listener(digit);
  }

  callerHangsUp(): void {
    if (this.gone.aborted) return;
    this.out.line('  ☎ caller hung up');
    this.leave('caller hung up');
  }

  async getVariable(): Promise<string | undefined> {
    return undefined;
  }

  async hangup(): Promise<void> {
    if (this.gone.aborted) return;
    this.out.line('  ☎ cc-csat hung up');
    this.leave('hung up by cc-csat');
  }

  async continueInDialplan(): Promise<void> {
    if (this.gone.aborted) return;
    this.out.line('  ↩ no survey: the call goes back to the dialplan');
    this.leave('continued in the dialplan');
  }

  /** One caller, no shared connections to Asterisk: nothing to put first. */
  admit(): void {}
}
