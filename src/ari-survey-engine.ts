// The call path of the engine: ARI calls into the survey controller, with overload admission and
// metrics. Built here only, so that `cc-csat start`, the simulator tests and the benchmarks run the
// same wiring from the same [ari] config: a setting wired in one of them and forgotten in another
// would make tests pass on an engine that users never run.
import { AriTelephony } from './ari/ari-telephony.js';
import type { EngineFile, Ivr, QueueConfig } from './config/schema.js';
import type { OpenDatabase } from './db/open.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { Admission } from './survey/admission.js';
import { SurveyController, type SurveyObserver } from './survey/controller.js';

export interface AriSurveyEngineOptions {
  /** The loaded config's [ari] section. */
  readonly ari: EngineFile['ari'];
  readonly ariPassword: string;
  readonly database: Pick<OpenDatabase, 'db' | 'writes'>;
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly ivrs: ReadonlyMap<string, Ivr>;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly overrides?: AriSurveyEngineOverrides;
}

/** What tests and benchmarks change; `cc-csat start` uses none of these. */
export interface AriSurveyEngineOverrides {
  /** In place of [ari] url: a simulator listens on a port known only once it runs. */
  readonly url?: string;
  /** In place of [ari] reconnect_max_delay_ms. */
  readonly reconnectMaxDelayMs?: number;
  /** The ARI adapter's logger; default `log.child({ component: 'ari' })`. */
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
  readonly onCallHandled?: (channelId: string, survey: Promise<void>) => void;
}

export interface AriSurveyEngine {
  readonly controller: SurveyController;
  /** Not started: the caller starts it when it is ready to take calls. */
  readonly telephony: AriTelephony;
}

export function buildAriSurveyEngine(options: AriSurveyEngineOptions): AriSurveyEngine {
  const { ari, metrics, log, overrides = {} } = options;
  const useAdmission = overrides.admission ?? true;
  const controller = new SurveyController({
    db: options.database.db,
    writes: options.database.writes,
    queues: options.queues,
    ivrs: options.ivrs,
    log,
    observer: bothObservers(metrics.surveyObserver(), overrides.observer),
    // Read at each StasisStart, by then `telephony` below exists.
    ...(useAdmission && {
      admission: new Admission(
        () => telephony.load,
        { maxSlowInFlight: ari.admission_max_in_flight, maxLatencyMs: ari.admission_max_latency_ms },
        () => metrics.admissionShed.inc(),
      ),
    }),
  });
  const telephony = new AriTelephony({
    url: overrides.url ?? ari.url,
    username: ari.username,
    password: options.ariPassword,
    app: ari.app,
    reconnectMaxDelayMs: overrides.reconnectMaxDelayMs ?? ari.reconnect_max_delay_ms,
    requestTimeoutMs: ari.request_timeout_ms,
    maxConcurrentRequests: ari.max_concurrent_requests,
    restTransport: ari.rest_transport,
    ...(useAdmission && { maxPreAdmissionRequests: ari.admission_max_in_flight }),
    log: overrides.ariLog ?? log.child({ component: 'ari' }),
    onStateChange: (state) => metrics.ariState(state),
    onReconnectAttempt: () => metrics.ariReconnects.inc(),
  });
  const { onCallHandled } = overrides;
  telephony.onCall((call) => {
    const survey = controller.handleCall(call);
    onCallHandled?.(call.channel.id, survey);
  });
  return { controller, telephony };
}

function bothObservers(first: SurveyObserver, second: SurveyObserver | undefined): SurveyObserver {
  if (!second) return first;
  return {
    surveyStarted: () => {
      first.surveyStarted?.();
      second.surveyStarted?.();
    },
    surveyEnded: (outcome, wasLive) => {
      first.surveyEnded?.(outcome, wasLive);
      second.surveyEnded?.(outcome, wasLive);
    },
    ratingStored: (score, dtmfToStoredMs) => {
      first.ratingStored?.(score, dtmfToStoredMs);
      second.ratingStored?.(score, dtmfToStoredMs);
    },
  };
}
