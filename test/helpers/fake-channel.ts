// The fast tier's caller: a CallChannel in memory whose playbacks last as long as the test says, on
// whatever timers are installed (node:test's mock timers in test/ivr-runner.test.ts). What the caller
// heard is the list of media of every play; keys and hangups are driven by the test.
import { ChannelGoneError, type CallChannel, type Playback, type PlaybackEnd } from '../../src/telephony/port.js';

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

  onDtmf(listener: (digit: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  press(digit: string): void {
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
    this.goneController.abort(new ChannelGoneError(this.id, why));
    for (const settle of [...this.playing]) settle('stopped');
  }
}
