// The zod schemas here are the single source of every config type (z.infer below).
// Shape errors come from these; cross-file references are checked in cross-check.ts.
import { validate as isValidCron } from 'node-cron';
import { z } from 'zod';
import { isPostgresUrl } from './database-target.js';
import { identifierProblem } from '../identifiers.js';
import { closest } from './problems.js';
import { SipSchema } from './sip.js';
import { KIND_RANGES, QUESTION_KINDS } from './questions.js';

const isIanaTimeZone = (name: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

const nonEmpty = z.string().trim().min(1, 'must not be empty');

// ---------------------------------------------------------------- engine.toml

const HttpSchema = z.strictObject({
  host: nonEmpty.default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
});

// A server's name is a metric label value and a survey_outcome column value: a short plain word.
export const ARI_SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** The name of the only server when [ari] (or a single [[ari]] entry) gives none. */
export const DEFAULT_ARI_SERVER_NAME = 'asterisk';

const AriServerSchema = z
  .strictObject({
    // Required when there are several [[ari]] entries (checked in cross-check.ts, which knows how many).
    name: z.string().regex(ARI_SERVER_NAME, 'must be 1 to 64 letters, digits, "_" or "-" (it names the server in metrics, /readyz and survey_outcome)').optional(),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).default('http://127.0.0.1:8088'),
    username: nonEmpty.default('csat'),
    password: z.string().min(1).optional(),
    password_env: nonEmpty.optional(),
    app: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a plain Stasis application name').default('csat'),
    // ari-client gives up after 10 tries; we keep trying forever, backing off up to this cap.
    reconnect_max_delay_ms: z.number().int().min(100).max(300_000).default(15_000),
    // A playback that never reports PlaybackFinished (bad media scheme) must not hold a caller in silence.
    request_timeout_ms: z.number().int().min(100).max(60_000).default(5_000),
    // Concurrent REST calls to Asterisk (a keep-alive pool); keep below http.conf sessionlimit.
    max_concurrent_requests: z.number().int().min(1).max(1024).default(64),
    // How REST requests reach Asterisk: "websocket" sends them over the event stream's WebSocket
    // (Asterisk 20.13, 21.8, 22.3 and later; far cheaper per request), "http" over a keep-alive pool,
    // "auto" the WebSocket where Asterisk offers it.
    rest_transport: z.enum(['auto', 'websocket', 'http']).default('auto'),
    // Overload: with this many REST calls sent to Asterisk and unanswered for longer than
    // admission_max_latency_ms, a new caller goes back to the dialplan without a survey (skipped/
    // overloaded). Work for callers not yet in a survey never holds more connections than this, so the
    // rest of max_concurrent_requests stays free for running surveys. Default: three quarters of it.
    admission_max_in_flight: z.number().int().min(1).max(1024).optional(),
    // Overload: with Asterisk's recent REST answers this slow on average, or admission_max_in_flight
    // requests unanswered for this long, new callers are refused the same way. Default: a quarter of
    // request_timeout_ms, early enough that running surveys' requests are still answered in time.
    admission_max_latency_ms: z.number().int().min(1).max(60_000).optional(),
    // The SIP front door ([sip]) sends callers to this Asterisk at this URI; servers without one get
    // only their own dialplan's callers. The media server's dialplan turns the X-CSAT-* headers into
    // Stasis() args (asterisk-dev/conf/extensions.conf, [csat-frontdoor]).
    sip_uri: z
      .string()
      // sip: only: drachtio-server relays over UDP/TCP; a sips: URI needs TLS it may not have, and
      // drachtio-srf would answer the caller 500 itself instead of trying the next server.
      .regex(/^sip:[^\s<>";?]+@[^\s<>"?]+$/, 'must be a sip: URI with a user part, e.g. "sip:csat-survey@10.0.0.5:5060"')
      .optional(),
    // The front door sends this server no more callers while it has this many surveys live (503 when every server is full).
    max_live_surveys: z.number().int().min(1).max(100_000).optional(),
  })
  .refine((ari) => !(ari.password !== undefined && ari.password_env !== undefined), {
    message: 'set either password or password_env, not both',
  })
  .refine((ari) => ari.admission_max_in_flight === undefined || ari.admission_max_in_flight <= ari.max_concurrent_requests, {
    path: ['admission_max_in_flight'],
    message: 'must be at most max_concurrent_requests (the connections above it are kept for running surveys)',
  })
  .refine((ari) => ari.admission_max_latency_ms === undefined || ari.admission_max_latency_ms < ari.request_timeout_ms, {
    path: ['admission_max_latency_ms'],
    message: 'must be below request_timeout_ms (new callers must be refused before running surveys time out)',
  })
  .transform((ari) => ({
    ...ari,
    admission_max_in_flight: ari.admission_max_in_flight ?? Math.max(1, Math.floor((ari.max_concurrent_requests * 3) / 4)),
    admission_max_latency_ms: ari.admission_max_latency_ms ?? Math.round(ari.request_timeout_ms / 4),
  }));

