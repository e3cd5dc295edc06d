// The Express app: /cc/csat API (keyed), /openapi.json, health endpoints; JSON everywhere.
import express, { type Express } from 'express';
import type { AppConfig } from '../config/load.js';
import type { QueueConfig } from '../config/schema.js';
import type { TeamsSource } from '../config/teams.js';
import type { SurveyConfigSource } from '../survey/survey-config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ZoneCalendar } from '../results/zone.js';
import type { Storage } from '../storage/ports.js';
import type { TelephonyReadiness } from '../telephony/port.js';
import { takesCalls } from '../telephony/server-states.js';
import { KeyRing, RateLimiter } from './auth.js';
import { csatRoutes } from './csat-routes.js';
import { dashboardRoutes } from './dashboard-route.js';
import { alertRoutes } from './alert-routes.js';
import { feedbackRoutes } from './feedback-route.js';
import { linkRoutes } from './link-routes.js';
import { exportRoutes } from './export-routes.js';
import { healthRoutes } from './health-route.js';
import { responsesRoutes } from './responses-route.js';
import { errorHandler, notFound } from './errors.js';
import { ProbeCache } from './probe-cache.js';
import { buildOpenApi } from './openapi.js';
import { recordingRoutes } from './recording-route.js';
import type { RecordingSource } from '../telephony/recordings.js';
import type { ConfigStatus, ReloadOutcome } from '../config/reloader.js';
import { reloadRoutes } from './reload-route.js';
import { surveyStatsRoutes } from './survey-stats-routes.js';
import { teamRoutes } from './team-routes.js';

// A load balancer polling every second or two sees a change within this much more.
const READINESS_PROBE_MAX_AGE_MS = 1000;

/** The stores the API reads and writes: never a driver handle. */
export type HttpStorage = Pick<Storage, 'ratings' | 'answers' | 'stats' | 'surveyStats' | 'exportAudit' | 'rowCounts' | 'probe' | 'alerts' | 'links'>;

export interface HttpDeps {
  readonly config: AppConfig;
  readonly storage: HttpStorage;
  readonly log: Logger;
  /** The Asterisk servers' connection states (one server: `{ state }`). */
  readonly telephony: TelephonyReadiness;
  readonly now?: () => Date;
  readonly metrics?: Metrics;
  /** The per-key token buckets; the engine passes its own when they are shared with other engines. */
  readonly limiter?: RateLimiter;
  /** Serve /metrics on this app (false when [metrics] port gives it a server of its own). */
  readonly serveMetrics?: boolean;
  /** Where spoken comments' audio is read (the engine's Asterisk servers); none: 503 for every recording. */
  readonly recordings?: RecordingSource;
  /** The queues API ratings may name; the engine's follows config reloads. Default: config.queues. */
  readonly knownQueues?: ReadonlySet<string>;
  /** The queues' config for GET /cc/csat/queues; the engine's follows config reloads. Default: config.queues. */
  readonly queueConfigs?: () => ReadonlyMap<string, QueueConfig>;
  /** The teams statistics may name; the engine's follow config reloads. Default: config.teams. */
  readonly teams?: TeamsSource;
  /** The queues and IVRs as loaded now (scale questions' ranges); the engine's follow reloads. Default: config. */
  readonly surveyConfig?: SurveyConfigSource;
  /** /readyz's `config` detail (the loaded config, the last reload). Informational: never makes the engine unready. */
  readonly configStatus?: () => ConfigStatus;
  /** The SIP front door's connection to drachtio-server, when [sip] is on: /readyz waits for it. */
  readonly sip?: { readonly state: string };
  /** Serves POST /-/reload (same-host clients only). */
  readonly reload?: () => ReloadOutcome;
}

