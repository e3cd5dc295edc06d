// Writes a complete config tree (engine.toml, queues.toml, ivr/*.toml) into a temp directory.
// Fixtures are the tests' own: short timeouts so a survey runs in well under a second.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_IVR = `
description = "test survey: fast timings"
playback_guard_ms = 1500
max_duration_ms = 20000

[[step]]
id = "ask"
type = "collect"
prompt = ["sound:csat/rate-intro", "sound:csat/rate-keys"]
interruptible = true
digits = "12345"
scores = { "1" = 5, "2" = 4, "3" = 3, "4" = 2, "5" = 1 }
timeout_ms = 600
max_retries = 2
invalid_prompt = ["sound:csat/invalid"]
no_input_prompt = ["sound:csat/no-input"]
next = "confirm"
on_failure = "goodbye"

[[step]]
id = "confirm"
type = "confirm"
media = ["sound:csat/you-pressed", "digits:{digit}"]
next = "thanks"

[[step]]
id = "thanks"
type = "play"
media = ["sound:csat/thank-you"]
next = "bye"

[[step]]
id = "goodbye"
type = "play"
media = ["sound:csat/goodbye"]
next = "bye"

[[step]]
id = "bye"
type = "hangup"
`;

export const TEST_QUEUES = `
[[queue]]
name = "sales-queue"
[queue.after_call]
csat_enabled = true
csat_ivr = "survey"

[[queue]]
name = "quiet-queue"
[queue.after_call]
csat_enabled = false
`;

export interface ConfigTree {
  dir: string;
  enginePath: string;
  dbPath: string;
}

export function makeTempDir(prefix = 'cc-csat-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeConfigTree(options: {
  engineExtra?: string;
  /** Lines under [ari] (its url, credentials, app and reconnect delay are set here). */
  ariExtra?: string;
  /** Lines under [database] (its url is set here). */
  databaseExtra?: string;
  /** [database] url; default a SQLite file in the tree. */
  databaseUrl?: string;
  logLevel?: string;
  ariUrl?: string;
  /** The ARI password (default "secret", the ARI simulator's). */
  ariPassword?: string;
  httpPort?: number;
  queues?: string;
  ivrs?: Record<string, string>;
  dir?: string;
} = {}): ConfigTree {
  const dir = options.dir ?? makeTempDir();
  mkdirSync(join(dir, 'config'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'ivr'), { recursive: true });
  const dbPath = join(dir, 'data', 'cc_csat.db');
  const enginePath = join(dir, 'config', 'engine.toml');
  writeFileSync(
    enginePath,
    `[http]
host = "127.0.0.1"
port = ${options.httpPort ?? 0}

[ari]
url = "${options.ariUrl ?? 'http://127.0.0.1:1'}"
username = "csat"
password = "${options.ariPassword ?? 'secret'}"
app = "csat"
reconnect_max_delay_ms = 1000
${options.ariExtra ?? ''}

[database]
url = "${options.databaseUrl ?? `sqlite:${dbPath}`}"
${options.databaseExtra ?? ''}

[paths]
queues = "${join(dir, 'config', 'queues.toml')}"
ivr_dir = "${join(dir, 'ivr')}"

[log]
level = "${options.logLevel ?? 'warn'}"
${options.engineExtra ?? ''}
`,
  );
  writeFileSync(join(dir, 'config', 'queues.toml'), options.queues ?? TEST_QUEUES);
  for (const [name, text] of Object.entries(options.ivrs ?? { survey: TEST_IVR })) {
    writeFileSync(join(dir, 'ivr', `${name}.toml`), text);
  }
  return { dir, enginePath, dbPath };
}