/** The same Asterisk and application twice would hand every caller to two surveys. */
const serverKey = (server: { url: string; app: string }): string => {
  try {
    return `${new URL(server.url).href} ${server.app}`;
  } catch {
    return `${server.url} ${server.app}`;
  }
};

const AriServerListSchema = z
  .array(AriServerSchema)
  .min(1, 'needs at least one [[ari]] entry')
  .superRefine((servers, ctx) => {
    const firstByName = new Map<string, number>();
    const firstByTarget = new Map<string, number>();
    servers.forEach((server, index) => {
      if (server.name === undefined) {
        // Only one server may go unnamed: its name is a label and a column value, never a guess.
        if (servers.length > 1) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: 'is required when there are several [[ari]] entries' });
      } else {
        const earlier = firstByName.get(server.name);
        if (earlier === undefined) firstByName.set(server.name, index);
        else ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate server name "${server.name}" (first at ari[${earlier}])` });
      }
      const target = serverKey(server);
      const earlier = firstByTarget.get(target);
      if (earlier === undefined) firstByTarget.set(target, index);
      else ctx.addIssue({ code: 'custom', path: [index], message: `same url and app as ari[${earlier}] (each caller would get two surveys)` });
    });
  });

const DatabaseSchema = z
  .strictObject({
    url: z
      .string()
      .refine((url) => /^sqlite:.+/.test(url) || isPostgresUrl(url), {
        message: 'must be sqlite:PATH, sqlite::memory: or postgres://USER@HOST[:PORT]/DATABASE',
      })
      .default('sqlite:data/cc_csat.db'),
    // PostgreSQL only: the environment variable holding the password (kept out of the file and out of
    // the URL, which shows in logs without it). A password in the URL works too.
    password_env: nonEmpty.optional(),
    // PostgreSQL only: connections this engine keeps open at most.
    pool_max: z.number().int().min(2).max(200).default(10),
    // PostgreSQL only: the longest a rating, an outcome or an API read may run on the server before it
    // is cancelled and answered 503 (a stalled server, a lock held elsewhere). Result service runs and
    // migrations are exempt: they take as long as the data needs. 0: no limit, and nothing is sent
    // (a pooler that refuses start-up parameters). It cannot cut a COMMIT waiting for a synchronous
    // standby: PostgreSQL ends that wait with a warning and the commit stands.
    statement_timeout_ms: z.union([z.literal(0), z.number().int().min(1_000).max(3_600_000)]).default(30_000),
    // A write blocked by another process's lock (cc-csat aggregate --full, a sqlite3 shell) waits this
    // long, asynchronously: live calls keep being served. Then the API answers 503 and the IVR says goodbye.
    lock_wait_ms: z.number().int().min(0).max(60_000).default(5_000),
  })
  .refine((database) => database.password_env === undefined || isPostgresUrl(database.url), {
    path: ['password_env'],
    message: 'only a postgres:// url takes a password',
  });

const ResultsSchema = z.strictObject({
  schedule: z
    .string()
    .refine((expr) => isValidCron(expr), { message: 'not a valid cron expression' })
    .default('*/5 * * * *'),
  timezone: z
    .string()
    .refine(isIanaTimeZone, { message: 'not an IANA time zone name (e.g. "Europe/Paris")' })
    .default('UTC'),
  min_ratings_to_rank: z.number().int().min(1).default(1),
  trend_days: z.number().int().min(1).max(366).default(30),
});

const PathsSchema = z.strictObject({
  queues: nonEmpty.default('config/queues.toml'),
  // Optional file: absent means no teams.
  teams: nonEmpty.default('config/teams.toml'),
  ivr_dir: nonEmpty.default('ivr'),
});

const SurveySchema = z.strictObject({
  // On SIGTERM, live surveys get this long to finish before the process exits anyway.
  shutdown_grace_ms: z.number().int().min(0).max(600_000).default(30_000),
  // The environment variable holding the key of the hash caller numbers are stored as (queues with
  // resurvey_after_hours); at least 16 characters. Changing the key forgets who was surveyed.
  caller_hash_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('CC_CSAT_CALLER_HASH_KEY'),
  // Spoken comments older than this many days are deleted from Asterisk by the result service; 0 keeps them.
  recording_retention_days: z.number().int().min(0).max(36_500).default(90),
});

const LogSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const API_SCOPES = ['csat:read', 'csat:write', 'csat:export', 'csat:recordings', 'csat:admin'] as const;

/** Named sets of scopes, so a key's rights read as a job ("reporting"), not a list to get right. */
export const API_ROLES = {
  admin: ['csat:read', 'csat:write', 'csat:export', 'csat:recordings', 'csat:admin'],
  supervisor: ['csat:read', 'csat:export', 'csat:recordings'],
  reporting: ['csat:read', 'csat:export'],
  // Bound to one agent_id: sees only that agent's calls and statistics.
  agent: ['csat:read', 'csat:recordings'],
} as const satisfies Record<string, readonly (typeof API_SCOPES)[number][]>;
export type ApiRole = keyof typeof API_ROLES;
const ROLE_NAMES = Object.keys(API_ROLES) as [ApiRole, ...ApiRole[]];

const ApiKeySchema = z
  .strictObject({
    name: nonEmpty,
    key_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be the lowercase hex SHA-256 of the key (64 characters)'),
    role: z.enum(ROLE_NAMES, { error: `must be one of ${ROLE_NAMES.join(', ')}` }).optional(),
    scopes: z.array(z.enum(API_SCOPES)).min(1).optional(),
    // The agent (MEMBERNAME) an agent key is bound to: the same rule as agent ids the API accepts.
    agent_id: z
      .string()
      .superRefine((value, ctx) => {
        const problem = identifierProblem(value, 'agent_id');
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    rate_limit_per_minute: z.number().int().min(1).optional(),
  })
  .superRefine((key, ctx) => {
    const named = `API key "${key.name}"`;
    if (key.role !== undefined && key.scopes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['scopes'], message: `${named}: set either role or scopes, not both` });
    } else if (key.role === undefined && key.scopes === undefined) {
      ctx.addIssue({ code: 'custom', path: ['role'], message: `${named}: needs role (${ROLE_NAMES.join(', ')}) or scopes` });
    }
    if (key.role === 'agent' && key.agent_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['agent_id'], message: `${named}: is required with role = "agent" (the agent whose calls the key may read)` });
    }
    if (key.agent_id !== undefined && key.role !== 'agent') {
      ctx.addIssue({ code: 'custom', path: ['agent_id'], message: `${named}: only a key with role = "agent" is bound to an agent` });
    }
  })
  .transform(({ scopes, ...key }) => ({ ...key, scopes: scopes ?? (key.role ? [...API_ROLES[key.role]] : []) }));

const EngineIdentitySchema = z.strictObject({
  // Names this engine in survey claims (and, on PostgreSQL, beside other engines). Stable across
  // restarts, so a restarted engine takes back the callers it was surveying at once; unique among the
  // engines sharing a database. Default: this host's name and [http] port.
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits, ".", "_", ":" and "-", at most 64')
    .optional(),
});

// ---------------------------------------------------------------- [alerts] (engine.toml)

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const alertName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-", at most 64');
// Header names a receiver may want (a tenant, a token scheme); never ones we set ourselves.
const RESERVED_ALERT_HEADERS = ['content-type', 'content-length', 'host', 'x-csat-signature', 'x-csat-event', 'idempotency-key'];

/** A webhook that alerts are POSTed to. The secret signs every delivery; it is read from the environment. */
const AlertDestinationSchema = z.strictObject({
  name: alertName,
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  secret_env: envName,
  timeout_ms: z.number().int().min(100).max(60_000).default(5_000),
  concurrency: z.number().int().min(1).max(64).default(4),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name'), z.string().max(1024))
    .default({})
    .superRefine((headers, ctx) => {
      for (const name of Object.keys(headers)) {
        if (RESERVED_ALERT_HEADERS.includes(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: `${name} is set by cc-csat on every delivery` });
      }
    }),
});

const ruleBase = {
  name: alertName,
  destination: alertName,
  /** Queues the rule watches; every queue when absent. */
  queues: z.array(nonEmpty).min(1).optional(),
};

const thresholdFields = {
  kind: z.enum(['csat', 'nps', 'ces', 'yes_no', 'scale']).optional(),
  question: nonEmpty.optional(),
  at_most: z.number().int().optional(),
  at_least: z.number().int().optional(),
  equals: z.number().int().optional(),
};

function checkThreshold(rule: { name: string; kind?: string | undefined; question?: string | undefined; at_most?: number | undefined; at_least?: number | undefined; equals?: number | undefined }, ctx: z.RefinementCtx): void {
  if ((rule.kind === undefined) === (rule.question === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['kind'], message: `alert rule "${rule.name}": set kind or question (one of them)` });
  }
  const bounds = [rule.at_most, rule.at_least, rule.equals].filter((bound) => bound !== undefined).length;
  if (bounds !== 1) ctx.addIssue({ code: 'custom', path: ['at_most'], message: `alert rule "${rule.name}": set exactly one of at_most, at_least, equals` });
}

/** An answer at or past a threshold: `kind` (every question of that kind) or `question` (one question id). */
const AnswerRuleSchema = z.strictObject({ ...ruleBase, type: z.literal('answer'), ...thresholdFields }).superRefine(checkThreshold);

/**
 * A caller who hung up during the survey (a question left unanswered) after a first answer at or past
 * the threshold (csat <= 2, then gone): fired as the survey ends, with the answers given.
 */
const AbandonedRuleSchema = z.strictObject({ ...ruleBase, type: z.literal('abandoned'), ...thresholdFields }).superRefine(checkThreshold);

/** A spoken comment left by the caller. */
const CommentRuleSchema = z.strictObject({ ...ruleBase, type: z.literal('comment') });

export const AlertRuleSchema = z.discriminatedUnion('type', [AnswerRuleSchema, CommentRuleSchema, AbandonedRuleSchema]);
export type AlertRule = z.infer<typeof AlertRuleSchema>;
export type AlertDestinationConfig = z.infer<typeof AlertDestinationSchema>;

const AlertsSchema = z.strictObject({
  /** How long a delivery is retried before it becomes a dead letter. */
  max_age_hours: z.number().min(0.01).max(24 * 30).default(24),
  /** Delivered rows are kept this long (cc-csat alerts show, GET /cc/csat/alerts), then deleted. */
  keep_delivered_days: z.number().int().min(1).max(3650).default(30),
  /** Where supervisors reach this engine's API (https://csat.example.com): recording links in alerts are absolute then. */
  public_url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .superRefine((value, ctx) => {
      // Links are built by appending /cc/csat/...: a query or fragment would swallow the path, and
      // credentials would be texted to callers.
      const url = new URL(value);
      if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not have a query (?...) or fragment (#...): links are built by appending /cc/csat/...' });
      if (url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', message: 'must not carry credentials: it is sent to callers in their links' });
      if (/\s/.test(value)) ctx.addIssue({ code: 'custom', message: 'must not contain spaces' });
    })
    .optional(),
  destination: z.array(AlertDestinationSchema).default([]),
  rule: z.array(AlertRuleSchema).default([]),
});

export const EngineFileSchema = z.strictObject({
  engine: EngineIdentitySchema.prefault({}),
  http: HttpSchema.prefault({}),
  // One Asterisk server as a table ([ari]), or several as an array of tables ([[ari]]), each with a name.
  ari: z
    .union([AriServerSchema, AriServerListSchema], {
      error: 'must be a table ([ari]) or an array of tables ([[ari]])',
    })
    .prefault({}),
  database: DatabaseSchema.prefault({}),
  results: ResultsSchema.prefault({}),
  paths: PathsSchema.prefault({}),
  survey: SurveySchema.prefault({}),
  log: LogSchema.prefault({}),
  api: z
    .strictObject({
      rate_limit_per_minute: z.number().int().min(1).default(300),
      // A POST naming a queue not in queues.toml is refused (400) unless this is true: a typo would
      // otherwise become a queue of its own in every statistic.
      allow_unknown_queues: z.boolean().default(false),
    })
    .prefault({}),
  api_keys: z.array(ApiKeySchema).default([]),
  alerts: AlertsSchema.prefault({}),
  // The SIP front door (README "Surveys for any PBX"): absent, off.
  sip: SipSchema.optional(),
  // /metrics is served on the API port unless a port of its own is set (e.g. to keep it off a public interface).
  metrics: z
    .strictObject({
      host: nonEmpty.default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).optional(),
    })
    .prefault({}),
});
export type EngineFile = z.infer<typeof EngineFileSchema>;
/** One Asterisk server's settings: the [ari] table, or one [[ari]] entry. */
export type AriServerConfig = z.infer<typeof AriServerSchema>;

// ---------------------------------------------------------------- queues.toml

// A language as Asterisk names its sounds folders (sounds/<language>/...): "en", "fr", "fr_CA".
const languageCode = z
  .string()
  .regex(/^[a-z]{2,3}(?:_[A-Za-z0-9]{2,8})*$/, 'must be a language code as Asterisk names its sounds folders, e.g. "en", "fr" or "fr_CA"');

export const QueueSchema = z.strictObject({
  name: nonEmpty,
  after_call: z
    .strictObject({
      csat_enabled: z.boolean().default(false),
      csat_ivr: nonEmpty.optional(),
      // Who gets surveyed (src/survey/eligibility.ts); each refusal is a skipped outcome with its reason.
      // Agents (MEMBERNAME) whose callers are never surveyed: trainees, supervisors.
      exclude_agents: z.array(nonEmpty).default([]),
      // Share of calls surveyed, decided by the call id: a retried call gets the same answer.
      sample_percent: z.number().int('must be a whole number of percent').min(0).max(100).default(100),
      // A caller number (CALLERID(num)) surveyed within this many hours is not surveyed again. Needs
      // [survey] caller_hash_key_env: numbers are stored only as a keyed hash.
      resurvey_after_hours: z.number().positive('must be more than 0').max(8_760, 'must be at most 8760 (a year)').optional(),
      // Only callers whose conversation with the agent lasted this long (the dialplan's
      // CSAT_TALK_SECONDS: README "Who gets surveyed").
      min_talk_seconds: z.number().int().min(1).max(86_400).optional(),
      // The queue's default language (README "Languages"): callers whose channel language is not
      // offered hear it, and a prompt missing in a caller's language plays in it.
      language: languageCode.default('en'),
      // The languages offered: a caller whose CHANNEL(language) is one of them hears the survey in it.
      // Default: only `language`.
      languages: z.array(languageCode).min(1, 'needs at least one language').optional(),
    })
    .superRefine((afterCall, ctx) => {
      const offered = afterCall.languages;
      if (!offered) return;
      if (!offered.includes(afterCall.language)) {
        ctx.addIssue({ code: 'custom', path: ['languages'], message: `must include the queue's language "${afterCall.language}" (its prompts are the fallback)` });
      }
      const twice = offered.find((code, i) => offered.indexOf(code) !== i);
      if (twice) ctx.addIssue({ code: 'custom', path: ['languages'], message: `lists "${twice}" twice` });
    })
    .prefault({}),
  // A rating link for callers who left before rating (README "Rating links"): sent through an
  // [[alerts.destination]] (the contact center's SMS or email sender) as a survey.link event.
  link_fallback: z
    .strictObject({
      destination: alertName,
      // Which endings get a link; declined only if asked for (a caller who said no may mean it).
      on: z
        .array(z.enum(['abandoned', 'no_input', 'invalid', 'declined']))
        .min(1, 'needs at least one ending')
        .default(['abandoned', 'no_input']),
      link_expiry_days: z.number().int().min(1).max(90).default(7),
    })
    .optional(),
});
export type QueueConfig = z.infer<typeof QueueSchema>;
export type LinkFallbackConfig = NonNullable<QueueConfig['link_fallback']>;

