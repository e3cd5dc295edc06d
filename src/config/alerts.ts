// [alerts] in engine.toml: cross-references (names unique, every rule's destination and queues
// exist, every secret's variable set) and the destinations with their secrets resolved. Secrets come
// from the environment only, so engine.toml can be shared and versioned.
import type { AlertDestinationConfig, AlertRule, EngineFile } from './schema.js';
import { problem } from './problems.js';

export interface AlertDestination {
  readonly name: string;
  readonly url: string;
  /** The HMAC key of its signatures (from secret_env). */
  readonly secret: string;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface AlertsConfig {
  readonly maxAgeMs: number;
  readonly keepDeliveredMs: number;
  /** [alerts] public_url without a trailing slash; recording links are relative without it. */
  readonly publicUrl: string | undefined;
  readonly destinations: ReadonlyMap<string, AlertDestination>;
  readonly rules: readonly AlertRule[];
}

export function checkAlerts(file: string, engine: EngineFile, queueNames: ReadonlySet<string> | undefined, env: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  const destinations = new Map<string, number>();
  engine.alerts.destination.forEach((destination, index) => {
    const earlier = destinations.get(destination.name);
    if (earlier !== undefined) problems.push(problem(file, ['alerts', 'destination', index, 'name'], `duplicate destination "${destination.name}" (first at alerts.destination[${earlier}])`));
    else destinations.set(destination.name, index);
    if (!env[destination.secret_env]) problems.push(problem(file, ['alerts', 'destination', index, 'secret_env'], `environment variable ${destination.secret_env} is not set`));
  });
  const rules = new Map<string, number>();
  engine.alerts.rule.forEach((rule, index) => {
    const earlier = rules.get(rule.name);
    if (earlier !== undefined) problems.push(problem(file, ['alerts', 'rule', index, 'name'], `duplicate rule "${rule.name}" (first at alerts.rule[${earlier}])`));
    else rules.set(rule.name, index);
    if (!destinations.has(rule.destination)) {
      const known = [...destinations.keys()];
      problems.push(problem(file, ['alerts', 'rule', index, 'destination'], `no destination "${rule.destination}" in [[alerts.destination]]${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`));
    }
    // Unknown queues only when queues.toml could be read: otherwise its own problems say why.
    rule.queues?.forEach((queue, queueIndex) => {
      if (queueNames && !queueNames.has(queue)) problems.push(problem(file, ['alerts', 'rule', index, 'queues', queueIndex], `no queue "${queue}" in queues.toml`));
    });
  });
  return problems;
}

/** The checked [alerts] with secrets resolved (checkAlerts found every variable set). */
export function alertsConfig(engine: EngineFile, env: Readonly<Record<string, string | undefined>>): AlertsConfig {
  const destinations = new Map<string, AlertDestination>(
    engine.alerts.destination.map((destination: AlertDestinationConfig) => [
      destination.name,
      {
        name: destination.name,
        url: destination.url,
        secret: env[destination.secret_env]!,
        timeoutMs: destination.timeout_ms,
        concurrency: destination.concurrency,
        headers: destination.headers,
      },
    ]),
  );
  return {
    maxAgeMs: engine.alerts.max_age_hours * 3_600_000,
    keepDeliveredMs: engine.alerts.keep_delivered_days * 86_400_000,
    publicUrl: engine.alerts.public_url?.replace(/\/+$/, ''),
    destinations,
    rules: engine.alerts.rule,
  };
}
