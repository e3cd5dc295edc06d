// Rating-link tokens: 256 random bits, base64url (43 characters). The token is the only credential of
// the public rating endpoints, so only its SHA-256 is stored: a copy of the database rates nothing.
import { createHash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;
/** What a token looks like: anything else is unknown without asking the database. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newLinkToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function tokenSha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
