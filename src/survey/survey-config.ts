// The queues and IVRs new callers are surveyed with. A config reload swaps the whole pair at once;
// the controller reads it once per new caller, so a running survey keeps the Ivr object it started
// with and a caller being admitted never sees a queue from one config and its IVR from another.
import type { Ivr, QueueConfig } from '../config/schema.js';

export interface SurveyConfig {
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly ivrs: ReadonlyMap<string, Ivr>;
}

export interface SurveyConfigSource {
  current(): SurveyConfig;
}

export class SurveyConfigHolder implements SurveyConfigSource {
  private config: SurveyConfig;

  constructor(initial: SurveyConfig) {
    this.config = { queues: initial.queues, ivrs: initial.ivrs };
  }

  current(): SurveyConfig {
    return this.config;
  }

  replace(next: SurveyConfig): void {
    this.config = { queues: next.queues, ivrs: next.ivrs };
  }
}

/** The names of the queues in `source`'s current config, as a set that follows reloads (the API's known queues). */
export function liveQueueNames(source: SurveyConfigSource): ReadonlySet<string> {
  const queues = (): ReadonlyMap<string, QueueConfig> => source.current().queues;
  const names: ReadonlySet<string> = {
    has: (name) => queues().has(name),
    get size() {
      return queues().size;
    },
    keys: () => queues().keys(),
    values: () => queues().keys(),
    entries: () => [...queues().keys()].map((name): [string, string] => [name, name]).values(),
    forEach: (each, thisArg) => {
      for (const name of queues().keys()) each.call(thisArg, name, name, names);
    },
    [Symbol.iterator]: () => queues().keys(),
  };
  return names;
}
