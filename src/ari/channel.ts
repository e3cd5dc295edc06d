// One caller's channel in our Stasis app, as the IVR sees it. Playbacks are registered by id
// before `play` is sent, because PlaybackStarted/PlaybackFinished can beat the REST response.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { ChannelGoneError, type CallChannel, type Playback, type PlaybackEnd, type PlayOptions, type RecordOptions, type Recording } from '../telephony/port.js';
import { AriTimeoutError, ariErrorMessage, isChannelGone, isPlaybackGone, isPlaybackIdTaken, isVariableMissing } from './errors.js';
import { AriRecording } from './recording.js';
import type { RequestPriority } from './request-pool.js';
import type { AriRest } from './rest.js';
import type { SoundCatalog } from './sound-catalog.js';
import type { AriStoredRecordings } from './stored-recordings.js';
import { StreamClosedError } from './ws-rest.js';

/**
 * A request worth sending again: it timed out while Asterisk is slow but in reach, or the event
 * stream it went out on closed before the answer came (the resend goes over HTTP meanwhile).
 */
const worthResending = (err: unknown, rest: AriRest): err is AriTimeoutError | StreamClosedError =>
  err instanceof StreamClosedError || (err instanceof AriTimeoutError && rest.eventStreamUp);

/**
 * Runs a request that is safe to send twice; if the first has no answer in time, sends it once
 * more. An overloaded Asterisk often answers the second; a survey that gives up at the first
 * timeout hangs up on a caller in the middle of a question.
 */
async function onceMoreAfterTimeout<T>(what: string, rest: AriRest, log: () => Logger, fields: object, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (!worthResending(err, rest)) throw err;
    log().warn({ ...fields, err: err.message }, `ARI ${what} got no answer; sending it once more`);
    return send();
  }
}

export class AriPlayback implements Playback {
  readonly finished: Promise<PlaybackEnd>;
  private settleFinished!: (end: PlaybackEnd) => void;
  private settled = false;
  private startedInAsterisk = false;

  constructor(
    readonly id: string,
    readonly channelId: string,
    private readonly rest: AriRest,
    private readonly forget: (playback: AriPlayback) => void,
    private readonly priority: () => RequestPriority,
    private readonly log: () => Logger,
    readonly language?: string | undefined,
  ) {
    this.finished = new Promise((resolve) => (this.settleFinished = resolve));
  }

  /** PlaybackStarted arrived: Asterisk has this playback, whatever became of the answer to `play`. */
  markStarted(): void {
    this.startedInAsterisk = true;
  }

  /** Asterisk told us about this playback by an event (started, or finished). */
  get heardOf(): boolean {
    return this.startedInAsterisk || this.settled;
  }

  settle(end: PlaybackEnd): void {
    if (this.settled) return;
    this.settled = true;
    this.forget(this);
    this.settleFinished(end);
  }

  async stop(): Promise<void> {
    if (this.settled) return;
    // DELETE answers 204 whether PlaybackFinished came before or after it; 404 means it had already
    // ended, so sending it again after a timeout is harmless.
    const send = async (): Promise<void> => {
      if (this.settled) return;
      await this.rest.call('stop playback', (client) => client.playbacks.stop({ playbackId: this.id }), this.priority());
    };
    try {
      await onceMoreAfterTimeout('stop playback', this.rest, this.log, { playback_id: this.id }, send);
    } catch (err) {
      if (!isPlaybackGone(err) && !isChannelGone(err)) throw err;
    } finally {
      this.settle('stopped');
    }
  }
}

const PREVIOUS_PLAYBACKS_CHECKED = 16;

export class AriChannel implements CallChannel {
  private readonly goneController = new AbortController();
  private readonly dtmfListeners = new Set<(digit: string) => void>();
  readonly gone = this.goneController.signal;
  hangupRequested = false;
  private unreleased: 'hangup' | 'continue' | undefined;
  /** Asterisk answered our hangup or continue: the channel is no longer ours to release. */
  private released = false;
  /** Until its survey is admitted, this caller's requests wait behind those of running surveys. */
  private priority: RequestPriority = 'background';

