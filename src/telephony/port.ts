// The small telephony interface the IVR engine and survey controller speak. The ARI adapter
// (src/ari/) implements it with ari-client; the terminal simulator implements it for `simulate`.

/** How a playback ended: played to the end, failed in Asterisk (missing file), or stopped by us or by hangup. */
export type PlaybackEnd = 'done' | 'failed' | 'stopped';

export interface Playback {
  readonly id: string;
  /** The language its sounds play in (ARI `lang`): the one asked for, or the fallback; undefined: the channel's own. */
  readonly language?: string | undefined;
  /** Settles once: when Asterisk reports PlaybackFinished, when we stop it, or when the channel goes away. Never rejects. */
  readonly finished: Promise<PlaybackEnd>;
  /** Stops the playback. Idempotent; a playback Asterisk already finished (404) counts as stopped. */
  stop(): Promise<void>;
}

/** Raised by channel operations once the caller is gone (ARI 404/409 after hangup): a normal outcome. */
export class ChannelGoneError extends Error {
  constructor(readonly channelId: string, detail = 'channel is gone') {
    // Every survey ends with one (the caller or we hang up): a stack trace would be built each time
    // and never read, since a hangup is an outcome, not a fault.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(`${channelId}: ${detail}`);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.name = 'ChannelGoneError';
  }
}

/**
 * The channel is still up, but no longer ours to drive: another connection took over the ARI
 * application it is in (ApplicationReplaced), and its events go there now.
 */
export class ChannelTakenOverError extends ChannelGoneError {
  constructor(channelId: string) {
    super(channelId, 'ARI application taken over by another connection');
    this.name = 'ChannelTakenOverError';
  }
}

/** What a `record` asks of Asterisk (ARI POST /channels/{id}/record, ifExists=fail). */
export interface RecordOptions {
  /** Unique and safe ([A-Za-z0-9_-]): the stored recording's name on the server. */
  readonly name: string;
  /** Asterisk's file format, e.g. "wav" (8 kHz 16-bit mono). */
  readonly format: string;
  readonly maxSeconds: number;
  /** Silence that ends the recording; 0: none. */
  readonly maxSilenceSeconds: number;
  readonly beep: boolean;
  /** The DTMF that ends the recording ("none": only silence, max_seconds or hangup do). */
  readonly terminateOn: 'none' | 'any' | '*' | '#';
}

/** How a recording ended: stored with its exact length, or failed in Asterisk (nothing kept). */
export type RecordingEnd = { readonly kind: 'done'; readonly durationMs: number } | { readonly kind: 'failed'; readonly cause: string };

export interface Recording {
  readonly name: string;
  readonly format: string;
  /**
   * Settles once Asterisk has closed the file, also when the caller hung up while speaking (Asterisk
   * keeps what was said); `durationMs` is measured from the stored file. Never rejects.
   */
  readonly finished: Promise<RecordingEnd>;
  /** Ends the recording now, keeping what was said (a deadline, a shutdown). Idempotent. */
  stop(): Promise<void>;
  /** Deletes the stored recording (shorter than min_seconds). A recording already gone counts as deleted. */
  discard(): Promise<void>;
}

/** The language a media list is played in (src/ivr/media.ts passes the caller's). */
export interface PlayOptions {
  /** The caller's language: Asterisk plays sounds/<language>/... (ARI play `lang`). */
  readonly language?: string | undefined;
  /**
   * The queue's default language. Where a sound of the list does not exist in `language`, the whole
   * list plays in this one instead: one voice per prompt, and Asterisk's own fallback is only to "en".
   */
  readonly fallbackLanguage?: string | undefined;
}

export interface CallChannel {
  readonly id: string;
  /**
   * The telephony server the call is on (an [[ari]] entry's name), recorded with its survey; null
   * where there is none (`cc-csat simulate`). Channel ids are unique per server, not across servers.
   */
  readonly server: string | null;
  /** Channel state when it entered our application ("Up" after a Queue() call). */
  readonly initialState: string;
  /** Aborts (reason: ChannelGoneError) when the caller hangs up or the channel leaves our application. */
  readonly gone: AbortSignal;
  /**
   * Asterisk was asked to hang the channel up (a soft request too: Asterisk shutting down sends only
   * soft ones). A playback failing after that is the call ending, not a broken prompt.
   */
  readonly hangupRequested: boolean;
  answer(): Promise<void>;
  /** Subscribes to PlaybackFinished before asking Asterisk to play, so no finish can be missed. */
  play(media: readonly string[], options?: PlayOptions): Promise<Playback>;
  /**
   * Records what the caller says. RecordingFinished is listened for before Asterisk is asked, and the
   * recording outlives the channel: a hangup ends it, it does not lose it. Absent where a channel
   * cannot record (an IVR with a record step then fails that step, politely).
   */
  record?(options: RecordOptions): Promise<Recording>;
  /** Returns an unsubscribe function. */
  onDtmf(listener: (digit: string) => void): () => void;
  getVariable(name: string): Promise<string | undefined>;
  /** Hangs up; resolves quietly if the caller already did. */
  hangup(): Promise<void>;
  /** Sends the channel back to the dialplan; resolves quietly if it is already gone. */
  continueInDialplan(): Promise<void>;
  /**
   * This caller's survey starts: from now on its requests go ahead of work for callers not yet
   * admitted (reading their variables, sending them back to the dialplan), so an overloaded
   * Asterisk never cuts a running survey short for the sake of a new one.
   */
  admit(): void;
}

export interface IncomingCall {
  readonly channel: CallChannel;
  /** StasisStart args: Stasis(app,${UNIQUEID},${MEMBERNAME},${QUEUENAME}) gives [call_id, agent_id, queue_id]. */
  readonly args: readonly string[];
  /**
   * The caller's number (CALLERID(num): StasisStart's channel.caller.number), for resurvey_after_hours;
   * undefined or empty when there is none. Never logged.
   */
  readonly callerNumber?: string | undefined;
  /** The channel's language (CHANNEL(language), StasisStart's channel.language); undefined when Asterisk gave none. */
  readonly language?: string | undefined;
}

/**
 * 'replaced': another connection took over this engine's ARI application on that Asterisk (an
 * engine elsewhere with the same [ari] app): no calls come from it until nobody else holds it.
 */
export type ConnectionState = 'connecting' | 'connected' | 'replaced' | 'stopped';

/** Several servers' states in one word: 'degraded' while some, not all, are connected. */
export type CombinedConnectionState = ConnectionState | 'degraded';

/** What readiness reports about telephony. */
export interface TelephonyReadiness {
  /** The one server's state; with several, 'connected' when all are, 'degraded' when some are. */
  readonly state: CombinedConnectionState;
  /** Each server's state by name, when there are several (one server's report stays as it always was). */
  readonly servers?: Readonly<Record<string, ConnectionState>>;
}

/** How hard the telephony server is working right now, for admission control. */
export interface TelephonyLoad {
  /**
   * Requests sent and still unanswered after `ms`. Many at once means the server has stalled or is
   * drowning, even before slow answers come back; a burst it answers quickly does not count.
   */
  requestsSlowerThan(ms: number): number;
  /** Mean answer time of recent requests; 0 when too few were answered to tell. */
  recentLatencyMs(): number;
}

export interface Telephony {
  readonly state: ConnectionState;
  onCall(handler: (call: IncomingCall) => void): void;
  stop(): Promise<void>;
}
