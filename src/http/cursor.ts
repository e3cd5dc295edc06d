// /responses pages after a cursor (keyset pagination): the position of the last item seen,
// (created_at, id), so a deep page costs an index seek, not a scan of every row before it.
import type { RatingPosition } from '../storage/ports.js';

const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeCursor(position: RatingPosition): string {
  return Buffer.from(`${position.createdAt}|${position.id}`).toString('base64url');
}

/** The position a cursor names, or undefined when it is not one this server wrote. */
export function decodeCursor(cursor: string): RatingPosition | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !createdAt || !isInstant(createdAt) || !id || !/^\d{1,15}$/.test(id)) return undefined;
  return { createdAt, id: Number(id) };
}

// The shape alone lets 2026-13-45T99:99:99.999Z through, which PostgreSQL refuses mid-query (a 500):
// a timestamp this server wrote comes back unchanged from a round trip through Date.
function isInstant(text: string): boolean {
  if (!CREATED_AT.test(text)) return false;
  const date = new Date(text);
  return !Number.isNaN(date.getTime()) && date.toISOString() === text;
}
