// Second validation pass: references between files and between steps. Each check returns
// problems instead of throwing, so an operator sees every mistake in one run.
import { closest, problem } from './problems.js';
import { valueBounds } from './questions.js';
import type { EngineFile, Ivr, QueueConfig } from './schema.js';

function unknownReference(kind: string, name: string, known: Iterable<string>): string {
  const knownList = [...known];
  const hint = closest(name, knownList);
  const suffix = hint ? `did you mean "${hint}"? ` : '';
  return `unknown ${kind} "${name}" (${suffix}known: ${knownList.join(', ') || 'none'})`;
}

/** What a queue's link_fallback must find in engine.toml and its IVR. */
export interface LinkTargets {
  /** [[alerts.destination]] names. */
  readonly destinations: ReadonlySet<string>;
  /** [alerts] public_url is set: the links must be absolute. */
  readonly publicUrl: boolean;
  /** An IVR's headline question, which a rating by link answers; undefined when it has none. */
  headlineOf(ivr: string): string | undefined;
}

export function checkQueues(
  file: string,
  queues: ReadonlyArray<readonly [index: number, queue: QueueConfig]>,
  ivrNames: ReadonlySet<string>,
  links?: LinkTargets,
): string[] {
  const problems: string[] = [];
  const firstIndexByName = new Map<string, number>();
  queues.forEach(([index, queue]) => {
    const earlier = firstIndexByName.get(queue.name);
    if (earlier !== undefined) {
      problems.push(problem(file, ['queue', index, 'name'], `duplicate queue "${queue.name}" (first defined at queue[${earlier}])`));
    } else {
      firstIndexByName.set(queue.name, index);
    }
    const { csat_enabled, csat_ivr } = queue.after_call;
    if (csat_enabled && csat_ivr === undefined) {
      problems.push(problem(file, ['queue', index, 'after_call', 'csat_ivr'], 'is required when csat_enabled = true'));
    }
    if (csat_ivr !== undefined && !ivrNames.has(csat_ivr)) {
      problems.push(problem(file, ['queue', index, 'after_call', 'csat_ivr'], unknownReference('IVR', csat_ivr, ivrNames)));
    }
    const fallback = queue.link_fallback;
    if (fallback && links) {
      const at = ['queue', index, 'link_fallback'];
      if (!links.destinations.has(fallback.destination)) {
        problems.push(problem(file, [...at, 'destination'], `no [[alerts.destination]] "${fallback.destination}" in engine.toml${links.destinations.size > 0 ? ` (known: ${[...links.destinations].join(', ')})` : ''}`));
      }
      if (!links.publicUrl) problems.push(problem(file, at, 'needs [alerts] public_url in engine.toml: the links sent to callers must be absolute'));
      if (csat_ivr !== undefined && ivrNames.has(csat_ivr) && links.headlineOf(csat_ivr) === undefined) {
        problems.push(problem(file, at, `IVR "${csat_ivr}" has no headline csat question for a link to answer`));
      }
    }
  });
  return problems;
}

