// X-API-Key checked against [[api_keys]]: only SHA-256 digests are configured, compared in constant
// time. Keys are never logged. Each key has a token bucket (per-minute rate limit).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { API_SCOPES } from '../config/schema.js';
import { HttpError } from './errors.js';

export type Scope = (typeof API_SCOPES)[number];

export interface ApiKeyConfig {
  readonly name: string;
  readonly key_sha256: string;
  /** The role's scopes when the key names a role (resolved by the config schema). */
  readonly scopes: readonly Scope[];
  /** Set for role "agent": the one agent whose calls and statistics the key reads. */
  readonly agent_id?: string | undefined;
  readonly rate_limit_per_minute?: number | undefined;
}

interface Principal {
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly limitPerMinute: number;
  /** An agent key's agent: routes serving agent-scoped data narrow everything to it. */
  readonly agentId?: string | undefined;
}

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
  }
}

export class KeyRing {
  private readonly keys: Array<{ digest: Buffer; principal: Principal }>;

  constructor(keys: readonly ApiKeyConfig[], defaultLimitPerMinute: number) {
    this.keys = keys.map((key) => ({
      digest: Buffer.from(key.key_sha256, 'hex'),
      principal: {
        name: key.name,
        scopes: key.scopes,
        limitPerMinute: key.rate_limit_per_minute ?? defaultLimitPerMinute,
        ...(key.agent_id === undefined ? {} : { agentId: key.agent_id }),
      },
    }));
  }

  identify(presented: string): Principal | undefined {
    const digest = createHash('sha256').update(presented).digest();
    let match: Principal | undefined;
    // Compare against every key, so timing says nothing about which (or whether one) matched.
    for (const key of this.keys) if (timingSafeEqual(digest, key.digest)) match = key.principal;
    return match;
  }
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();
  private readonly taken = new Map<string, number>();

  constructor(private readonly nowMs: () => number = () => Date.now()) {}

  /** Tokens taken here per key since this process started (what SharedRateLimits publishes). */
  get takenSoFar(): ReadonlyMap<string, number> {
    return this.taken;
  }

  /**
   * Tokens another engine took under the same key: they come out of this bucket too. The bucket may
   * go below zero (at most a minute's worth): this engine then waits until the whole fleet is back
   * under the limit.
   */
  consume(key: string, tokens: number, perMinute: number): void {
    const bucket = this.refilled(key, perMinute);
    bucket.tokens = Math.max(-perMinute, bucket.tokens - tokens);
  }

  private refilled(key: string, perMinute: number): { tokens: number; updatedMs: number } {
    const now = this.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, updatedMs: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updatedMs) * (perMinute / 60_000));
    bucket.updatedMs = now;
    this.buckets.set(key, bucket);
    return bucket;
  }

  /** Takes one token; returns what is left, or how long until the next token. */
  take(key: string, perMinute: number): { allowed: boolean; remaining: number; retryAfterSeconds: number } {
    const ratePerMs = perMinute / 60_000;
    const bucket = this.refilled(key, perMinute);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.taken.set(key, (this.taken.get(key) ?? 0) + 1);
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
    }
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000)) };
  }
}

export function requireScope(keyRing: KeyRing, limiter: RateLimiter, scope: Scope): RequestHandler {
  return (req, res, next) => {
    const presented = req.get('x-api-key');
    if (!presented) throw new HttpError(401, 'missing X-API-Key header');
    const principal = keyRing.identify(presented);
    if (!principal) throw new HttpError(401, 'invalid API key');
    const verdict = limiter.take(principal.name, principal.limitPerMinute);
    res.set('X-RateLimit-Limit', String(principal.limitPerMinute));
    res.set('X-RateLimit-Remaining', String(verdict.remaining));
    if (!verdict.allowed) {
      res.set('Retry-After', String(verdict.retryAfterSeconds));
      throw new HttpError(429, `rate limit of ${principal.limitPerMinute} requests per minute exceeded for key "${principal.name}"`);
    }
    if (!principal.scopes.includes(scope)) throw new HttpError(403, `API key "${principal.name}" lacks scope ${scope}`);
    res.locals.principal = principal;
    next();
  };
}

/** The agent an agent key is bound to (undefined for every other key); call after requireScope. */
export function agentBinding(res: Response): string | undefined {
  return res.locals.principal?.agentId;
}

/** The 403 for an agent key asking for what is not its own agent's. */
export function notOwnAgent(res: Response): HttpError {
  const principal = res.locals.principal!;
  return new HttpError(403, `API key "${principal.name}" may only read agent "${principal.agentId}"`);
}
