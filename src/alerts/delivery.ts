// The alert delivery worker: takes due rows from the outbox (src/db/alert-outbox.ts) and POSTs each to
// its webhook, signed (signing.ts), until the receiver takes it or [alerts] max_age_hours runs out.
//
// At-least-once: a row is marked only after its POST ended, so an engine killed in between leaves it
// leased; the lease runs out and the row is sent again (same Idempotency-Key: the receiver drops the
// repeat). Engines sharing PostgreSQL never hold the same row at once (claimDue).
//
// A dead receiver slows nothing else: each destination has its own in-flight limit and its own
// circuit breaker, and rows are claimed per destination, only as many as it has free slots, so a
// hanging webhook holds its own slots and nobody else's.
import { linkDeliveryExpired, SURVEY_LINK } from '../links/link-fallback.js';
import type { Logger } from '../log.js';
import type { AlertOutboxStore, AlertRecord } from '../storage/ports.js';
import { deadlineSignal } from '../deadline-signal.js';
import { deliveryHeaders } from './signing.js';

/** Where one destination's alerts go (src/config/alerts.ts's AlertDestination fits). */
export interface DeliveryDestination {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Requests in flight to it at most; default 4. */
  readonly concurrency?: number;
}

/** Counters for /metrics, by destination name (from config: a bounded set of labels). */
export interface AlertDeliveryMetrics {
  onDelivered?(destination: string): void;
  onRetried?(destination: string): void;
  onDead?(destination: string): void;
  onBreakerOpened?(destination: string): void;
}

export interface AlertDeliveryOptions {
  readonly store: AlertOutboxStore;
  readonly destinations: ReadonlyMap<string, DeliveryDestination>;
  /** This engine's id: the owner of the rows it leases. */
  readonly owner: string;
  /** How long a delivery is retried before it becomes a dead letter; default 24 h. */
  readonly maxAgeMs?: number;
  /** How often the outbox is asked for due rows when nothing else wakes the worker; default 1000 ms. */
  readonly pollMs?: number;
  /** Full jitter: a retry waits a random time in [0, min(capMs, baseMs * 2^(attempts-1))]. */
  readonly backoff?: { readonly baseMs?: number; readonly capMs?: number };
  /** After `failures` failures in a row a destination is left alone for `openMs`, then tried once. */
  readonly breaker?: { readonly failures?: number; readonly openMs?: number };
  /** How long a claimed row stays this engine's; default the destination's timeout plus 30 s. */
  readonly leaseMs?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
  readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: AlertDeliveryMetrics;
  /** Whether a rating link is still worth texting (the call not rated meanwhile); none: always. */
  readonly linkStillWanted?: (callId: string) => Promise<boolean>;
}

const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
const DEFAULT_POLL_MS = 1000;
const DEFAULT_BASE_MS = 1000;
const DEFAULT_CAP_MS = 10 * 60_000;
const DEFAULT_BREAKER_FAILURES = 5;
const DEFAULT_BREAKER_OPEN_MS = 30_000;
const DEFAULT_CONCURRENCY = 4;
const LEASE_MARGIN_MS = 30_000;
const DEFAULT_STOP_GRACE_MS = 10_000;

/** How one POST ended. */
type Attempt =
  | { readonly kind: 'delivered'; readonly status: number }
  /** The receiver refused it for good: sending it again cannot help. */
  | { readonly kind: 'refused'; readonly error: string }
  /** Worth another try: the receiver is down, slow, overloaded or failing. */
  | { readonly kind: 'failed'; readonly error: string; readonly retryAfterMs?: number | undefined };

interface DestinationState {
  inFlight: number;
  consecutiveFailures: number;
  /** Epoch ms until which the breaker is open; meaningful once failures reached the threshold. */
  openUntil: number;
}

export class AlertDelivery {
  private destinations: ReadonlyMap<string, DeliveryDestination>;
  private readonly states = new Map<string, DestinationState>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = new AbortController();
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly maxAgeMs: number;
  private readonly pollMs: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly breakerFailures: number;
  private readonly breakerOpenMs: number;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private currentTick: Promise<void> | undefined;
  private tickAgain = false;

  constructor(private readonly options: AlertDeliveryOptions) {
    this.destinations = options.destinations;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.baseMs = options.backoff?.baseMs ?? DEFAULT_BASE_MS;
    this.capMs = options.backoff?.capMs ?? DEFAULT_CAP_MS;
    this.breakerFailures = options.breaker?.failures ?? DEFAULT_BREAKER_FAILURES;
    this.breakerOpenMs = options.breaker?.openMs ?? DEFAULT_BREAKER_OPEN_MS;
  }