export function createHttpApp(deps: HttpDeps): Express {
  const { engine } = deps.config;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // "/cc/csat/RESPONSES" must be the rating of call RESPONSES, not the /responses list.
  app.set('case sensitive routing', true);
  if (deps.metrics) app.use(deps.metrics.httpMiddleware());

  // Liveness: the process answers. Readiness: it can take a survey (database writable, ARI in sync).
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // With several Asterisk servers, ready while at least one is connected: a load balancer in front of
  // engines needs one that takes calls. `ari` is then "degraded" and `ari_servers` says which are down.
  const probes = new ProbeCache(() => deps.storage.probe(), READINESS_PROBE_MAX_AGE_MS);
  app.get('/readyz', async (_req, res) => {
    const database = await probes.answer();
    const { state: ari, servers } = deps.telephony;
    // With the front door on, callers come in through drachtio-server: without it this engine takes
    // none of them, and whatever routes PBXs to engines must pick another.
    const sip = deps.sip?.state;
    const ready = database === 'ok' && takesCalls(ari) && (sip === undefined || sip === 'connected');
    // A rejected config reload leaves the engine on its previous, valid config: still ready.
    const config = deps.configStatus?.();
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not_ready', database, ari, ...(servers && { ari_servers: servers }), ...(sip !== undefined && { sip }), ...(config && { config }) });
  });
  if (deps.metrics && (deps.serveMetrics ?? true)) app.get('/metrics', deps.metrics.handler());
  if (deps.reload) app.use(reloadRoutes(deps.reload));
  const openapi = buildOpenApi('0.1.0');
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  const keyRing = new KeyRing(engine.api_keys, engine.api.rate_limit_per_minute);
  const limiter = deps.limiter ?? new RateLimiter();
  // Before csatRoutes: /cc/csat/queues is the queue list, not the rating of call "queues".
  app.use(dashboardRoutes({ queues: deps.queueConfigs ?? (() => deps.config.queues), keyRing, limiter }));
  const zone = new ZoneCalendar(engine.results.timezone);
  const now = deps.now ?? (() => new Date());
  const teams = deps.teams ?? { current: () => deps.config.teams };
  // Before csatRoutes, which would take /cc/csat/teams for the rating of call "teams".
  const statsDeps = { teams, stats: deps.storage.stats, zone, defaultDays: engine.results.trend_days, keyRing, limiter, now };
  app.use(teamRoutes({ ...statsDeps, surveyStats: deps.storage.surveyStats, minRatingsToRank: engine.results.min_ratings_to_rank }));
  const ivrs = deps.surveyConfig ? () => deps.surveyConfig!.current().ivrs : () => deps.config.ivrs;
  app.use(surveyStatsRoutes({ ...statsDeps, surveyStats: deps.storage.surveyStats, ivrs }));
  // Before csatRoutes too: /cc/csat/responses, /export, /exports and /health are not calls' ratings.
  const teamMembers = () => teams.current();
  const knownQueues = deps.knownQueues ?? new Set(deps.config.queues.keys());
  app.use(responsesRoutes({ ratings: deps.storage.ratings, answers: deps.storage.answers, zone, teams: teamMembers, keyRing, limiter }));
  app.use(alertRoutes({ alerts: deps.storage.alerts, keyRing, limiter }));
  app.use(
    feedbackRoutes({
      answers: deps.storage.answers,
      keyRing,
      limiter,
      now,
      knownQueues,
      allowUnknownQueues: engine.api.allow_unknown_queues,
      alerts: { config: deps.config.alerts, teams },
    }),
  );
  // Before csatRoutes: /cc/csat/rate and /cc/csat/survey/... are not calls' ratings. No API key.
  app.use(linkRoutes({ links: deps.storage.links, now, log: deps.log, metrics: deps.metrics, alerts: { config: deps.config.alerts, teams }, publicUrl: deps.config.alerts.publicUrl }));
  app.use(exportRoutes({ ratings: deps.storage.ratings, answers: deps.storage.answers, audit: deps.storage.exportAudit, zone, teams: teamMembers, keyRing, limiter, now, log: deps.log }));
  app.use(
    healthRoutes({
      stats: deps.storage.stats,
      surveyStats: deps.storage.surveyStats,
      rowCounts: deps.storage.rowCounts,
      queues: () => knownQueues,
      teams: teamMembers,
      zone,
      minRatingsToRank: engine.results.min_ratings_to_rank,
      keyRing,
      limiter,
      now,
    }),
  );
  app.use(
    csatRoutes({
      ratings: deps.storage.ratings,
      answers: deps.storage.answers,
      stats: deps.storage.stats,
      zone: new ZoneCalendar(engine.results.timezone),
      knownQueues: deps.knownQueues ?? new Set(deps.config.queues.keys()),
      allowUnknownQueues: engine.api.allow_unknown_queues,
      minRatingsToRank: engine.results.min_ratings_to_rank,
      defaultDays: engine.results.trend_days,
      keyRing,
      limiter,
      now: deps.now ?? (() => new Date()),
      ...(deps.metrics ? { onRatingStored: (score: number) => deps.metrics!.ratings.inc({ score: String(score), source: 'api' }) } : {}),
    }),
  );
  // After csatRoutes: /cc/csat/agent/recording stays agent "recording"'s statistics, as before.
  app.use(recordingRoutes({ answers: deps.storage.answers, source: deps.recordings, keyRing, limiter, log: deps.log }));
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
