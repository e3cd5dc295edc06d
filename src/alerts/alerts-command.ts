// `cc-csat alerts list|show ID|retry ID|retry --dead`: the operator's view of the alert outbox, on the
// database the engines share. retry makes a dead or pending delivery due now; a running engine's
// worker takes it within its poll (1 s). The payload holds caller data: show prints it, list does not.
import type { AlertStatus } from '../db/schema.js';
import type { AlertOutboxStore, AlertRecord } from '../storage/ports.js';
import { alertOut, shownPayload } from './alert-output.js';

export interface AlertsCommandOptions {
  readonly status?: string | undefined;
  readonly limit?: string | undefined;
  readonly dead: boolean;
  readonly json: boolean;
}

export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

export const ALERTS_USAGE = 'list [--status pending|delivered|dead] [--limit N] [--json] | show ID [--json] | retry ID | retry --dead';

const STATUSES: readonly AlertStatus[] = ['pending', 'delivered', 'dead'];
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

export async function runAlertsCommand(store: AlertOutboxStore, args: readonly string[], options: AlertsCommandOptions, io: CommandOutput, now: () => Date = () => new Date()): Promise<number> {
  const [action, ...rest] = args;
  const usage = (problem: string): number => {
    io.err(`cc-csat alerts: ${problem}\nusage: cc-csat alerts ${ALERTS_USAGE}`);
    return 2;
  };
  switch (action) {
    case 'list': {
      if (rest.length > 0) return usage(`unexpected argument "${rest[0]}"`);
      const status = options.status;
      if (status !== undefined && !STATUSES.includes(status as AlertStatus)) return usage(`--status must be one of ${STATUSES.join(', ')}, not "${status}"`);
      const limit = options.limit === undefined ? DEFAULT_LIMIT : Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return usage(`--limit must be a whole number from 1 to ${MAX_LIMIT}`);
      const rows = await store.list({ status: status as AlertStatus | undefined, limit });
      if (options.json) io.out(JSON.stringify(rows.map(alertOut)));
      else if (rows.length === 0) io.out('no alerts');
      else for (const row of rows) io.out(listLine(row));
      return 0;
    }
    case 'show': {
      const id = parseId(rest);
      if (id === undefined) return usage('show takes one alert id (a number from cc-csat alerts list)');
      const row = await store.get(id);
      if (!row) {
        io.err(`cc-csat alerts: no alert ${id}`);
        return 1;
      }
      io.out(JSON.stringify({ ...alertOut(row), payload: shownPayload(row) }, null, options.json ? undefined : 2));
      return 0;
    }
    case 'retry': {
      const at = now().toISOString();
      if (options.dead) {
        if (rest.length > 0) return usage('retry --dead takes no id');
        const count = await store.retryDead(at);
        io.out(`${count} dead alert(s) due again now`);
        return 0;
      }
      const id = parseId(rest);
      if (id === undefined) return usage('retry takes one alert id, or --dead for every dead letter');
      if (await store.retry(id, at)) {
        io.out(`alert ${id} due again now`);
        return 0;
      }
      const row = await store.get(id);
      io.err(`cc-csat alerts: ${row ? `alert ${id} was delivered at ${row.deliveredAt}; nothing to retry` : `no alert ${id}`}`);
      return 1;
    }
    case undefined:
      return usage('say what to do');
    default:
      return usage(`unknown action "${action}"`);
  }
}

function parseId(rest: readonly string[]): number | undefined {
  if (rest.length !== 1 || !/^[1-9]\d{0,15}$/.test(rest[0]!)) return undefined;
  return Number(rest[0]);
}

function listLine(row: AlertRecord): string {
  const when = row.status === 'delivered' ? `delivered ${row.deliveredAt}` : row.status === 'dead' ? `dead ${row.deadAt}` : `next ${row.nextAttemptAt}`;
  return [String(row.id).padStart(6), row.status.padEnd(9), row.destination, row.idempotencyKey, `attempts ${row.attempts}`, when, row.lastError ? `(${row.lastError})` : '']
    .filter(Boolean)
    .join('  ');
}
