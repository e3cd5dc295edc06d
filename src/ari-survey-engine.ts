// The call path of the engine: ARI calls into the survey controller, with overload admission and
// metrics. Built here only, so that `cc-csat start`, the simulator tests and the benchmarks run the
// same wiring from the same [ari] config: a setting wired in one of them and forgotten in another
// would make tests pass on an engine that users never run. With several Asterisk servers ([[ari]]),
// one controller surveys the calls of all of them; each server has its own connection, backoff,
// resync, overload admission and metrics.
import { AriTelephony } from './ari/ari-telephony.js';
import type { AriServer } from './config/load.js';
import type { Ivr, QueueConfig } from './config/schema.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { MediaServerView } from './sip/media-servers.js';
import type { Storage } from './storage/ports.js';
import { Admission } from './survey/admission.js';
import { SurveyClaims } from './survey/claims.js';
import { SurveyController, type SurveyControllerDeps, type SurveyObserver } from './survey/controller.js';
import type { SurveyConfigSource } from './survey/survey-config.js';
import type { TelephonyReadiness } from './telephony/port.js';
import { ServerStates } from './telephony/server-states.js';

export interface AriSurveyEngineOptions {
  /** Every configured Asterisk server (AppConfig.ariServers); at least one. */
  readonly servers: readonly AriServer[];
  readonly storage: Pick<Storage, 'ratings' | 'answers' | 'outcomes' | 'claims' | 'surveyedCallers'>;
  /** Names this engine in survey claims (AppConfig.engineId). */
  readonly engineId: string;
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly ivrs: ReadonlyMap<string, Ivr>;
  /** Where new callers' queues and IVRs are read when the config reloads (`cc-csat start`); else `queues` and `ivrs`. */
  readonly surveyConfig?: SurveyConfigSource;
  /** AppConfig.callerHashKey, for queues with resurvey_after_hours. */
  readonly callerHashKey?: string | undefined;
  /** AppConfig.alerts and the live teams: answers that fire a rule put its delivery in the outbox. */
  readonly alerts?: SurveyControllerDeps['alerts'];
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly overrides?: AriSurveyEngineOverrides;
}

/** What tests and benchmarks change; `cc-csat start` uses none of these. */
export interface AriSurveyEngineOverrides {
  /** In place of every server's reconnect_max_delay_ms. */
  readonly reconnectMaxDelayMs?: number;
  /** The ARI adapters' logger (each server's lines carry its name); default `log.child({ component: 'ari' })`. */
  readonly ariLog?: Logger;
  /**
   * Default true. False turns overload protection off: every caller gets a survey, and work for
   * callers not yet admitted may use every connection. Only for a benchmark looking for the load
   * at which the engine stops keeping up, which shedding callers would hide.
   */
  readonly admission?: boolean;
  /** Survey hooks called besides the metrics' own (a benchmark recording each rating's latency). */
  readonly observer?: SurveyObserver;
  /** Each call as the controller takes it; `survey` resolves once its outcome is recorded. */
  readonly onCallHandled?: (channelId: string, survey: Promise<void>, server: string) => void;
  /** In place of CLAIM_LEASE_MS: a test of another engine taking over a dead one's callers. */
  readonly claimLeaseMs?: number;
}

/**
 * How long the callers of an engine that died stay with it before another engine may survey them. A
 * restarted engine with the same [engine] id takes them back at once.
 */
const CLAIM_LEASE_MS = 15_000;

export interface AriSurveyEngine {
  readonly controller: SurveyController;
  /** Renewing the leases of live surveys from the start; stop it after the telephony. */
  readonly claims: SurveyClaims;
  /** One per server, in config order. Not started: `start()` starts them when the engine is ready to take calls. */
  readonly telephonies: readonly AriTelephony[];
  /** The first server's: all there is with one server (tests, benchmarks). */
  readonly telephony: AriTelephony;
  /** Every server's connection state, for /readyz. */
  readonly readiness: TelephonyReadiness;
  /** What the SIP front door picks media servers by: each server's connection and its live surveys. */
  readonly mediaServers: MediaServerView;
  /** Starts every server's connection loop (each retries on its own until it connects). */
  start(): void;
  /** Stops every server's connection. */
  stop(): Promise<void>;
}