  /**
   * A config reload: rows of destinations no longer configured stay pending (never claimed) until
   * a destination of that name is back; deliveries in flight finish with the config they started with.
   */
  setDestinations(destinations: ReadonlyMap<string, DeliveryDestination>): void {
    this.destinations = destinations;
    for (const name of this.states.keys()) if (!destinations.has(name) && this.states.get(name)!.inFlight === 0) this.states.delete(name);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.schedule(0);
  }

  /** Stops claiming; waits up to `graceMs` for deliveries in flight, then aborts them (their leases run out). */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    // A claim under way finishes first: the rows it takes are then in flight, and waited for below.
    await this.currentTick;
    if (this.inFlight.size > 0) {
      let timeout: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timeout = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
      clearTimeout(timeout);
    }
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  /** One round: claims what every destination has room for, delivers it, and resolves when all are marked. Returns how many rows it took. */
  async deliverOnce(): Promise<number> {
    const started = await this.claimRound();
    await Promise.all(started);
    return started.length;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.ticking) {
      this.tickAgain ||= delayMs === 0;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    // The engine's servers keep the process alive; a pending poll must not hold a finished one.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    this.tickAgain = false;
    this.currentTick = this.claimRound().then(() => undefined);
    try {
      await this.currentTick;
    } finally {
      this.ticking = false;
      this.currentTick = undefined;
    }
    this.schedule(this.tickAgain ? 0 : this.pollMs);
  }

  private stateOf(name: string): DestinationState {
    let state = this.states.get(name);
    if (!state) this.states.set(name, (state = { inFlight: 0, consecutiveFailures: 0, openUntil: 0 }));
    return state;
  }

  /** How many more rows `name` may take now: none while its breaker is open, one trial when half-open. */
  private freeSlots(name: string, destination: DeliveryDestination, nowMs: number): number {
    const state = this.stateOf(name);
    if (state.consecutiveFailures >= this.breakerFailures) {
      if (nowMs < state.openUntil) return 0;
      return state.inFlight === 0 ? 1 : 0;
    }
    return Math.max(0, (destination.concurrency ?? DEFAULT_CONCURRENCY) - state.inFlight);
  }

  private async claimRound(): Promise<Promise<void>[]> {
    const started: Promise<void>[] = [];
    for (const [name, destination] of this.destinations) {
      const now = this.now();
      const slots = this.freeSlots(name, destination, now.getTime());
      if (slots === 0) continue;
      let rows: AlertRecord[];
      try {
        rows = await this.options.store.claimDue(this.options.owner, now.toISOString(), slots, this.options.leaseMs ?? destination.timeoutMs + LEASE_MARGIN_MS, [name]);
      } catch (err) {
        // The database is away: rows stay pending, the next round asks again.
        this.options.log.warn({ destination: name, err: errorName(err) }, 'alert outbox: claiming due deliveries failed');
        continue;
      }
      for (const row of rows) started.push(this.track(this.deliver(row, name, destination)));
    }
    return started;
  }

  private track(delivery: Promise<void>): Promise<void> {
    this.inFlight.add(delivery);
    void delivery.finally(() => {
      this.inFlight.delete(delivery);
      // A free slot: the destination's backlog need not wait for the next poll.
      this.schedule(0);
    });
    return delivery;
  }

  private async deliver(row: AlertRecord, name: string, destination: DeliveryDestination): Promise<void> {
    const state = this.stateOf(name);
    state.inFlight++;
    let attempt: Attempt;
    try {
      attempt = await this.post(row, destination);
    } finally {
      state.inFlight--;
    }
    const now = this.now();
    this.recordBreaker(name, state, attempt, now.getTime());
    try {
      await this.settle(row, name, attempt, now);
    } catch (err) {
      // Not marked: the lease runs out and the row is sent again (the receiver drops the repeat).
      this.options.log.warn({ alert_id: row.id, destination: name, err: errorName(err) }, 'alert outbox: recording a delivery attempt failed');
    }
  }

  private async settle(row: AlertRecord, name: string, attempt: Attempt, now: Date): Promise<void> {
    const { store, owner, log, metrics } = this.options;
    const at = now.toISOString();
    let held: boolean;
    if (attempt.kind === 'delivered') {
      held = await store.markDelivered(row.id, owner, at);
      if (held) metrics?.onDelivered?.(name);
      log.info({ alert_id: row.id, destination: name, status: 'delivered', http_status: attempt.status, attempts: row.attempts + 1 }, 'alert delivered');
    } else {
      const deadline = Date.parse(row.createdAt) + this.maxAgeMs;
      if (attempt.kind === 'refused' || now.getTime() >= deadline) {
        held = await store.markDead(row.id, owner, attempt.error, at);
        if (held) metrics?.onDead?.(name);
        log.warn({ alert_id: row.id, destination: name, status: 'dead', error: attempt.error, attempts: row.attempts + 1 }, attempt.kind === 'refused' ? 'alert refused by its receiver: dead letter' : 'alert undeliverable within max age: dead letter');
      } else {
        const next = Math.min(now.getTime() + this.retryDelayMs(row.attempts + 1, attempt.retryAfterMs), deadline);
        held = await store.markRetry(row.id, owner, new Date(next).toISOString(), attempt.error, at);
        if (held) metrics?.onRetried?.(name);
        log.warn({ alert_id: row.id, destination: name, status: 'retry', error: attempt.error, attempts: row.attempts + 1, next_attempt_at: new Date(next).toISOString() }, 'alert delivery failed: will retry');
      }
    }
    if (!held) log.warn({ alert_id: row.id, destination: name }, 'alert outbox: lease lost before the attempt was recorded (another engine has the row)');
  }

