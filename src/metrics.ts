// Prometheus metrics (cc_csat_*), on a registry of our own so tests and several engines in one
// process never share counters.
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SurveyOutcomeKind } from './db/schema.js';
import type { AlertBacklog } from './storage/ports.js';
import { SKIP_REASON_LABELS, skipReasonLabel } from './survey/eligibility.js';
import type { CombinedConnectionState, ConnectionState } from './telephony/port.js';

export class Metrics {
  readonly registry = new Registry();

  readonly surveys = new Counter({
    name: 'cc_csat_surveys_total',
    help: 'Surveys by outcome (completed, no_input, invalid, abandoned, declined, skipped, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly surveysSkipped = new Counter({
    name: 'cc_csat_surveys_skipped_total',
    help: 'Callers sent back to the dialplan without a survey (outcome skipped), by reason: agent_excluded, not_sampled, talk_too_short, talk_time_unknown, recently_surveyed, ...',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly liveSurveys = new Gauge({ name: 'cc_csat_surveys_live', help: 'Surveys in progress', registers: [this.registry] });
  readonly admissionShed = new Counter({
    name: 'cc_csat_admission_shed_total',
    help: 'New callers sent back to the dialplan without a survey because their Asterisk server was overloaded (outcome skipped, reason overloaded)',
    labelNames: ['server'] as const,
    registers: [this.registry],
  });
  readonly ratings = new Counter({
    name: 'cc_csat_ratings_total',
    help: 'Ratings stored, by score and by source (ivr or api)',
    labelNames: ['score', 'source'] as const,
    registers: [this.registry],
  });
  readonly dtmfToStored = new Histogram({
    name: 'cc_csat_dtmf_to_stored_seconds',
    help: 'From the DTMF event reaching cc-csat to the rating committed in cc_csat',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  // Unlabelled, as before there were several servers: dashboards and alerts on it keep their meaning.
  readonly ariConnected = new Gauge({ name: 'cc_csat_ari_connected', help: '1 when every ARI server is connected and in sync, else 0', registers: [this.registry] });
  readonly ariServerConnected = new Gauge({
    name: 'cc_csat_ari_server_connected',
    help: '1 when connected to this ARI server ([[ari]] name) and in sync, else 0',
    labelNames: ['server'] as const,
    registers: [this.registry],
  });
  readonly ariReconnects = new Counter({
    name: 'cc_csat_ari_reconnect_attempts_total',
    help: 'ARI connection attempts after a failure or a drop, by server',
    labelNames: ['server'] as const,
    registers: [this.registry],
  });
  // The SIP front door ([sip]); at zero while it is off.
  readonly sipConnected = new Gauge({ name: 'cc_csat_sip_connected', help: '1 when connected to drachtio-server ([sip]), else 0', registers: [this.registry] });
  readonly sipReconnects = new Counter({ name: 'cc_csat_sip_reconnect_attempts_total', help: 'drachtio-server connection attempts after a failure or a drop', registers: [this.registry] });
  readonly sipInvites = new Counter({
    name: 'cc_csat_sip_invites_total',
    help: 'INVITEs to the front door by result: relayed, forbidden, challenged, bad_request, unknown_queue, not_surveyed, unavailable, cancelled, failed',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly sipRelayFailures = new Counter({
    name: 'cc_csat_sip_relay_failures_total',
    help: 'Relays to a media server ([[ari]] name) that failed, the caller then tried on the next one',
    labelNames: ['server'] as const,
    registers: [this.registry],
  });
  readonly sipCallsLive = new Gauge({ name: 'cc_csat_sip_calls_live', help: 'Calls relayed by the front door and not yet ended, setups included', registers: [this.registry] });
  readonly sipSetup = new Histogram({
    name: 'cc_csat_sip_setup_seconds',
    help: 'From the INVITE reaching the front door to the media server answering it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly resultRunDuration = new Histogram({
    name: 'cc_csat_results_run_duration_seconds',
    help: 'Result service run duration, by kind (incremental, full, unchanged)',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
    registers: [this.registry],
  });
  readonly resultServiceLeader = new Gauge({
    name: 'cc_csat_result_service_leader',
    help: '1 while this engine runs the result service (one engine at a time on PostgreSQL), else 0',
    registers: [this.registry],
  });
  readonly recordingsDeleted = new Counter({
    name: 'cc_csat_recordings_deleted_total',
    help: 'Spoken comments deleted from Asterisk by the result service after [survey] recording_retention_days (found: false when Asterisk no longer had the file)',
    labelNames: ['found'] as const,
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'cc_csat_config_reload_total',
    help: 'Reloads of queues.toml and ivr/*.toml (SIGHUP, a file change, cc-csat reload), by result: ok, or error (the running config was kept)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly configLastReloadSuccessful = new Gauge({
    name: 'cc_csat_config_last_reload_successful',
    help: '1 when the last config reload succeeded (or none was tried since start), 0 while the files on disk have problems',
    registers: [this.registry],
  });
  readonly configLoadedTimestamp = new Gauge({
    name: 'cc_csat_config_loaded_timestamp_seconds',
    help: 'When the queues and IVRs new callers are surveyed with were loaded (start or last good reload), Unix time',
    registers: [this.registry],
  });
  readonly alertsDelivered = new Counter({
    name: 'cc_csat_alerts_delivered_total',
    help: 'Alert deliveries the receiver took (2xx), by destination ([[alerts.destination]] name)',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  readonly alertsRetried = new Counter({
    name: 'cc_csat_alerts_retried_total',
    help: 'Alert delivery attempts that failed and will be tried again (timeout, refused connection, 5xx, 429), by destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  readonly alertsDead = new Counter({
    name: 'cc_csat_alerts_dead_total',
    help: 'Alert deliveries given up on (refused for good, or [alerts] max_age_hours ran out): dead letters for cc-csat alerts retry, by destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  readonly alertBreakerOpened = new Counter({
    name: 'cc_csat_alert_breaker_opened_total',
    help: 'Times a destination was left alone after failures in a row (its circuit breaker opened), by destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  readonly resultRunErrors = new Counter({ name: 'cc_csat_results_run_errors_total', help: 'Result service runs that failed', registers: [this.registry] });
  readonly httpRequests = new Counter({
    name: 'cc_csat_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'cc_csat_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  /**
   * cc_csat_alerts_outbox{status="pending"|"dead"}, read from the database at each scrape: the
   * outbox is shared by every engine on a database, so each engine reports the same backlog.
   */
  watchAlertBacklog(read: () => Promise<AlertBacklog>, destinations: readonly string[]): void {
    new Gauge({
      name: 'cc_csat_alerts_outbox',
      help: 'Alert deliveries in the outbox by status: pending (waiting or being retried) and dead (given up on); shared by the engines on one database',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        // A database that cannot answer leaves the last figures: /metrics itself must still answer.
        const backlog = await read().catch(() => undefined);
        if (!backlog) return;
        this.set({ status: 'pending' }, backlog.pending);
        this.set({ status: 'dead' }, backlog.dead);
      },
    });
    for (const destination of destinations) {
      for (const counter of [this.alertsDelivered, this.alertsRetried, this.alertsDead, this.alertBreakerOpened]) counter.inc({ destination }, 0);
    }
  }

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'cc_csat_' });
    this.ariConnected.set(0);
    this.recordingsDeleted.inc({ found: 'true' }, 0);
    this.recordingsDeleted.inc({ found: 'false' }, 0);
    // Every reason at zero from the start: a rate over a series that appears late misses its first skip.
    for (const reason of SKIP_REASON_LABELS) this.surveysSkipped.inc({ reason }, 0);
    for (const result of ['ok', 'error']) this.configReloads.inc({ result }, 0);
    this.configLastReloadSuccessful.set(1);
  }

  surveyObserver() {
    return {
      surveyStarted: () => this.liveSurveys.inc(),
      surveyEnded: (outcome: SurveyOutcomeKind, wasLive: boolean, reason?: string | undefined) => {
        if (wasLive) this.liveSurveys.dec();
        this.surveys.inc({ outcome });
        if (outcome === 'skipped') this.surveysSkipped.inc({ reason: skipReasonLabel(reason) });
      },
      ratingStored: (score: number, dtmfToStoredMs: number) => {
        this.ratings.inc({ score: String(score), source: 'ivr' });
        this.dtmfToStored.observe(dtmfToStoredMs / 1000);
      },
    };
  }

  configReloaded(result: 'ok' | 'error', loadedAt: Date): void {
    this.configReloads.inc({ result });
    this.configLastReloadSuccessful.set(result === 'ok' ? 1 : 0);
    this.configLoadedTimestamp.set(loadedAt.getTime() / 1000);
  }

  /**
   * Each configured server's series, at zero until something happens: a server never reached still
   * shows. Server names come from the config only, so their number is bounded.
   */
  ariServers(names: readonly string[]): void {
    for (const server of names) {
      this.ariServerConnected.set({ server }, 0);
      this.ariReconnects.inc({ server }, 0);
      this.admissionShed.inc({ server }, 0);
    }
  }

  /** `combined`: every server's state in one word (see server-states.ts). */
  ariState(server: string, state: ConnectionState, combined: CombinedConnectionState): void {
    this.ariServerConnected.set({ server }, state === 'connected' ? 1 : 0);
    this.ariConnected.set(combined === 'connected' ? 1 : 0);
  }

  /**
   * Labels come from a closed set: the matched route pattern, or "unmatched" for a request that
   * failed before routing (bad percent-encoding, a body that does not parse) or matched nothing.
   * Never the raw path: any client could otherwise create series without bound.
   */
  httpMiddleware(): RequestHandler {
    return (req, res, next) => {
      const started = performance.now();
      res.on('finish', () => {
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
        const labels = { route, method: req.method, status: String(res.statusCode) };
        this.httpRequests.inc(labels);
        this.httpDuration.observe(labels, (performance.now() - started) / 1000);
      });
      next();
    };
  }

  handler(): RequestHandler {
    return async (_req, res) => {
      res.set('Content-Type', this.registry.contentType);
      res.send(await this.registry.metrics());
    };
  }
}
