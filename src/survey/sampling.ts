// sample_percent: whether a call is in the surveyed share, decided by its call id alone, so that a
// call handed to Stasis twice (a retry, an adoption after a restart, another engine) gets the same
// answer every time, and every engine agrees without asking each other.
import { createHash } from 'node:crypto';

/** The call's bucket, 0-99: the first 4 bytes of SHA-256(call id), big-endian, mod 100. */
export function sampleBucket(callId: string): number {
  return createHash('sha256').update(callId, 'utf8').digest().readUInt32BE(0) % 100;
}

export function sampledIn(callId: string, percent: number): boolean {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  return sampleBucket(callId) < percent;
}
