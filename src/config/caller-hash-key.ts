// The key caller numbers are hashed with (resurvey_after_hours): read here, from the environment
// variable [survey] caller_hash_key_env names, and nowhere else. A queue that needs it without it
// would store nothing it could recognise again, so check-config and start refuse that.
import { problem } from './problems.js';
import type { EngineFile, QueueConfig } from './schema.js';

/** Shorter keys make the hash of a short number space (phone numbers) easier to brute-force. */
export const MIN_CALLER_HASH_KEY_LENGTH = 16;

export interface CallerHashKeyResult {
  /** Undefined when the variable is unset (or too short: then `problems` says so if a queue needs it). */
  readonly key: string | undefined;
  readonly problems: string[];
}

export function callerHashKey(
  engineFile: string,
  engine: EngineFile,
  queuesFile: string,
  queues: ReadonlyArray<readonly [index: number, queue: QueueConfig]>,
  env: Readonly<Record<string, string | undefined>>,
): CallerHashKeyResult {
  const variable = engine.survey.caller_hash_key_env;
  const value = env[variable];
  const needed = queues.filter(([, queue]) => queue.after_call.resurvey_after_hours !== undefined);
  const problems: string[] = [];
  if (value !== undefined && value !== '' && value.length < MIN_CALLER_HASH_KEY_LENGTH && needed.length > 0) {
    // Never the value: only its length.
    problems.push(problem(engineFile, ['survey', 'caller_hash_key_env'], `environment variable ${variable} holds ${value.length} characters; the caller hash key needs at least ${MIN_CALLER_HASH_KEY_LENGTH}`));
    return { key: undefined, problems };
  }
  if (!value) {
    for (const [index] of needed) {
      problems.push(
        problem(queuesFile, ['queue', index, 'after_call', 'resurvey_after_hours'], `needs a key to hash caller numbers with: set the environment variable ${variable} ([survey] caller_hash_key_env in ${engineFile})`),
      );
    }
    return { key: undefined, problems };
  }
  return { key: value.length >= MIN_CALLER_HASH_KEY_LENGTH ? value : undefined, problems };
}
