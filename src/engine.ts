// `cc-csat start`: wires config, database, ARI controller and HTTP API together, and owns shutdown.
import express from 'express';
import { buildAriSurveyEngine } from './ari-survey-engine.js';
import type { AppConfig } from './config/load.js';
import { startCheckpointer } from './db/checkpointer.js';
import { migrate } from './db/migrate.js';
import { openDatabase, type OpenDatabase } from './db/open.js';
import { createHttpApp } from './http/app.js';
import { listenFirst, type ListeningServer } from './http/server.js';
import { createLogger } from './log.js';
import { Metrics } from './metrics.js';
import { ResultService } from './results/service.js';

const CHECKPOINT_INTERVAL_MS = 1000;
const BACKGROUND_CHECKPOINT_SAFETY_PAGES = 20_000;

export async function runEngine(config: AppConfig): Promise<number> {
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

  const inMemory = config.sqlitePath === ':memory:';
  let database: OpenDatabase;
  try {
    database = openDatabase(config.sqlitePath, {
      // Checkpoints (and their fsync) run on a worker thread, never on the event loop serving calls.
      ...(inMemory ? {} : { walAutocheckpointPages: BACKGROUND_CHECKPOINT_SAFETY_PAGES }),
      lockWaitMs: engine.database.lock_wait_ms,
      onLeakedTransaction: (what) => log.error({ what }, 'found a transaction left open on the writer connection; rolled it back before writing'),
    });
    const applied = await migrate(database.db);
    if (applied.length > 0) log.info({ applied: applied.map((m) => m.name) }, 'database migrated');
  } catch (err) {
    closeListening();
    throw err;
  }

  const metrics = new Metrics();
  const results = new ResultService({
    writes: database.writes,
    timezone: engine.results.timezone,
    log: log.child({ component: 'results' }),
    onRun: (report) => metrics.resultRunDuration.observe({ kind: report.kind }, report.durationMs / 1000),
    onError: () => metrics.resultRunErrors.inc(),
  });
  // First run at boot, before any call is taken: when it must be a full rebuild (first start on
  // an existing database, a changed timezone) it holds the write lock for seconds per million
  // ratings, which live surveys must never wait on. Then incremental runs on schedule.
  await results.run('incremental').catch((err: unknown) => log.error({ err }, 'initial result service run failed'));
  // From here on live calls depend on the event loop: no statement may wait for a lock inside SQLite.
  database.writes.neverBlockOnLocks();

  const { controller, telephony } = buildAriSurveyEngine({
    ari: engine.ari,
    ariPassword: config.ariPassword,
    database,
    queues: config.queues,
    ivrs: config.ivrs,
    log,
    metrics,
  });

  const app = createHttpApp({ config, db: database.db, writes: database.writes, log, telephony, reader: database.reader, metrics, serveMetrics: !metricsListener });
  http.serve(app);
  if (metricsListener) {
    const metricsApp = express();
    metricsApp.get('/metrics', metrics.handler());
    metricsListener.serve(metricsApp);
  }
  const server = http.server;
  const metricsServer = metricsListener?.server;

  const checkpointer = inMemory ? undefined : startCheckpointer(config.sqlitePath, CHECKPOINT_INTERVAL_MS, log.child({ component: 'db' }));
  results.start(engine.results.schedule);
  telephony.start();
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

