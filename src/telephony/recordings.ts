// Stored recordings (spoken comments) as the HTTP API and the result service see them: audio to
// stream and files to delete, on whichever Asterisk server recorded them. The engine wires the ARI
// implementation (src/ari/stored-recordings.ts); neither side holds a driver handle.
import type { Readable } from 'node:stream';

/** The server cannot be asked now (down, refusing, timing out): worth trying again later. */
export class RecordingSourceUnavailableError extends Error {
  constructor(
    detail: string,
    /** Seconds after which asking again may work. */
    readonly retryAfterSeconds = 5,
  ) {
    super(detail);
    this.name = 'RecordingSourceUnavailableError';
  }
}

export interface RecordingAudio {
  /** The bytes as Asterisk serves them, streamed; destroy it to stop early. */
  readonly body: Readable;
  readonly contentLength: number | undefined;
}

export interface RecordingSource {
  /**
   * Opens a stored recording's audio. `server` is the [[ari]] name that recorded it; null (a row from
   * `cc-csat simulate` or without a server) asks each server in turn. Undefined: no server has it.
   * Rejects with RecordingSourceUnavailableError when the server cannot be asked.
   */
  open(server: string | null, name: string): Promise<RecordingAudio | undefined>;
  /** Deletes a stored recording: 'deleted', or 'missing' when no server has it (deleted already). */
  delete(server: string | null, name: string): Promise<'deleted' | 'missing'>;
}

/** The Content-Type of a recording format Asterisk writes (the record step's `format`). */
export function recordingContentType(format: string | null): string {
  switch (format) {
    case 'wav':
    case 'wav16':
      return 'audio/wav';
    case 'gsm':
      return 'audio/x-gsm';
    case 'ulaw':
      return 'audio/basic';
    case 'alaw':
      return 'audio/x-alaw-basic';
    default:
      return 'application/octet-stream';
  }
}