  /** Full jitter on an exponential ceiling; a receiver's Retry-After is honoured up to the cap. */
  private retryDelayMs(attempts: number, retryAfterMs: number | undefined): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(attempts - 1, 40));
    const jittered = Math.floor(this.random() * ceiling);
    return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, this.capMs));
  }

  private recordBreaker(name: string, state: DestinationState, attempt: Attempt, nowMs: number): void {
    // A refusal is an answer: the receiver is up.
    if (attempt.kind !== 'failed') {
      state.consecutiveFailures = 0;
      return;
    }
    state.consecutiveFailures++;
    if (state.consecutiveFailures >= this.breakerFailures) {
      const wasOpen = state.openUntil > nowMs;
      state.openUntil = nowMs + this.breakerOpenMs;
      if (!wasOpen) {
        this.options.metrics?.onBreakerOpened?.(name);
        this.options.log.warn({ destination: name, failures: state.consecutiveFailures, open_ms: this.breakerOpenMs }, 'alert destination failing: circuit breaker open');
      }
    }
  }

  private async post(row: AlertRecord, destination: DeliveryDestination): Promise<Attempt> {
    // A rating link past its expiry (a receiver down for longer than link_expiry_days, a dead letter
    // retried late) is not sent: the caller would get a link that only says "expired".
    if (linkDeliveryExpired(row.event, row.payload, this.now())) return { kind: 'refused', error: 'rating link expired before delivery' };
    // A link retried late (a dead letter sent again) for a call rated meanwhile would only say "already rated".
    if (row.event === SURVEY_LINK && row.callId !== null && this.options.linkStillWanted) {
      try {
        if (!(await this.options.linkStillWanted(row.callId))) return { kind: 'refused', error: 'rating link not sent: the call was rated meanwhile' };
      } catch (err) {
        return { kind: 'failed', error: `could not check the link: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    const headers = deliveryHeaders(destination.secret, destination.headers, { event: row.event, idempotencyKey: row.idempotencyKey, body: row.payload }, Math.floor(this.now().getTime() / 1000));
    let response: Response;
    const deadline = deadlineSignal(destination.timeoutMs, this.stopping.signal);
    try {
      response = await fetch(destination.url, {
        method: 'POST',
        headers,
        body: row.payload,
        // A redirect is not a delivery: following it would send caller data somewhere not configured.
        redirect: 'manual',
        signal: deadline.signal,
      });
    } catch (err) {
      return { kind: 'failed', error: describeRequestError(err, destination.timeoutMs) };
    } finally {
      deadline.clear();
    }
    // The body is never read (nor stored, nor logged): free the connection.
    await response.body?.cancel().catch(() => undefined);
    return classify(response, this.now().getTime());
  }
}

function classify(response: Response, nowMs: number): Attempt {
  const status = response.status;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const error = `HTTP ${status}`;
  // 410 Gone: the receiver says never again.
  if (status === 410) return { kind: 'refused', error };
  if (status === 408 || status === 429 || status === 503) return { kind: 'failed', error, retryAfterMs: retryAfterMs(response.headers.get('retry-after'), nowMs) };
  // Our request is refused (bad signature, unknown route...): the same bytes will be refused again.
  if (status >= 400 && status < 500) return { kind: 'refused', error };
  if (status >= 300 && status < 400) return { kind: 'failed', error: `${error} redirect not followed` };
  return { kind: 'failed', error };
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * Our own words for a failed request, bounded: the timeout, or the socket's syscall and code
 * ('connect ECONNREFUSED'). Never fetch's message, which may quote the URL and its query.
 */
function describeRequestError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  if (err instanceof Error && err.name === 'AbortError') return 'aborted: engine stopping';
  const cause = err instanceof Error ? (err.cause as { code?: unknown; syscall?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code.slice(0, 40) : undefined;
  const syscall = typeof cause?.syscall === 'string' ? cause.syscall.slice(0, 20) : 'request';
  if (code) return `${syscall} ${code}`;
  return `request failed (${err instanceof Error ? err.name.slice(0, 40) : 'unknown'})`;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200);
}