  /** Playback ids are `<channel>:<n>` (a fresh survey) or `<channel>:<tag>:<n>` (a caller adopted after a restart). */
  private readonly playbackPrefix: string;
  private playbackCount = 0;
  /** For an adopted caller: the stop of a previous engine's playbacks, which the first play waits for. */
  private readonly previousPlaybacksStopped: Promise<void>;
  private channelLog: Logger | undefined;
  /** Live recordings by name (shared with the telephony, which routes their events) and the stored files. */
  private readonly recordings: ChannelRecordings | undefined;
  /** Which languages the server has each sound in (a prompt missing in the caller's plays in the fallback). */
  private readonly sounds: SoundCatalog | undefined;
  /** This channel's recordings still running: a hangup tells them their end is near. */
  private readonly liveRecordings = new Set<AriRecording>();

  constructor(
    readonly id: string,
    /** The [[ari]] entry the channel is on. */
    readonly server: string,
    readonly initialState: string,
    private readonly rest: AriRest,
    private readonly playbacks: Map<string, AriPlayback>,
    private readonly parentLog: Logger,
    options: { adopted?: boolean; recordings?: ChannelRecordings; sounds?: SoundCatalog } = {},
  ) {
    this.recordings = options.recordings;
    this.sounds = options.sounds;
    this.playbackPrefix = options.adopted ? `${id}:${randomUUID().slice(0, 8)}:` : `${id}:`;
    this.previousPlaybacksStopped = options.adopted ? this.stopPreviousEnginePlaybacks() : Promise.resolve();
  }

  /**
   * A caller adopted after the engine was restarted (kill -9) may still hear the dead engine's
   * question: Asterisk plays it to the end, and our own question would queue behind it, so a key
   * would stop nothing. ARI cannot list a channel's playbacks, but a fresh survey numbers its own
   * `<channel>:0`, `<channel>:1`...: stopping the first few covers any survey of the shipped kind.
   * A 404 (finished, or never existed) is the usual answer.
   */
  private async stopPreviousEnginePlaybacks(): Promise<void> {
    await Promise.all(
      Array.from({ length: PREVIOUS_PLAYBACKS_CHECKED }, async (_, n) => {
        try {
          await this.rest.call('stop a previous engine\'s playback', (client) => client.playbacks.stop({ playbackId: `${this.id}:${n}` }));
        } catch (err) {
          if (!isPlaybackGone(err) && !isChannelGone(err)) this.log.debug({ err: ariErrorMessage(err) }, 'stopping a previous playback failed');
        }
      }),
    );
  }

  // Made on first use, once per caller: play, stop and hangup are on every survey's path, the lines they log are rare.
  private get log(): Logger {
    this.channelLog ??= this.parentLog.child({ channel_id: this.id });
    return this.channelLog;
  }

  dtmf(digit: string): void {
    for (const listener of this.dtmfListeners) listener(digit);
  }

  markGone(why: string | ChannelGoneError): void {
    if (this.gone.aborted) return;
    this.goneController.abort(typeof why === 'string' ? new ChannelGoneError(this.id, why) : why);
    for (const playback of this.playbacks.values()) {
      if (playback.channelId === this.id) playback.settle('stopped');
    }
    // Unlike a playback, a recording is not over when the caller hangs up: Asterisk closes the file
    // with what was said and then reports it.
    for (const recording of this.liveRecordings) recording.endExpected();
  }

  async record(options: RecordOptions): Promise<Recording> {
    const recordings = this.recordings;
    if (!recordings) throw new Error('recording is not available on this connection');
    const recording = new AriRecording(options.name, options.format, options.maxSeconds, {
      rest: this.rest,
      stored: recordings.stored,
      forget: (done) => {
        recordings.live.delete(done.name);
        this.liveRecordings.delete(done);
      },
      priority: () => this.priority,
      log: () => this.log,
    });
    // Listened for before Asterisk is asked: a short recording can finish before the answer to `record`.
    recordings.live.set(recording.name, recording);
    this.liveRecordings.add(recording);
    try {
      // Not sent twice after a timeout: ifExists=fail would refuse the second as a name in use.
      await this.channelCall('record', (client) =>
        client.channels.record({
          channelId: this.id,
          name: options.name,
          format: options.format,
          maxDurationSeconds: options.maxSeconds,
          maxSilenceSeconds: options.maxSilenceSeconds,
          beep: options.beep,
          terminateOn: options.terminateOn,
          ifExists: 'fail',
        }),
      );
    } catch (err) {
      recording.failedToStart(ariErrorMessage(err));
      throw err;
    }
    return recording;
  }

