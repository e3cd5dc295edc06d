// `cc-csat start`: wires config, database, ARI controller and HTTP API together, and owns shutdown.
import express from 'express';
import { buildAriSurveyEngine } from './ari-survey-engine.js';
import { recordingSourceFor } from './ari/recording-source.js';
import type { AppConfig } from './config/load.js';
import { createHttpApp } from './http/app.js';
import { RateLimiter } from './http/auth.js';
import { SharedRateLimits } from './http/shared-limits.js';
import { listenFirst, type ListeningServer } from './http/server.js';
import { startLiveConfig } from './live-config.js';
import { createLogger } from './log.js';
import { Metrics } from './metrics.js';
import { AlertDelivery } from './alerts/delivery.js';
import { AlertOutboxPurge } from './alerts/outbox-purge.js';
import { RecordingRetention } from './results/recording-retention.js';
import { ResultService } from './results/service.js';
import { mediaServersOf } from './config/sip.js';
import { SipFrontDoor } from './sip/front-door.js';
import { openStorage } from './storage/open.js';
import type { Storage } from './storage/ports.js';
import { liveQueueNames } from './survey/survey-config.js';

const SHARED_LIMITS_INTERVAL_MS = 1000;
// After the surveys drained, how long their BYEs (Asterisk -> front door -> PBX) get to pass.
const FRONT_DOOR_DRAIN_MS = 3000;

