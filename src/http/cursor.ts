// /responses pages after a cursor (keyset pagination): the position of the last item seen,
// (created_at, id), so a deep page costs an index seek, not a scan of every row before it.
import type { RatingPosition } from '../storage/ports.js';
import { HttpError } from './errors.js';

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

/** A cursor over an audit list paged by descending id (exports, alerts): `<kind>:<id>`, base64url. */
export function encodeIdCursor(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64url');
}

/** The id an id cursor of `kind` names; a cursor this server did not write is the client's mistake (400). */
export function decodeIdCursor(kind: string, cursor: string): number {
  const match = /^[A-Za-z0-9_-]+$/.test(cursor) ? /^([a-z]+):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  if (!match || match[1] !== kind) {
    throw new HttpError(400, 'invalid query: cursor: not a valid cursor (pass next_cursor of the previous page as it is)', {
      issues: [{ path: 'cursor', message: 'not a valid cursor' }],
    });
  }
  return Number(match[2]);
}