  onDtmf(listener: (digit: string) => void): () => void {
    this.dtmfListeners.add(listener);
    return () => this.dtmfListeners.delete(listener);
  }

  admit(): void {
    this.priority = 'survey';
  }

  /** Runs a channel REST call; "channel not found" marks the channel gone and becomes ChannelGoneError. */
  private async channelCall<T>(what: string, run: Parameters<AriRest['call']>[1]): Promise<T> {
    if (this.gone.aborted) throw this.gone.reason;
    try {
      return (await this.rest.call(what, run, this.priority)) as T;
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

  async play(media: readonly string[], options: PlayOptions = {}): Promise<Playback> {
    await this.previousPlaybacksStopped;
    const lang = await this.playLanguage(media, options);
    if (this.gone.aborted) throw this.gone.reason;
    const playback = new AriPlayback(`${this.playbackPrefix}${this.playbackCount++}`, this.id, this.rest, (done) => this.playbacks.delete(done.id), () => this.priority, () => this.log, lang);
    this.playbacks.set(playback.id, playback);
    const send = (): Promise<unknown> =>
      this.channelCall('play', (client) =>
        // One comma-separated `media` value: Asterisk plays the list as one playback, in one language.
        client.channels.play({ channelId: this.id, media: media.join(','), playbackId: playback.id, lang }),
      );
    try {
      await this.sendPlay(send, playback);
    } catch (err) {
      playback.settle('stopped');
      throw err;
    }
    return playback;
  }

  /** The caller's language if the server has every sound of the list in it, else the fallback. */
  private async playLanguage(media: readonly string[], { language, fallbackLanguage }: PlayOptions): Promise<string | undefined> {
    if (!language) return fallbackLanguage;
    if (!fallbackLanguage || fallbackLanguage === language || !this.sounds) return language;
    return this.sounds.languageFor(media, language, fallbackLanguage, this.priority);
  }

  /** Sends `play`; after a timeout, once more with the same playbackId unless Asterisk has it already. */
  private async sendPlay(send: () => Promise<unknown>, playback: AriPlayback): Promise<void> {
    try {
      await send();
      return;
    } catch (err) {
      if (!worthResending(err, this.rest)) throw err;
      if (await this.reachedAsterisk(playback)) return;
      this.log.warn({ err: err.message, playback_id: playback.id }, 'ARI play got no answer and Asterisk has no such playback; sending it once more');
    }
    try {
      await send();
    } catch (err) {
      if (!isPlaybackIdTaken(err)) throw err;
    }
  }

  /**
   * Whether a `play` that got no answer was acted on all the same. Asterisk accepts a playbackId it
   * already has (201, the media queued a second time), so a blind resend could make the caller hear
   * the prompt twice: ask first. An event about the playback answers without a request.
   */
  private async reachedAsterisk(playback: AriPlayback): Promise<boolean> {
    if (playback.heardOf) return true;
    try {
      await this.channelCall('get playback', (client) => client.playbacks.get({ playbackId: playback.id }));
      return true;
    } catch (err) {
      if (isPlaybackGone(err)) return playback.heardOf;
      throw err;
    }
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
    // Our own hangup was answered: the events saying so (ChannelHangupRequest, StasisEnd) may still be
    // on the wire, and a second DELETE would only cost Asterisk a 404.
    if (this.released) return;
    const send = (): Promise<unknown> =>
      this.channelCall(how, (client) =>
        how === 'hangup'
          ? client.channels.hangup({ channelId: this.id, reason: 'normal' })
          : client.channels.continueInDialplan({ channelId: this.id }),
      );
    try {
      // A second hangup finds the channel gone (404) if the first one landed. A second `continue`
      // could move a channel on in the dialplan twice, so it is not resent.
      await (how === 'hangup' ? onceMoreAfterTimeout('hangup', this.rest, () => this.log, {}, send) : send());
      this.unreleased = undefined;
      this.released = true;
    } catch (err) {
      if (err instanceof ChannelGoneError) {
        this.log.debug(`${how}: channel already gone`);
        return;
      }
      this.unreleased = how;
      throw err;
    }
  }
}

/** What a channel needs to record: the telephony's live recordings by name, and the stored files' client. */
export interface ChannelRecordings {
  readonly live: Map<string, AriRecording>;
  readonly stored: AriStoredRecordings;
}
