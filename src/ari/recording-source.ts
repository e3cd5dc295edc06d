// The engine's RecordingSource: every configured Asterisk server's stored recordings, by [[ari]] name.
// Plain HTTP to ARI, independent of the event stream: the API and the retention sweep can reach a
// recording whether or not a survey connection is up.
import type { AriServer } from '../config/load.js';
import type { RecordingSource } from '../telephony/recordings.js';
import { AriStoredRecordings, ariRecordingSource } from './stored-recordings.js';

export function recordingSourceFor(servers: readonly AriServer[]): RecordingSource {
  return ariRecordingSource(
    new Map(
      servers.map(({ name, config, password }) => [
        name,
        new AriStoredRecordings({ url: config.url, username: config.username, password, timeoutMs: config.request_timeout_ms }),
      ]),
    ),
  );
}