export const QueuesFileSchema = z.strictObject({
  queue: z.array(QueueSchema).default([]),
});

// ---------------------------------------------------------------- ivr/*.toml

// Asterisk media URI schemes a survey may play. Anything else is refused at boot,
// because Asterisk accepts an unknown scheme with 201 and then never finishes it.
const MEDIA_URI = /^(sound|digits|number|characters|recording|tone):[^\s,]+$/;

// What a confirm step replaces with the caller's key and its score (src/ivr/steps/confirm.ts). Any
// other text in braces, or a placeholder anywhere else, would reach Asterisk as it is: a caller
// hears nothing, or "{digt}" spelled out, and ops find out from a complaint, not at check-config.
export const CONFIRM_PLACEHOLDERS = ['{digit}', '{score}'] as const;

/** Each "{...}" in a media URI, and any brace left unpaired. */
const bracedParts = (uri: string): string[] => uri.match(/\{[^{}]*\}?|\}/g) ?? [];

function unknownPlaceholder(part: string): string {
  const hint = closest(part, CONFIRM_PLACEHOLDERS);
  return `unknown placeholder ${part} (${hint ? `did you mean ${hint}? ` : ''}known: ${CONFIRM_PLACEHOLDERS.join(', ')})`;
}

const mediaUri = z
  .string()
  .regex(MEDIA_URI, 'must be a media URI such as "sound:csat/rate-intro" or "digits:4" (no spaces or commas)')
  .superRefine((uri, ctx) => {
    for (const part of bracedParts(uri)) {
      ctx.addIssue({ code: 'custom', message: `has the placeholder ${part}, but placeholders are only replaced in confirm steps` });
    }
  });
