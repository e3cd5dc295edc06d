// Turns zod issues and TOML syntax errors into one-line messages an operator can act on:
// `config/queues.toml: queue[1].after_call.csat_ivr: unknown IVR "csat-surve" (known: csat-survey)`.
import type { z } from 'zod';

export type ConfigPath = ReadonlyArray<PropertyKey>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

export function problem(file: string, path: ConfigPath, message: string): string {
  return path.length === 0 ? `${file}: ${message}` : `${file}: ${formatPath(path)}: ${message}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function describeReceived(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a table';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: ConfigPath): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Known keys of the strict object at `path`, read from the schema, for "did you mean" hints. */
function knownKeysAt(schema: z.ZodType, path: ConfigPath, input: unknown): string[] {
  let node: unknown = schema;
  const unwrap = (n: unknown): unknown => {
    let current = n as { def?: Record<string, unknown>; _zod?: { def: Record<string, unknown> } };
    for (let i = 0; i < 8; i++) {
      const def = current?._zod?.def;
      if (!def) return current;
      if (def['type'] === 'object' || def['type'] === 'array' || def['type'] === 'union' || def['type'] === 'record') {
        return current;
      }
      const inner = def['innerType'] ?? def['in'] ?? def['schema'];
      if (!inner) return current;
      current = inner as typeof current;
    }
    return current;
  };
  for (let i = 0; i <= path.length; i++) {
    node = unwrap(node);
    const def = (node as { _zod?: { def: Record<string, unknown> } })?._zod?.def;
    if (!def) return [];
    if (def['type'] === 'union') {
      const tag = valueAt(input, [...path.slice(0, i), 'type']);
      const options = def['options'] as Array<{ _zod: { def: { shape: Record<string, { _zod: { def: { values?: unknown[] } } }> } } }>;
      node = options.find((option) => option._zod.def.shape?.['type']?._zod.def.values?.includes(tag)) ?? options[0];
      node = unwrap(node);
    }
    const current = (node as { _zod?: { def: Record<string, unknown> } })?._zod?.def;
    if (!current) return [];
    if (i === path.length) {
      return current['type'] === 'object' ? Object.keys(current['shape'] as object) : [];
    }
    const key = path[i];
    if (current['type'] === 'object') node = (current['shape'] as Record<PropertyKey, unknown>)[key as string];
    else if (current['type'] === 'array') node = current['element'];
    else return [];
  }
  return [];
}

/** The `type` tags of the discriminated union that `path` (ending in "type") points into. */
function tagOptionsAt(schema: z.ZodType, path: ConfigPath): string[] {
  let node: unknown = schema;
  for (const key of path.slice(0, -1)) {
    let def = (node as { _zod?: { def: Record<string, unknown> } })?._zod?.def;
    while (def && def['innerType']) {
      node = def['innerType'];
      def = (node as { _zod: { def: Record<string, unknown> } })._zod.def;
    }
    if (!def) return [];
    if (def['type'] === 'object') node = (def['shape'] as Record<string, unknown>)[key as string];
    else if (def['type'] === 'array') node = def['element'];
    else return [];
  }
  const def = (node as { _zod?: { def: Record<string, unknown> } })?._zod?.def;
  if (def?.['type'] !== 'union') return [];
  return (def['options'] as Array<{ _zod: { def: { shape: Record<string, { _zod: { def: { values?: unknown[] } } }> } } }>).flatMap(
    (option) => (option._zod.def.shape['type']?._zod.def.values ?? []).map(String),
  );
}

export function describeZodIssues(
  file: string,
  schema: z.ZodType,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
): string[] {
  return issues.map((issue) => {
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(schema, issue.path, input);
        const parts = issue.keys.map((key) => {
          const hint = closest(key, known);
          return hint ? `unknown key "${key}" (did you mean "${hint}"?)` : `unknown key "${key}"`;
        });
        const list = known.length > 0 ? `; known keys: ${known.join(', ')}` : '';
        return problem(file, issue.path, parts.join(', ') + list);
      }
      case 'invalid_type': {
        const received = valueAt(input, issue.path);
        if (received === undefined) return problem(file, issue.path, `is required (${issue.expected})`);
        return problem(file, issue.path, `expected ${issue.expected}, got ${describeReceived(received)}`);
      }
      case 'invalid_union': {
        const received = valueAt(input, issue.path);
        const tagOptions = tagOptionsAt(schema, issue.path);
        if (issue.path.at(-1) === 'type' && typeof received === 'string' && tagOptions.length > 0) {
          const hint = closest(received, tagOptions);
          const suggestion = hint ? `did you mean "${hint}"? ` : '';
          return problem(file, issue.path, `unknown type "${received}" (${suggestion}known: ${tagOptions.join(', ')})`);
        }
        return problem(file, issue.path, `${issue.message} (got ${describeReceived(received)})`);
      }
      default:
        return problem(file, issue.path, issue.message);
    }
  });
}
