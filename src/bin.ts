#!/usr/bin/env node
// The `cc-csat` executable (package.json bin). Process-level input is read here and in cli.ts only.
import { main } from './cli.js';

main(process.argv.slice(2), process.env).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