const mediaList = z.array(mediaUri).min(1, 'needs at least one media URI');

// confirm may speak the key or the score back: "digits:{digit}", "number:{score}".
const confirmMedia = z
  .array(
    z
      .string()
      .regex(MEDIA_URI, 'must be a media URI; {digit} and {score} are replaced by what the caller pressed')
      .superRefine((uri, ctx) => {
        for (const part of bracedParts(uri)) {
          if (!(CONFIRM_PLACEHOLDERS as readonly string[]).includes(part)) ctx.addIssue({ code: 'custom', message: unknownPlaceholder(part) });
        }
      }),
  )
  .min(1, 'needs at least one media URI');

// A collect step's id is its question's id in survey_answer (at most 64 characters there).
const stepId = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'step ids are letters, digits, "_" and "-", at most 64 characters');

const PlayStepSchema = z.strictObject({
  id: stepId,
  type: z.literal('play'),
  media: mediaList,
  // Barge-in: a key pressed during an interruptible play stops it and is kept for the next collect.
  interruptible: z.boolean().default(false),
  next: stepId.optional(),
});

const DtmfKey = z.string().regex(/^[0-9*#]$/, 'must be one DTMF key: 0-9, * or #');

// A value any question may store: both databases keep it in a 32-bit integer column, with room to spare.
const answerValue = z.number().int().min(-999_999).max(999_999);

// Where a question goes after an answer in a value range (first match wins; no match: `next`):
// e.g. detractors (nps max = 6) or unhappy callers (csat max = 2) to a comment question.
const BranchSchema = z
  .strictObject({
    value: answerValue.optional(),
    min: answerValue.optional(),
    max: answerValue.optional(),
    next: stepId,
  })
  .refine((branch) => branch.value !== undefined || branch.min !== undefined || branch.max !== undefined, {
    message: 'needs value, min or max (the answers it applies to)',
  })
  .refine((branch) => branch.value === undefined || (branch.min === undefined && branch.max === undefined), {
    message: 'set either value or min/max, not both',
  })
  .refine((branch) => branch.min === undefined || branch.max === undefined || branch.min <= branch.max, {
    path: ['min'],
    message: 'must be at most max',
  });
export type Branch = z.infer<typeof BranchSchema>;

const CollectStepSchema = z
  .strictObject({
    id: stepId,
    type: z.literal('collect'),
    // What the answer means and which values it may take: csat 1-5, nps 0-10, ces 1-7, yes_no 1 (yes)
    // or 0 (no), scale any range it declares.
    kind: z.enum(QUESTION_KINDS).default('csat'),
    prompt: mediaList,
    interruptible: z.boolean().default(true),
    // One key per answer: key -> value, written out (the shipped survey maps key 1 to score 5).
    scores: z.record(DtmfKey, answerValue).optional(),
    // The keys `scores` accepts; only a check that the map is complete (default: its keys).
    digits: z.string().regex(/^[0-9*#]+$/, 'must list the valid keys, e.g. "12345"').optional(),
    // Or a typed number whose value is the answer ("10" for an NPS ten): ended by the terminator, by
    // inter_digit_timeout_ms of silence after a key, or once no further key could stay in range.
    range: z
      .strictObject({ min: z.number().int().min(0), max: z.number().int().min(0).max(999_999) })
      .refine((range) => range.min <= range.max, { path: ['min'], message: 'must be at most max' })
      .optional(),
    terminator: DtmfKey.default('#'),
    inter_digit_timeout_ms: z.number().int().min(500).max(30_000).default(3_000),
    // A key that skips the question: nothing stored, the survey goes on at `next`.
    skip_key: DtmfKey.optional(),
    // The survey's headline csat question (its answer is the call's cc_csat row). Default: the first
    // csat question, unless one says headline = true or it says headline = false.
    headline: z.boolean().optional(),
    branch: z.array(BranchSchema).default([]),
    // Counted from the end of the prompt: a caller who listens to the whole question still gets the full time.
    timeout_ms: z.number().int().min(500).max(60_000).default(5_000),
    max_retries: z.number().int().min(0).max(10).default(2),
    invalid_prompt: mediaList.optional(),
    no_input_prompt: mediaList.optional(),
    next: stepId.optional(),
    on_failure: stepId.optional(),
  })
  .superRefine((step, ctx) => {
    const kindRange = KIND_RANGES[step.kind];
    if (step.scores !== undefined && step.range !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['range'], message: 'set either scores (one key per answer) or range (a typed number), not both' });
      return;
    }
    if (step.scores === undefined && step.range === undefined && step.kind !== 'nps') {
      ctx.addIssue({ code: 'custom', path: ['scores'], message: `a ${step.kind} question needs scores (key -> value) or range (a typed number)` });
      return;
    }
    if (kindRange) {
      const outside = (value: number): boolean => value < kindRange.min || value > kindRange.max;
      for (const [key, value] of Object.entries(step.scores ?? {})) {
        if (outside(value)) ctx.addIssue({ code: 'custom', path: ['scores', key], message: `${value} is outside ${step.kind}'s range ${kindRange.min}-${kindRange.max}` });
      }
      if (step.range && (outside(step.range.min) || outside(step.range.max))) {
        ctx.addIssue({ code: 'custom', path: ['range'], message: `${step.range.min}-${step.range.max} is outside ${step.kind}'s range ${kindRange.min}-${kindRange.max}` });
      }
    }
    if (step.headline === true && step.kind !== 'csat') {
      ctx.addIssue({ code: 'custom', path: ['headline'], message: `only a csat question can be the headline (this one is ${step.kind})` });
    }
    // An nps question with neither gets the 0-10 range below.
    const typed = step.range !== undefined || step.scores === undefined;
    const usedKeys = new Set([...Object.keys(step.scores ?? {}), ...(typed ? '0123456789' : '')]);
    if (step.skip_key !== undefined && usedKeys.has(step.skip_key)) {
      ctx.addIssue({ code: 'custom', path: ['skip_key'], message: `"${step.skip_key}" is also an answer key` });
    }
    if (typed && usedKeys.has(step.terminator)) {
      ctx.addIssue({ code: 'custom', path: ['terminator'], message: `"${step.terminator}" is also an answer key` });
    }
    if (typed && step.skip_key === step.terminator) {
      ctx.addIssue({ code: 'custom', path: ['skip_key'], message: `"${step.skip_key}" is also the terminator` });
    }
  })
  // NPS without a range or a map is the standard 0-10 typed number.
  .transform((step) => (step.kind === 'nps' && step.scores === undefined && step.range === undefined ? { ...step, range: { min: 0, max: 10 } } : step));

const ConfirmStepSchema = z.strictObject({
  id: stepId,
  type: z.literal('confirm'),
  media: confirmMedia,
  interruptible: z.boolean().default(false),
  next: stepId.optional(),
});

// "Stay on the line for a short survey: press 1 to start" before any question. A caller who declines
// (or, with on_silence = "decline", says nothing) is recorded as declined, never as abandoned.
const ConsentStepSchema = z
  .strictObject({
    id: stepId,
    type: z.literal('consent'),
    prompt: mediaList,
    interruptible: z.boolean().default(true),
    accept_key: DtmfKey.default('1'),
    decline_key: DtmfKey.optional(),
    // What silence after the prompt (and its repeats) means.
    on_silence: z.enum(['accept', 'decline']).default('decline'),
    timeout_ms: z.number().int().min(500).max(60_000).default(5_000),
    // Repeats after a key that is neither accept nor decline, or after silence.
    max_retries: z.number().int().min(0).max(10).default(1),
    invalid_prompt: mediaList.optional(),
    no_input_prompt: mediaList.optional(),
    next: stepId.optional(),
    // Where a declining caller goes (e.g. a goodbye); without it the call is hung up.
    on_decline: stepId.optional(),
  })
  .refine((step) => step.decline_key === undefined || step.decline_key !== step.accept_key, {
    path: ['decline_key'],
    message: 'must differ from accept_key',
  });

// A spoken comment: optional prompt, a beep, then up to max_seconds of the caller's voice, ended by
// the terminate key, by silence_seconds of silence or by hanging up (what was said is kept). A
// comment shorter than min_seconds is deleted and nothing is stored for the question.
export const RECORDING_FORMATS = ['wav', 'wav16', 'gsm', 'ulaw', 'alaw'] as const;

const RecordStepSchema = z
  .strictObject({
    id: stepId,
    type: z.literal('record'),
    prompt: mediaList.optional(),
    beep: z.boolean().default(true),
    max_seconds: z.number().int().min(1).max(600).default(60),
    min_seconds: z.number().min(0).max(60).default(1),
    // 0: silence never ends the recording.
    silence_seconds: z.number().int().min(0).max(60).default(4),
    terminate_key: z.enum(['#', '*', 'any', 'none']).default('#'),
    // Asterisk's file format: wav is 8 kHz 16-bit mono.
    format: z.enum(RECORDING_FORMATS).default('wav'),
    next: stepId.optional(),
    // Where the survey goes when the comment cannot be recorded or stored (e.g. goodbye).
    on_failure: stepId.optional(),
    // Where a caller who said nothing (less than min_seconds) goes, so they do not hear "your comment
    // was recorded"; default: next.
    on_empty: stepId.optional(),
  })
  .refine((step) => step.min_seconds < step.max_seconds, { path: ['min_seconds'], message: 'must be below max_seconds' });

const HangupStepSchema = z.strictObject({
  id: stepId,
  type: z.literal('hangup'),
});

export const StepSchema = z.discriminatedUnion('type', [
  PlayStepSchema,
  CollectStepSchema,
  ConfirmStepSchema,
  ConsentStepSchema,
  RecordStepSchema,
  HangupStepSchema,
]);
export type Step = z.infer<typeof StepSchema>;
export type StepType = Step['type'];
export type StepOf<K extends StepType> = Extract<Step, { type: K }>;
export const STEP_TYPES = ['play', 'collect', 'confirm', 'consent', 'record', 'hangup'] as const satisfies readonly StepType[];

export const IvrFileSchema = z.strictObject({
  description: z.string().optional(),
  // A playback that never reports PlaybackFinished is abandoned after this long.
  playback_guard_ms: z.number().int().min(1_000).max(600_000).default(30_000),
  // Whole-survey ceiling: a `next` loop or a stuck channel can never keep a session alive forever.
  max_duration_ms: z.number().int().min(5_000).max(3_600_000).default(180_000),
  step: z.array(StepSchema).min(1, 'an IVR needs at least one [[step]]'),
});
export type IvrFile = z.infer<typeof IvrFileSchema>;
export type Ivr = IvrFile & {
  readonly name: string;
  readonly file: string;
  /** The id of the headline csat question (its answer is the call's cc_csat row), if any: see headlineQuestion. */
  readonly headline: string | undefined;
};
