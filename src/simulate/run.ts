// `cc-csat simulate`: one survey through the real IVR engine, in the terminal. Keys come from
// --digits (scripted: each entry answers one question; "-" stays silent) or from the keyboard.
import type { AppConfig } from '../config/load.js';
import { openStorage } from '../storage/open.js';
import { createLogger } from '../log.js';
import { SurveyController } from '../survey/controller.js';
import { TerminalChannel } from './terminal-channel.js';

export interface SimulateOptions {
  readonly queue: string;
  readonly digits: readonly string[] | undefined;
  readonly agent: string;
  readonly callId: string;
}

export function parseDigits(value: string): string[] {
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!/^([0-9*#]|-)$/.test(entry)) {
      throw new Error(`--digits: "${entry}" is not a key; use one key per question (0-9, * or #), "-" for silence, e.g. --digits 9,3`);
    }
  }
  return entries;
}

/** The questions of an IVR: a playback ending with a collect prompt (retries prefix another prompt). */
function isQuestion(config: AppConfig, ivrName: string | undefined, media: readonly string[]): boolean {
  const ivr = ivrName ? config.ivrs.get(ivrName) : undefined;
  return (ivr?.step ?? []).some(
    (step) => step.type === 'collect' && media.length >= step.prompt.length && step.prompt.every((uri, i) => media[media.length - step.prompt.length + i] === uri),
  );
}

export async function simulate(config: AppConfig, options: SimulateOptions, io: { write(text: string): void; stdin: NodeJS.ReadStream }): Promise<number> {
  const line = (text: string): void => io.write(`${text}\n`);
  const scripted = options.digits !== undefined;
  const storage = await openStorage(config.database, { lockWaitMs: config.engine.database.lock_wait_ms, applicationName: 'cc-csat simulate' });
  try {
    await storage.migrate();
  } catch (err) {
    await storage.close();
    throw err;
  }
  const log = createLogger(config.engine.log.level === 'debug' || config.engine.log.level === 'trace' ? config.engine.log.level : 'warn', process.stderr);
  const controller = new SurveyController({ ratings: storage.ratings, answers: storage.answers, outcomes: storage.outcomes, queues: config.queues, ivrs: config.ivrs, log });
  const channel = new TerminalChannel({ line }, (uri) => (scripted ? 40 : uri.startsWith('digits:') ? 400 : 1500));
  const ivrName = config.queues.get(options.queue)?.after_call.csat_ivr;

  line(`☎ call ${options.callId} from queue ${options.queue}, agent ${options.agent}${ivrName ? `, IVR ${ivrName}` : ''}`);
  const pending = [...(options.digits ?? [])];
  let stopKeyboard = (): void => {};
  if (scripted) {
    channel.onPlaybackStart = (media) => {
      if (!isQuestion(config, ivrName, media)) return;
      const next = pending.shift();
      if (next !== undefined && next !== '-') setTimeout(() => channel.press(next), 10);
    };
  } else {
    line('  (press 0-9, * or # to answer; q or Ctrl-C hangs up)');
    stopKeyboard = readKeys(io.stdin, (key) => {
      if (/^[0-9*#]$/.test(key)) channel.press(key);
      else if (key === 'q' || key === '\u0003') channel.callerHangsUp();
    });
  }
  try {
    await controller.handleCall({ channel, args: [options.callId, options.agent, options.queue] });
  } finally {
    stopKeyboard();
  }
  const rows = (await storage.outcomes.forCall(options.callId)).filter((row) => row.channel_id === channel.id);
  await storage.close();
  const outcome = rows.at(-1);
  if (!outcome) {
    line('✘ no outcome recorded');
    return 1;
  }
  const score = outcome.score !== null ? `, score ${outcome.score} stored in cc_csat` : '';
  // The mark matches the exit code: only a stored rating is a success (exit 0); anything else exits 3.
  const mark = outcome.outcome === 'completed' ? '✔' : '✘';
  line(`${mark} outcome: ${outcome.outcome}${outcome.reason ? ` (${outcome.reason})` : ''}${score}; ${outcome.attempts} attempt(s), last step ${outcome.last_step ?? '-'}`);
  return outcome.outcome === 'completed' ? 0 : 3;
}

function readKeys(stdin: NodeJS.ReadStream, onKey: (key: string) => void): () => void {
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  const onData = (chunk: string): void => {
    for (const key of chunk) onKey(key);
  };
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  };
}
