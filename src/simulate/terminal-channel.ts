// A caller in the terminal: the telephony port implemented with console output and key presses,
// so `cc-csat simulate` runs the real controller and IVR engine on the real database.
import { randomUUID } from 'node:crypto';
import { ChannelGoneError, type CallChannel, type Playback, type PlaybackEnd } from '../telephony/port.js';

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

  constructor(
    private readonly out: TerminalOutput,
    private readonly mediaMs: (uri: string) => number,
  ) {}

  private leave(why: string): void {
    if (this.gone.aborted) return;
    this.goneController.abort(new ChannelGoneError(this.id, why));
    for (const playback of this.playing) playback.settle('stopped');
  }

  async answer(): Promise<void> {}

  async play(media: readonly string[]): Promise<Playback> {
    if (this.gone.aborted) throw this.gone.reason;
    this.out.line(`  ♪ ${media.join('  ')}`);
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
    return { id: randomUUID(), finished, stop: async () => settle('stopped') };
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
