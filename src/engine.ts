// `cc-csat start`: wires config, database, ARI controller and HTTP API together, and owns shutdown.
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { AriTelephony } from './ari/ari-telephony.js';
import { useBoundedAriAgent } from './ari/http-agent.js';
import type { AppConfig } from './config/load.js';
import { startCheckpointer } from './db/checkpointer.js';
import { migrate } from './db/migrate.js';
import { openDatabase } from './db/open.js';
import { createHttpApp } from './http/app.js';
import { createLogger } from './log.js';
import { Metrics } from './metrics.js';
import { ResultService } from './results/service.js';
import { SurveyController } from './survey/controller.js';

const CHECKPOINT_INTERVAL_MS = 1000;
const BACKGROUND_CHECKPOINT_SAFETY_PAGES = 20_000;

export async function runEngine(config: AppConfig): Promise<number> {
  const { engine } = config;
  const log = createLogger(engine.log.level);
  const inMemory = config.sqlitePath === ':memory:';
  // Checkpoints (and their fsync) run on a worker thread, never on the event loop serving calls.
  const database = openDatabase(config.sqlitePath, inMemory ? {} : { walAutocheckpointPages: BACKGROUND_CHECKPOINT_SAFETY_PAGES });
  const applied = await migrate(database.db);
  if (applied.length > 0) log.info({ applied: applied.map((m) => m.name) }, 'database migrated');
  const checkpointer = inMemory ? undefined : startCheckpointer(config.sqlitePath, CHECKPOINT_INTERVAL_MS, log.child({ component: 'db' }));

  const metrics = new Metrics();
  const controller = new SurveyController({
    db: database.db,
    queues: config.queues,
    ivrs: config.ivrs,
    log,
    observer: metrics.surveyObserver(),
  });
  const telephony = new AriTelephony({
    url: engine.ari.url,
    username: engine.ari.username,
    password: config.ariPassword,
    app: engine.ari.app,
    reconnectMaxDelayMs: engine.ari.reconnect_max_delay_ms,
    requestTimeoutMs: engine.ari.request_timeout_ms,
    log: log.child({ component: 'ari' }),
    onStateChange: (state) => metrics.ariState(state),
    onReconnectAttempt: () => metrics.ariReconnects.inc(),
  });
  telephony.onCall((call) => void controller.handleCall(call));
  useBoundedAriAgent(engine.ari.max_concurrent_requests);

  const results = new ResultService({
    db: database.db,
    timezone: engine.results.timezone,
    log: log.child({ component: 'results' }),
    onRun: (report) => metrics.resultRunDuration.observe({ kind: report.kind }, report.durationMs / 1000),
    onError: () => metrics.resultRunErrors.inc(),
  });
  // First run at boot, before any call is taken: when it must be a full rebuild (first start on
  // an existing database, a changed timezone) it holds the write lock for seconds per million
  // ratings, which live surveys must never wait on. Then incremental runs on schedule.
  await results.run('incremental').catch((err: unknown) => log.error({ err }, 'initial result service run failed'));
  results.start(engine.results.schedule);
  telephony.start();

  const separateMetrics = engine.metrics.port !== undefined;
  const app = createHttpApp({ config, db: database.db, log, telephony, sqlite: database.sqlite, reader: database.reader, metrics, serveMetrics: !separateMetrics });
  const server = await listen(app, engine.http.port, engine.http.host);
  let metricsServer: Server | undefined;
  if (separateMetrics) {
    const metricsApp = express();
    metricsApp.get('/metrics', metrics.handler());
    metricsServer = await listen(metricsApp, engine.metrics.port!, engine.metrics.host);
  }
  log.info(
    { address: server.address(), metrics_address: metricsServer?.address(), db: config.sqlitePath, queues: config.queues.size, ivrs: config.ivrs.size },
    'cc-csat started',
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      const graceMs = engine.survey.shutdown_grace_ms;
      log.info({ signal, live_surveys: controller.liveCount, grace_ms: graceMs }, 'shutting down: no new surveys, finishing live ones');
      const drained = await controller.drain(graceMs);
      log.info(drained, 'live surveys settled');
      await telephony.stop();
      await results.stop();
      for (const open of [server, metricsServer]) {
        if (!open) continue;
        const closed = new Promise<void>((done) => open.close(() => done()));
        open.closeIdleConnections();
        await closed;
      }
      await checkpointer?.stop();
      await database.close();
      log.info('stopped');
      resolve(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}

function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}
