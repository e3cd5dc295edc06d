// `cc-csat reload`: asks the engine that engine.toml's [http] names to re-read its queues and IVRs
// (POST /-/reload, answered only to clients on the engine's host) and prints what it said.
import { request } from 'node:http';
import type { EngineFile } from './config/schema.js';

const REQUEST_TIMEOUT_MS = 15_000;
const MAX_ANSWER_BYTES = 1 << 20;

export interface ReloadPrinter {
  out(line: string): void;
  err(line: string): void;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/** The address to reach the API on from this host: a wildcard bind is reached on loopback. */
export function reloadUrl(http: EngineFile['http']): string {
  const host = http.host === '0.0.0.0' || http.host === '' ? '127.0.0.1' : http.host === '::' ? '::1' : http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${http.port}/-/reload`;
}

function post(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', timeout: REQUEST_TIMEOUT_MS, headers: { accept: 'application/json', 'content-length': '0' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        let body: Record<string, unknown> | undefined;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

/** 0 when the engine took the new config; 1 when it kept the old one, refused, or could not be reached. */
export async function requestReload(engineFile: string, engine: EngineFile, print: ReloadPrinter): Promise<number> {
  if (engine.http.port === 0) {
    print.err(`cc-csat reload: ${engineFile}: [http] port is 0 (any free port): the engine cannot be found; give it a fixed port`);
    return 1;
  }
  const url = reloadUrl(engine.http);
  let answer: Answer;
  try {
    answer = await post(url);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    print.err(`cc-csat reload: cannot reach cc-csat at ${url} (${code}): is it running with this engine config (${engineFile})?`);
    return 1;
  }
  const { status, body } = answer;
  const problems = Array.isArray(body?.['problems']) ? (body['problems'] as unknown[]).map(String) : [];
  if (status === 200 && body?.['result'] === 'ok') {
    const count = (n: unknown, one: string): string => `${String(n)} ${one}${n === 1 ? '' : 's'}`;
    print.out(`cc-csat reload: ok: ${count(body['queues'], 'queue')}, ${count(body['ivrs'], 'IVR')} (config ${String(body['hash'])}); new callers use them, surveys already running finish on theirs`);
    if (body['engine_file_changed'] === true) print.out(`note: ${engineFile} changed too: its settings take effect when cc-csat restarts`);
    return 0;
  }
  if (status === 422 && body?.['result'] === 'error') {
    print.err(`cc-csat reload: invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}); the engine keeps running on its previous config:`);
    for (const line of problems) print.err(`  ${line}`);
    return 1;
  }
  const detail = typeof body?.['detail'] === 'string' ? body['detail'] : 'no explanation';
  print.err(`cc-csat reload: ${status === 403 ? 'refused' : `the engine answered ${status}`}: ${detail}`);
  return 1;
}
