#!/usr/bin/env node
// The `cc-csat` executable (package.json bin). Process-level input is read here and in cli.ts only.
import { main } from './cli.js';

// A finished command has closed everything it opened, so the process exits by itself at once. If
// something still holds it this long after, it is a handle we could not close: ari-client's own
// reconnect timer, pending when `start` stopped, even reopens the event stream once Asterisk is
// back. A stop that logged "stopped" must not then hang until a supervisor kills the process.
const LINGER_LIMIT_MS = 1000;
// Listed by getActiveResourcesInfo() but never what keeps a process alive.
const STDIO_HANDLES = new Set(['PipeWrap', 'TTYWrap']);

function exitIfStillHeld(): void {
  setTimeout(() => {
    const held = process.getActiveResourcesInfo().filter((name) => !STDIO_HANDLES.has(name));
    console.error(`cc-csat: still held open ${LINGER_LIMIT_MS} ms after finishing (by ${held.join(', ') || 'nothing listed'}); exiting`);
    // pino flushes its destination on 'exit', so no log line is lost.
    process.exit();
  }, LINGER_LIMIT_MS).unref();
}

main(process.argv.slice(2), process.env)
  .then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  )
  .finally(exitIfStillHeld);
