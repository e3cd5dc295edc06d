// The ARI simulator's recordings, as Asterisk 22 makes them (res_stasis_recording, app.c's
// ast_play_and_record_full): POST /channels/{id}/record starts one (ifExists=fail refuses a name in
// use, 409; an unknown format 422), the caller's simulated speech becomes a real WAV file (8 kHz 16-bit
// mono for "wav", 16 kHz for "wav16"; a tone while the caller speaks, zeros otherwise), and it ends on
// the terminate key (nothing trimmed), on maxSilenceSeconds of silence (trailing silence trimmed to
// 200 ms), at maxDurationSeconds, on a stop, or when the caller hangs up (what was said is kept).
// RecordingFinished carries whole seconds, as Asterisk's does. Stored recordings are served by
// GET /recordings/stored/{name}[/file] and deleted by DELETE.

const RATES: Readonly<Record<string, number>> = { wav: 8000, wav16: 16000 };
/** The beep Asterisk plays before it records (beep=true). */
export const BEEP_MS = 250;
const SILENCE_KEPT_MS = 200;
const SILENCE_POLL_MS = 20;

export interface SimRecordingChannel {
  readonly id: string;
}

interface LiveRecording {
  readonly name: string;
  readonly format: string;
  readonly channelId: string;
  /** When recording began (after the beep). */
  readonly startedAt: number;
  readonly maxDurationSeconds: number;
  readonly maxSilenceSeconds: number;
  readonly terminateOn: string;
  timer?: NodeJS.Timeout;
  poller?: NodeJS.Timeout;
}

export interface StoredSimRecording {
  readonly format: string;
  readonly audio: Buffer;
  /** The channel it recorded. */
  readonly channelId: string;
}

type Emit = (type: 'RecordingStarted' | 'RecordingFinished' | 'RecordingFailed', body: Record<string, unknown>) => void;

export class SimRecorder {
  readonly stored = new Map<string, StoredSimRecording>();
  private readonly live = new Map<string, LiveRecording>();
  /** Each caller's speech: intervals [from, to) of Date.now() time. */
  private readonly speech = new Map<string, Array<{ from: number; to: number }>>();

  constructor(private readonly emit: Emit) {}

  /** The caller starts speaking now, for `ms` (the test's simulated voice). */
  speak(channel: SimRecordingChannel, ms: number): void {
    const list = this.speech.get(channel.id) ?? [];
    const now = Date.now();
    list.push({ from: now, to: now + ms });
    this.speech.set(channel.id, list);
  }

  /** Names of the recordings running on that channel. */
  liveOn(channelId: string): string[] {
    return [...this.live.values()].filter((recording) => recording.channelId === channelId).map((recording) => recording.name);
  }

  start(channel: SimRecordingChannel, query: Record<string, string>): { status: number; body: unknown } {
    const name = query['name'] ?? '';
    const format = query['format'] ?? '';
    if (!name || !format) return { status: 400, body: { message: 'Recording name and format are required' } };
    if (RATES[format] === undefined) return { status: 422, body: { message: `Unknown format: ${format}` } };
    if ((query['ifExists'] ?? 'fail') === 'fail' && (this.stored.has(name) || this.live.has(name))) {
      return { status: 409, body: { message: 'Recording with same name already exists on the system' } };
    }
    const beep = query['beep'] === 'true';
    const recording: LiveRecording = {
      name,
      format,
      channelId: channel.id,
      startedAt: Date.now() + (beep ? BEEP_MS : 0),
      maxDurationSeconds: Number(query['maxDurationSeconds'] ?? 0),
      maxSilenceSeconds: Number(query['maxSilenceSeconds'] ?? 0),
      terminateOn: query['terminateOn'] ?? 'none',
    };
    this.live.set(name, recording);
    if (recording.maxDurationSeconds > 0) {
      recording.timer = setTimeout(() => this.finish(recording, recording.startedAt + recording.maxDurationSeconds * 1000), recording.startedAt - Date.now() + recording.maxDurationSeconds * 1000);
    }
    if (recording.maxSilenceSeconds > 0) recording.poller = setInterval(() => this.checkSilence(recording), SILENCE_POLL_MS);
    const body = this.json(recording, 'recording');
    setImmediate(() => this.emit('RecordingStarted', { recording: body }));
    return { status: 201, body };
  }