export function checkIvr(ivr: Ivr): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  ivr.step.forEach((step, index) => {
    const earlier = ids.get(step.id);
    if (earlier !== undefined) {
      problems.push(problem(ivr.file, ['step', index, 'id'], `duplicate step id "${step.id}" (first used at step[${earlier}])`));
    } else {
      ids.set(step.id, index);
    }
  });
  const checkTarget = (index: number, key: string, target: string | undefined): void => {
    if (target !== undefined && !ids.has(target)) {
      problems.push(problem(ivr.file, ['step', index, key], unknownReference('step', target, ids.keys())));
    }
  };
  ivr.step.forEach((step, index) => {
    if (step.type !== 'hangup') checkTarget(index, 'next', step.next);
    if (step.type === 'consent') checkTarget(index, 'on_decline', step.on_decline);
    if (step.type === 'record') {
      checkTarget(index, 'on_failure', step.on_failure);
      checkTarget(index, 'on_empty', step.on_empty);
    }
    // The survey's deadline would cut a comment off mid-sentence (and end the survey as failed).
    if (step.type === 'record' && step.max_seconds * 1000 >= ivr.max_duration_ms) {
      problems.push(problem(ivr.file, ['step', index, 'max_seconds'], `${step.max_seconds} s does not fit in the survey's max_duration_ms (${ivr.max_duration_ms} ms): raise max_duration_ms or lower max_seconds`));
    }
    if (step.type !== 'collect') return;
    checkTarget(index, 'on_failure', step.on_failure);
    const bounds = valueBounds(step);
    step.branch.forEach((branch, branchIndex) => {
      const path = ['step', index, 'branch', branchIndex];
      if (!ids.has(branch.next)) problems.push(problem(ivr.file, [...path, 'next'], unknownReference('step', branch.next, ids.keys())));
      for (const key of ['value', 'min', 'max'] as const) {
        const value = branch[key];
        if (value !== undefined && (value < bounds.min || value > bounds.max)) {
          problems.push(problem(ivr.file, [...path, key], `${value} is outside this question's values ${bounds.min}-${bounds.max}`));
        }
      }
    });
    if (!step.scores) return;
    const digits = step.digits ?? Object.keys(step.scores).join('');
    const validKeys = new Set(digits);
    if (validKeys.size !== digits.length) {
      problems.push(problem(ivr.file, ['step', index, 'digits'], `lists a key twice ("${digits}")`));
    }
    for (const key of validKeys) {
      if (step.scores[key] === undefined) {
        problems.push(problem(ivr.file, ['step', index, 'scores'], `key "${key}" is in digits but has no score`));
      }
    }
    for (const key of Object.keys(step.scores)) {
      if (!validKeys.has(key)) {
        problems.push(problem(ivr.file, ['step', index, 'scores', key], `key "${key}" has a score but is not in digits "${digits}"`));
      }
    }
  });
  const headlines = ivr.step.flatMap((step, index) => (step.type === 'collect' && step.headline === true ? [index] : []));
  for (const index of headlines.slice(1)) {
    problems.push(problem(ivr.file, ['step', index, 'headline'], `a survey has at most one headline question (step[${headlines[0]}] is one already)`));
  }
  if (!ivr.step.some((step) => step.type === 'collect' || step.type === 'record')) {
    problems.push(problem(ivr.file, ['step'], 'has no collect or record step, so it can never store an answer'));
  }
  return problems;
}

export function checkEngine(file: string, engine: EngineFile, env: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  // Paths as the operator wrote them: `ari.password_env` under [ari], `ari[1].password_env` under [[ari]].
  const servers = Array.isArray(engine.ari) ? engine.ari.map((server, index) => [['ari', index], server] as const) : [[['ari'], engine.ari] as const];
  for (const [path, { password, password_env }] of servers) {
    if (password === undefined && password_env === undefined) {
      problems.push(problem(file, path, 'set password or password_env (the ARI user\'s password)'));
    }
    if (password_env !== undefined && !env[password_env]) {
      problems.push(problem(file, [...path, 'password_env'], `environment variable ${password_env} is not set`));
    }
  }
  const databasePasswordEnv = engine.database.password_env;
  if (databasePasswordEnv !== undefined && !env[databasePasswordEnv]) {
    problems.push(problem(file, ['database', 'password_env'], `environment variable ${databasePasswordEnv} is not set`));
  }
  const names = new Map<string, number>();
  engine.api_keys.forEach((key, index) => {
    const earlier = names.get(key.name);
    if (earlier !== undefined) {
      problems.push(problem(file, ['api_keys', index, 'name'], `duplicate API key name "${key.name}" (first at api_keys[${earlier}])`));
    } else {
      names.set(key.name, index);
    }
  });
  return problems;
}
