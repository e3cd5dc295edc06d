// Caller numbers are stored only as a keyed hash (resurvey_after_hours). A plain SHA-256 of a phone
// number is reversed by hashing every number of that length; without the key that cannot be done.
// Neither the number nor its hash is ever logged.
import { createHmac } from 'node:crypto';

/**
 * What CALLERID(num) gives when the caller withheld or has no number: these are not one person,
 * so none of them is remembered (and every such caller can be surveyed).
 */
const NO_NUMBER = new Set(['', 'anonymous', 'unknown', 'unavailable', 'restricted', 'private', 'withheld']);

/** The number as it is hashed (whitespace removed), or undefined when it names nobody in particular. */
export function callerNumberForHash(number: string | undefined): string | undefined {
  const compact = number?.replace(/\s+/g, '');
  if (compact === undefined || NO_NUMBER.has(compact.toLowerCase())) return undefined;
  return compact;
}

/** Lowercase hex HMAC-SHA256 of the number under the key ([survey] caller_hash_key_env). */
export function hashCallerNumber(key: string, number: string): string {
  return createHmac('sha256', key).update(number, 'utf8').digest('hex');
}
