// swagger-client 2.0.26 (ari-client's API loader) reports a failed load of the ARI description
// through our failure callback and then *throws* from inside its HTTP response handler, where
// nothing can catch it: a 401 (wrong password) or a 503 during an Asterisk restart would crash
// the engine. The failure callback already rejects ari.connect(), so the throw is dropped.
import { createRequire } from 'node:module';
import { deadlineSignal } from '../deadline-signal.js';

const requireFromAriClient = createRequire(createRequire(import.meta.url).resolve('ari-client'));
const swagger = requireFromAriClient('swagger-client') as {
  SwaggerApi: { prototype: { fail(message: unknown): void; failure(message: unknown): void } };
};

let installed = false;

export function installSwaggerFailGuard(): void {
  if (installed) return;
  installed = true;
  swagger.SwaggerApi.prototype.fail = function fail(message: unknown): void {
    this.failure(message);
  };
  // swagger-client assigns an implicit global `log` that console.logs a "deprecated Swagger"
  // notice on every connect (Asterisk serves Swagger 1.1) and keeps every message forever.
  // Our stdout is JSON lines for log shippers, so the notice is dropped.
  (globalThis as { log?: unknown }).log = () => undefined;
}

/**
 * Checks that ARI answers with its API description before ari-client loads it, so an operator
 * reads "rejected user csat (401)" instead of a swagger-client message.
 */
export async function probeAri(url: string, username: string, password: string, timeoutMs: number, stop?: AbortSignal): Promise<void> {
  const base = url.replace(/\/+$/, '');
  let response: Response;
  // A stop (SIGTERM) must not wait for an Asterisk that accepts connections and never answers.
  const deadline = deadlineSignal(timeoutMs, stop);
  try {
    response = await fetch(`${base}/ari/api-docs/resources.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
      signal: deadline.signal,
    });
  } catch (err) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, timeout) is in its cause.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err instanceof Error ? err.name : String(err));
    throw new Error(`ARI at ${base} unreachable (${reason})`);
  } finally {
    deadline.clear();
  }
  await response.body?.cancel();
  if (response.status === 401) {
    throw new Error(`ARI at ${base} rejected user "${username}" (401): check [ari] username/password against ari.conf`);
  }
  if (!response.ok) {
    throw new Error(`ARI at ${base} answered ${response.status} for /ari/api-docs/resources.json (is res_ari loaded, http.conf enabled?)`);
  }
}

interface EventModels {
  _swagger?: { apis?: { events?: { models?: Record<string, { properties?: unknown[] }> } } };
}

/**
 * ari-client turns every event's channel, playback and bridge into a resource object with every
 * REST operation attached (lodash loops over ~40 operations per object): a large share of the
 * engine's CPU per survey on a real Asterisk, for objects the engine never uses (it reads the
 * event's plain JSON; REST goes through rest-client.ts). With no typed properties on the event
 * models, ari-client emits the same events without building them.
 */
const eventsApi = (client: unknown) => (client as EventModels)._swagger?.apis?.events;

export function skipEventResources(client: unknown, frequentFirst: readonly string[] = []): void {
  const events = eventsApi(client);
  const models = events?.models;
  if (!events || !models) return;
  for (const model of Object.values(models)) model.properties = [];
  // ari-client finds each event's model by a linear search over ~80 models in their documented
  // order: the events that make up a survey go first, so each is found in a step or two.
  const reordered: Record<string, { properties?: unknown[] }> = {};
  for (const type of frequentFirst) if (Object.hasOwn(models, type)) reordered[type] = models[type]!;
  for (const [type, model] of Object.entries(models)) if (!Object.hasOwn(reordered, type)) reordered[type] = model;
  events.models = reordered;
}

/** Asterisk 20.13, 21.8, 22.3 and later describe RESTResponse among their events: REST can go over the event WebSocket. */
export function offersRestOverWebSocket(client: unknown): boolean {
  return Object.hasOwn(eventsApi(client)?.models ?? {}, 'RESTResponse');
}
