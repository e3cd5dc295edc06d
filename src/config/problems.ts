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

type SchemaDef = Record<string, unknown>;
type TaggedOption = { _zod: { def: { shape: Record<string, { _zod: { def: { values?: unknown[] } } }> } } };

const defOf = (node: unknown): SchemaDef | undefined => (node as { _zod?: { def: SchemaDef } } | undefined)?._zod?.def;

/** Strips wrappers (default, prefault, optional, pipe...) down to an object, array, union or leaf. */
function unwrap(node: unknown): unknown {
  for (let depth = 0; depth < 8; depth++) {
    const def = defOf(node);
    if (!def || ['object', 'array', 'union', 'record'].includes(def['type'] as string)) return node;
    const inner = def['innerType'] ?? def['in'] ?? def['schema'];
    if (!inner) return node;
    node = inner;
  }
  return node;
}

/** The union option whose `type` tag matches what the input has at `path`. */
function optionFor(union: SchemaDef, input: unknown, path: ConfigPath): unknown {
  const tag = valueAt(input, [...path, 'type']);
  const options = union['options'] as unknown[];
  return options.find((option) => (unwrap(option) as TaggedOption)._zod.def.shape?.['type']?._zod.def.values?.includes(tag)) ?? options[0];
}

/**
 * The schema node at `path`, unwrapped. Unions met on the way are resolved by the input's `type`
 * tag; a union at the end is returned as it is.
 */
function schemaAt(schema: z.ZodType, path: ConfigPath, input: unknown): unknown {
  let node = unwrap(schema);
  for (let i = 0; i < path.length; i++) {
    let def = defOf(node);
    if (def?.['type'] === 'union') {
      node = unwrap(optionFor(def, input, path.slice(0, i)));
      def = defOf(node);
    }
    if (def?.['type'] === 'object') node = unwrap((def['shape'] as Record<string, unknown>)[path[i] as string]);
    else if (def?.['type'] === 'array') node = unwrap(def['element']);
    else return undefined;
  }
  return node;
}

/** Known keys of the strict object at `path`, read from the schema, for "did you mean" hints. */
function knownKeysAt(schema: z.ZodType, path: ConfigPath, input: unknown): string[] {
  let def = defOf(schemaAt(schema, path, input));
  if (def?.['type'] === 'union') def = defOf(unwrap(optionFor(def, input, path)));
  return def?.['type'] === 'object' ? Object.keys(def['shape'] as object) : [];
}

/** The `type` tags of the discriminated union that `path` (ending in "type") points into. */
function tagOptionsAt(schema: z.ZodType, path: ConfigPath, input: unknown): string[] {
  const def = defOf(schemaAt(schema, path.slice(0, -1), input));
  if (def?.['type'] !== 'union') return [];
  // Options with a refinement or transform (a pipe) are unwrapped to their object first.
  return (def['options'] as unknown[]).flatMap((option) => ((unwrap(option) as TaggedOption)._zod.def.shape?.['type']?._zod.def.values ?? []).map(String));
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
        const tagOptions = tagOptionsAt(schema, issue.path, input);
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