  /** A key from the caller: ends the channel's recordings that terminate on it (nothing trimmed). */
  press(channel: SimRecordingChannel, digit: string): void {
    for (const recording of this.live.values()) {
      if (recording.channelId === channel.id && (recording.terminateOn === digit || recording.terminateOn === 'any')) this.finish(recording, Date.now());
    }
  }

  /** POST /recordings/live/{name}/stop. */
  stop(name: string): boolean {
    const recording = this.live.get(name);
    if (!recording) return false;
    this.finish(recording, Date.now());
    return true;
  }

  /**
   * The caller hung up: Asterisk closes the files with what was said. Returns the events to send,
   * which Asterisk sends after the hangup request.
   */
  hangup(channel: SimRecordingChannel): Array<() => void> {
    return [...this.live.values()].filter((recording) => recording.channelId === channel.id).map((recording) => this.finish(recording, Date.now(), { deferEvent: true }));
  }

  close(): void {
    for (const recording of this.live.values()) {
      clearTimeout(recording.timer);
      clearInterval(recording.poller);
    }
  }

  private checkSilence(recording: LiveRecording): void {
    const now = Date.now();
    const lastSound = this.lastSoundBefore(recording.channelId, now, recording.startedAt);
    if (lastSound === 'speaking') return;
    if (now - lastSound >= recording.maxSilenceSeconds * 1000) this.finish(recording, Math.min(now, lastSound + SILENCE_KEPT_MS));
  }

  /** When the caller last made a sound (or when the recording began, if they have not), or 'speaking'. */
  private lastSoundBefore(channelId: string, now: number, since: number): number | 'speaking' {
    let last = since;
    for (const { from, to } of this.speech.get(channelId) ?? []) {
      if (from <= now && now < to) return 'speaking';
      if (to <= now && to > last) last = to;
    }
    return last;
  }

  private finish(recording: LiveRecording, endedAt: number, options: { deferEvent?: boolean } = {}): () => void {
    clearTimeout(recording.timer);
    clearInterval(recording.poller);
    this.live.delete(recording.name);
    const durationMs = Math.max(0, endedAt - recording.startedAt);
    this.stored.set(recording.name, { format: recording.format, audio: this.wav(recording, durationMs), channelId: recording.channelId });
    const send = (): void => this.emit('RecordingFinished', { recording: { ...this.json(recording, 'done'), duration: Math.floor(durationMs / 1000) } });
    if (!options.deferEvent) send();
    return send;
  }

  private json(recording: LiveRecording, state: string) {
    return { name: recording.name, format: recording.format, target_uri: `channel:${recording.channelId}`, state };
  }

  /** A RIFF/WAVE file: the caller's speech as a 440 Hz tone, silence as zeros. */
  private wav(recording: LiveRecording, durationMs: number): Buffer {
    const rate = RATES[recording.format]!;
    const samples = Math.round((durationMs * rate) / 1000);
    const data = Buffer.alloc(samples * 2);
    const speech = this.speech.get(recording.channelId) ?? [];
    for (let i = 0; i < samples; i++) {
      const at = recording.startedAt + (i * 1000) / rate;
      if (speech.some(({ from, to }) => from <= at && at < to)) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
    }
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'ascii');
    header.writeUInt32LE(36 + data.length, 4);
    header.write('WAVE', 8, 'ascii');
    header.write('fmt ', 12, 'ascii');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(rate, 24);
    header.writeUInt32LE(rate * 2, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(data.length, 40);
    return Buffer.concat([header, data]);
  }
}