/** `reloadConfig`: loadConfig as the CLI ran it (same --config, working directory, environment), for SIGHUP and file changes. */
export async function runEngine(config: AppConfig, options: { reloadConfig: () => AppConfig; cwd: string }): Promise<number> {
  const { engine } = config;
  const log = createLogger(engine.log.level);
  // The ports first, before the database is touched: a second engine started by mistake beside a
  // running one must stop at once with a clear error, not run migrations and a rollup run first.
  const listening: ListeningServer[] = [];
  const closeListening = (): void => {
    for (const open of listening) open.server.close();
  };
  try {
    listening.push(await listenFirst(engine.http.port, engine.http.host, '[http]'));
    if (engine.metrics.port !== undefined) listening.push(await listenFirst(engine.metrics.port, engine.metrics.host, '[metrics]'));
  } catch (err) {
    closeListening();
    log.fatal({ err: (err as Error).message }, 'cannot start');
    throw err;
  }
  const [http, metricsListener] = listening as [ListeningServer, ListeningServer | undefined];

  let storage: Storage;
  try {
    storage = await openStorage(config.database, { lockWaitMs: engine.database.lock_wait_ms, engine: { log } });
    try {
      const applied = await storage.migrate();
      if (applied.length > 0) log.info({ applied: applied.map((m) => m.name) }, 'database migrated');
    } catch (err) {
      await storage.close();
      throw err;
    }
  } catch (err) {
    closeListening();
    throw err;
  }

  const metrics = new Metrics();
  // Spoken comments' audio, on the Asterisk servers that recorded them: streamed by the API, deleted by the result service.
  const recordings = recordingSourceFor(config.ariServers);
  const results = new ResultService({
    rollups: storage.rollups,
    leadership: storage.leadership,
    timezone: engine.results.timezone,
    log: log.child({ component: 'results' }),
    onRun: (report) => metrics.resultRunDuration.observe({ kind: report.kind }, report.durationMs / 1000),
    onError: () => metrics.resultRunErrors.inc(),
    onLeadership: (leading) => metrics.resultServiceLeader.set(leading ? 1 : 0),
    recordingRetention: new RecordingRetention({
      store: storage.recordings,
      source: recordings,
      retentionDays: engine.survey.recording_retention_days,
      log: log.child({ component: 'results' }),
      onDeleted: (how) => metrics.recordingsDeleted.inc({ found: how === 'deleted' ? 'true' : 'false' }),
    }),
  });
  // First run at boot, before any call is taken: when it must be a full rebuild (first start on
  // an existing database, a changed timezone, an upgrade that adds a rollup) its swap still holds
  // SQLite's writer for a few seconds per million calls (the build itself runs aside on a worker
  // thread: rollup-scratch.ts), which live surveys had better not wait on. Then incremental runs on
  // schedule.
  await results.runIfLeader('incremental').catch((err: unknown) => log.error({ err }, 'initial result service run failed'));
  // From here on live calls depend on the event loop: no statement may wait for a lock inside SQLite.
  storage.serving();

  // Queues and IVRs reload (SIGHUP, file changes, cc-csat reload); engine.toml's settings only at start.
  const live = startLiveConfig({ running: config, load: options.reloadConfig, cwd: options.cwd, log: log.child({ component: 'config' }), metrics });
  const ari = buildAriSurveyEngine({
    servers: config.ariServers,
    storage,
    engineId: config.engineId,
    queues: config.queues,
    ivrs: config.ivrs,
    surveyConfig: live.holder,
    callerHashKey: config.callerHashKey,
    alerts: { config: config.alerts, teams: live.teams },
    log,
    metrics,
  });
  // New prompts may have been added to Asterisk for the reloaded IVRs: look again before playing them.
  live.afterApplied(() => ari.telephonies.forEach((telephony) => telephony.forgetSounds()));

  const { controller, claims } = ari;
  // The SIP front door ([sip]): callers of any PBX, relayed to the [[ari]] servers with a sip_uri.
  const frontDoor = config.sip
    ? new SipFrontDoor({
        config: config.sip,
        mediaServers: mediaServersOf(config.ariServers),
        view: ari.mediaServers,
        queues: () => live.holder.current().queues,
        ratings: storage.ratings,
        answers: storage.answers,
        outcomes: storage.outcomes,
        log: log.child({ component: 'sip' }),
        metrics,
      })
    : undefined;
  const limiter = new RateLimiter();
  // Engines sharing a database share each key's rate limit through it (see shared-limits.ts).
  const sharedLimits = storage.sharedByEngines
    ? new SharedRateLimits({
        store: storage.keyUsage,
        engineId: config.engineId,
        limiter,
        limits: new Map(engine.api_keys.map((key) => [key.name, key.rate_limit_per_minute ?? engine.api.rate_limit_per_minute])),
        intervalMs: SHARED_LIMITS_INTERVAL_MS,
        log: log.child({ component: 'http' }),
      })
    : undefined;
  sharedLimits?.start();
  const app = createHttpApp({
    config,
    storage,
    log,
    telephony: ari.readiness,
    ...(frontDoor && { sip: frontDoor }),
    metrics,
    limiter,
    serveMetrics: !metricsListener,
    recordings,
    knownQueues: liveQueueNames(live.holder),
    queueConfigs: () => live.holder.current().queues,
    teams: live.teams,
    surveyConfig: live.holder,
    configStatus: () => live.reloader.status(),
    reload: () => live.reloader.reload('request'),
  });
  http.serve(app);
  if (metricsListener) {
    const metricsApp = express();
    metricsApp.get('/metrics', metrics.handler());
    metricsListener.serve(metricsApp);
  }
  const server = http.server;
  const metricsServer = metricsListener?.server;

  results.start(engine.results.schedule);
  // Alerts: every engine delivers from the shared outbox (rows are leased, so two never send the same
  // one at once); the destinations and their secrets are engine.toml's, read at start only.
  const alertDestinations = [...config.alerts.destinations.keys()];
  metrics.watchAlertBacklog(() => storage.alerts.backlog(), alertDestinations);
  const alertLog = log.child({ component: 'alerts' });
  const alertDelivery = new AlertDelivery({
    store: storage.alerts,
    destinations: config.alerts.destinations,
    owner: config.engineId,
    maxAgeMs: config.alerts.maxAgeMs,
    linkStillWanted: (callId) => storage.links.stillWanted(callId),
    log: alertLog,
    metrics: {
      onDelivered: (destination) => metrics.alertsDelivered.inc({ destination }),
      onRetried: (destination) => metrics.alertsRetried.inc({ destination }),
      onDead: (destination) => metrics.alertsDead.inc({ destination }),
      onBreakerOpened: (destination) => metrics.alertBreakerOpened.inc({ destination }),
    },
  });
  const alertPurge = new AlertOutboxPurge({ store: storage.alerts, keepDeliveredMs: config.alerts.keepDeliveredMs, log: alertLog });
  if (alertDestinations.length > 0) {
    // What this engine id leased before it crashed (killed mid-POST) is nobody's now: sent again at
    // once, not after the lease. Receivers drop the repeat by its Idempotency-Key.
    const released = await storage.alerts.releaseLeases(config.engineId).catch((err: unknown) => {
      alertLog.warn({ err }, 'could not release the alert leases of a previous run; they are sent again when their leases end');
      return 0;
    });
    if (released > 0) alertLog.info({ released }, 'alert deliveries left in flight by a previous run are sent again');
    alertDelivery.start();
    alertPurge.start();
  }
  // One line per server: which Asterisk each name stands for, as /readyz and the metrics name them.
  for (const { name, config: server } of config.ariServers) {
    log.info({ server: name, url: server.url, app: server.app, rest_transport: server.rest_transport }, 'ARI server configured');
  }
  ari.start();
  frontDoor?.start();
  log.info(
    { address: server.address(), metrics_address: metricsServer?.address(), engine_id: config.engineId, db: storage.description, queues: config.queues.size, ivrs: config.ivrs.size },
    'cc-csat started',
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      const graceMs = engine.survey.shutdown_grace_ms;
      log.info({ signal, live_surveys: controller.liveCount, grace_ms: graceMs }, 'shutting down: no new surveys, finishing live ones');
      frontDoor?.stopAccepting();
      const drained = await controller.drain(graceMs);
      log.info(drained, 'live surveys settled');
      // The surveys' hangups reach the PBXs through the front door's dialogs: let them pass, then
      // hang up whatever is left before letting go of drachtio-server.
      if (frontDoor) {
        const { hungUp } = await frontDoor.drain(FRONT_DOOR_DRAIN_MS);
        if (hungUp > 0) log.warn({ hung_up: hungUp }, 'front door calls still up after the surveys drained were hung up');
        frontDoor.stop();
      }
      await ari.stop();
      await claims.stop();
      await results.stop();
      // After the surveys drained: deliveries in flight get their grace; rows left pending stay in the
      // outbox for the next engine to start (or another engine on the same database).
      await alertDelivery.stop();
      await alertPurge.stop();
      for (const open of [server, metricsServer]) {
        if (!open) continue;
        const closed = new Promise<void>((done) => open.close(() => done()));
        open.closeIdleConnections();
        await closed;
      }
      await sharedLimits?.stop();
      await storage.close();
      live.stop();
      log.info('stopped');
      resolve(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}

