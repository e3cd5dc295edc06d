// One caller's channel in our Stasis app, as the IVR sees it. Playbacks are registered by id
// before `play` is sent, because PlaybackStarted/PlaybackFinished can beat the REST response.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { ChannelGoneError, type CallChannel, type Playback, type PlaybackEnd } from '../telephony/port.js';
import { ariErrorMessage, isChannelGone, isPlaybackGone, isVariableMissing } from './errors.js';
import type { AriRest } from './rest.js';

export class AriPlayback implements Playback {
  readonly finished: Promise<PlaybackEnd>;
  private settleFinished!: (end: PlaybackEnd) => void;
  private settled = false;

  constructor(
    readonly id: string,
    readonly channelId: string,
    private readonly rest: AriRest,
    private readonly forget: (playback: AriPlayback) => void,
  ) {
    this.finished = new Promise((resolve) => (this.settleFinished = resolve));
  }

  settle(end: PlaybackEnd): void {
    if (this.settled) return;
    this.settled = true;
    this.forget(this);
    this.settleFinished(end);
  }

  async stop(): Promise<void> {
    if (this.settled) return;
    // DELETE answers 204 whether PlaybackFinished came before or after it; 404 means it had already ended.
    try {
      await this.rest.call('stop playback', (client) => client.playbacks.stop({ playbackId: this.id }));
    } catch (err) {
      if (!isPlaybackGone(err) && !isChannelGone(err)) throw err;
    } finally {
      this.settle('stopped');
    }
  }
}

export class AriChannel implements CallChannel {
  private readonly goneController = new AbortController();
  private readonly dtmfListeners = new Set<(digit: string) => void>();
  readonly gone = this.goneController.signal;
  private unreleased: 'hangup' | 'continue' | undefined;

  constructor(
    readonly id: string,
    readonly initialState: string,
    private readonly rest: AriRest,
    private readonly playbacks: Map<string, AriPlayback>,
    private readonly log: Logger,
  ) {}

  dtmf(digit: string): void {
    for (const listener of this.dtmfListeners) listener(digit);
  }

  markGone(why: string): void {
    if (this.gone.aborted) return;
    this.goneController.abort(new ChannelGoneError(this.id, why));
    for (const playback of this.playbacks.values()) {
      if (playback.channelId === this.id) playback.settle('stopped');
    }
  }

  onDtmf(listener: (digit: string) => void): () => void {
    this.dtmfListeners.add(listener);
    return () => this.dtmfListeners.delete(listener);
  }

  /** Runs a channel REST call; "channel not found" marks the channel gone and becomes ChannelGoneError. */
  private async channelCall<T>(what: string, run: Parameters<AriRest['call']>[1]): Promise<T> {
    if (this.gone.aborted) throw this.gone.reason;
    try {
      return (await this.rest.call(what, run)) as T;
    } catch (err) {
      if (isChannelGone(err)) {
        this.markGone(`${what}: ${ariErrorMessage(err)}`);
        throw this.gone.reason;
      }
      throw err;
    }
  }

  async answer(): Promise<void> {
    await this.channelCall('answer', (client) => client.channels.answer({ channelId: this.id }));
  }

  async play(media: readonly string[]): Promise<Playback> {
    const playback = new AriPlayback(randomUUID(), this.id, this.rest, (done) => this.playbacks.delete(done.id));
    this.playbacks.set(playback.id, playback);
    try {
      await this.channelCall('play', (client) =>
        // One comma-separated `media` value: Asterisk plays the list as one playback.
        client.channels.play({ channelId: this.id, media: media.join(','), playbackId: playback.id }),
      );
    } catch (err) {
      playback.settle('stopped');
      throw err;
    }
    return playback;
  }

  async getVariable(name: string): Promise<string | undefined> {
    try {
      const result = await this.channelCall<{ value?: string }>(`get variable ${name}`, (client) =>
        client.channels.getChannelVar({ channelId: this.id, variable: name }),
      );
      return result.value;
    } catch (err) {
      if (isVariableMissing(err)) return undefined;
      throw err;
    }
  }

  async hangup(): Promise<void> {
    await this.release('hangup');
  }

  async continueInDialplan(): Promise<void> {
    await this.release('continue');
  }

  /**
   * A release that failed because Asterisk could not be reached (event stream down, request timed
   * out). The survey is over, but the caller is still in our app hearing silence: the resync after
   * the next (re)connect sends it again.
   */
  get pendingRelease(): 'hangup' | 'continue' | undefined {
    return this.gone.aborted ? undefined : this.unreleased;
  }

  async release(how: 'hangup' | 'continue'): Promise<void> {
    try {
      await this.channelCall(how, (client) =>
        how === 'hangup'
          ? client.channels.hangup({ channelId: this.id, reason: 'normal' })
          : client.channels.continueInDialplan({ channelId: this.id }),
      );
      this.unreleased = undefined;
    } catch (err) {
      if (err instanceof ChannelGoneError) {
        this.log.debug({ channel_id: this.id }, `${how}: channel already gone`);
        return;
      }
      this.unreleased = how;
      throw err;
    }
  }
}