export function buildAriSurveyEngine(options: AriSurveyEngineOptions): AriSurveyEngine {
  const { servers, metrics, log, overrides = {} } = options;
  if (servers.length === 0) throw new Error('buildAriSurveyEngine: no ARI server configured');
  const useAdmission = overrides.admission ?? true;
  const claims = new SurveyClaims({
    store: options.storage.claims,
    engineId: options.engineId,
    leaseMs: overrides.claimLeaseMs ?? CLAIM_LEASE_MS,
    log: log.child({ component: 'claims' }),
  });
  claims.start();
  const controller = new SurveyController({
    ratings: options.storage.ratings,
    answers: options.storage.answers,
    outcomes: options.storage.outcomes,
    claims,
    queues: options.queues,
    ivrs: options.ivrs,
    ...(options.surveyConfig && { surveyConfig: options.surveyConfig }),
    surveyedCallers: options.storage.surveyedCallers,
    callerHashKey: options.callerHashKey,
    alerts: options.alerts,
    log,
    observer: bothObservers(metrics.surveyObserver(), overrides.observer),
  });
  metrics.ariServers(servers.map((server) => server.name));
  const telephonies: AriTelephony[] = [];
  const readiness = new ServerStates(telephonies);
  const ariLog = overrides.ariLog ?? log.child({ component: 'ari' });
  const { onCallHandled } = overrides;
  // Calls in the controller's hands per server, from StasisStart until their outcome is recorded.
  const liveByServer = new Map<string, number>();
  for (const { name, config: ari, password } of servers) {
    const telephony = new AriTelephony({
      server: name,
      url: ari.url,
      username: ari.username,
      password,
      app: ari.app,
      reconnectMaxDelayMs: overrides.reconnectMaxDelayMs ?? ari.reconnect_max_delay_ms,
      requestTimeoutMs: ari.request_timeout_ms,
      maxConcurrentRequests: ari.max_concurrent_requests,
      restTransport: ari.rest_transport,
      ...(useAdmission && { maxPreAdmissionRequests: ari.admission_max_in_flight }),
      log: ariLog.child({ server: name }),
      onStateChange: (state) => metrics.ariState(name, state, readiness.state),
      onReconnectAttempt: () => metrics.ariReconnects.inc({ server: name }),
    });
    // This server's load only: an overloaded Asterisk refuses its own new callers, the others' are not affected.
    const admission =
      useAdmission &&
      new Admission(
        () => telephony.load,
        { maxSlowInFlight: ari.admission_max_in_flight, maxLatencyMs: ari.admission_max_latency_ms },
        () => metrics.admissionShed.inc({ server: name }),
      );
    telephony.onCall((call) => {
      const survey = controller.handleCall(call, admission || undefined);
      liveByServer.set(name, (liveByServer.get(name) ?? 0) + 1);
      const settled = (): void => void liveByServer.set(name, (liveByServer.get(name) ?? 1) - 1);
      survey.then(settled, settled);
      onCallHandled?.(call.channel.id, survey, name);
    });
    telephonies.push(telephony);
  }
  return {
    controller,
    claims,
    telephonies,
    telephony: telephonies[0]!,
    readiness,
    mediaServers: {
      isReady: (server) => telephonies.find((telephony) => telephony.server === server)?.state === 'connected',
      liveSurveys: (server) => liveByServer.get(server) ?? 0,
    },
    start: () => {
      for (const telephony of telephonies) telephony.start();
    },
    stop: async () => {
      await Promise.all(telephonies.map((telephony) => telephony.stop()));
    },
  };
}

function bothObservers(first: SurveyObserver, second: SurveyObserver | undefined): SurveyObserver {
  if (!second) return first;
  return {
    surveyStarted: () => {
      first.surveyStarted?.();
      second.surveyStarted?.();
    },
    surveyEnded: (outcome, wasLive, reason) => {
      first.surveyEnded?.(outcome, wasLive, reason);
      second.surveyEnded?.(outcome, wasLive, reason);
    },
    ratingStored: (score, dtmfToStoredMs) => {
      first.ratingStored?.(score, dtmfToStoredMs);
      second.ratingStored?.(score, dtmfToStoredMs);
    },
  };
}
