// Every request input goes through a zod schema; a query parameter given twice is refused by name
// rather than read as an array no schema expects.
import type { z } from 'zod';
import { HttpError, validationError } from './errors.js';

export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.infer<S> {
  if (where === 'query') {
    const repeated = Object.entries(value as Record<string, unknown>).find(([, given]) => Array.isArray(given));
    if (repeated) {
      const message = `${repeated[0]} is given more than once`;
      throw new HttpError(400, `invalid query: ${message}`, { issues: [{ path: repeated[0], message }] });
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}
