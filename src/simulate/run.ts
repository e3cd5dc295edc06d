// `cc-csat simulate`: one survey through the real IVR engine, in the terminal. Keys come from
// --digits (scripted: each entry answers one question; "-" stays silent) or from the keyboard.
import type { AppConfig } from '../config/load.js';
import { openStorage } from '../storage/open.js';
import { createLogger } from '../log.js';
import { SurveyController } from '../survey/controller.js';
import { chooseLanguage } from '../survey/language.js';
import { TerminalChannel } from './terminal-channel.js';

export interface SimulateOptions {
  readonly queue: string;
  readonly digits: readonly string[] | undefined;
  readonly agent: string;
  readonly callId: string;
  /** The caller's channel language, as CHANNEL(language) would give it (`--language fr`); none: the queue's default. */
  readonly language?: string | undefined;
}

export function parseDigits(value: string): string[] {
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!/^([0-9*#]{1,8}|-)$/.test(entry)) {
      throw new Error(`--digits: "${entry}" is not a key or keys; use the keys of one answer per question (0-9, * or #, e.g. 10# for an NPS ten), "-" for silence, e.g. --digits 1,9,3`);
    }
  }
  return entries;
}

/** The questions of an IVR (the consent offer too): a playback ending with its prompt (retries prefix another prompt). */
function isQuestion(config: AppConfig, ivrName: string | undefined, media: readonly string[]): boolean {
  const ivr = ivrName ? config.ivrs.get(ivrName) : undefined;
  return (ivr?.step ?? []).some(
    (step) => (step.type === 'collect' || step.type === 'consent') && media.length >= step.prompt.length && step.prompt.every((uri, i) => media[media.length - step.prompt.length + i] === uri),
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
  const controller = new SurveyController({ ratings: storage.ratings, answers: storage.answers, outcomes: storage.outcomes, surveyedCallers: storage.surveyedCallers, callerHashKey: config.callerHashKey, queues: config.queues, ivrs: config.ivrs, log });
  const channel = new TerminalChannel({ line }, (uri) => (scripted ? 40 : uri.startsWith('digits:') ? 400 : 1500), options.language !== undefined);
  const queueConfig = config.queues.get(options.queue);
  const ivrName = queueConfig?.after_call.csat_ivr;

  line(`☎ call ${options.callId} from queue ${options.queue}, agent ${options.agent}${ivrName ? `, IVR ${ivrName}` : ''}`);
  if (options.language !== undefined && queueConfig) {
    const chosen = chooseLanguage(options.language, queueConfig.after_call).language;
    const offered = queueConfig.after_call.languages ?? [queueConfig.after_call.language];
    line(`  language ${options.language}: ${chosen === options.language ? 'offered' : `not offered (${offered.join(', ')}), the queue's default ${chosen} plays`}`);
  }
  const pending = [...(options.digits ?? [])];
  let stopKeyboard = (): void => {};
  if (scripted) {
    channel.onPlaybackStart = (media) => {
      if (!isQuestion(config, ivrName, media)) return;
      const next = pending.shift();
      // The keys of one answer a moment apart, as a caller types "10#".
      if (next !== undefined && next !== '-') [...next].forEach((key, index) => setTimeout(() => channel.press(key), 10 + index * 60));
    };
    // A comment's entry is how many seconds the caller speaks ("-": silent).
    channel.onRecordStart = () => {
      const next = pending.shift();
      setTimeout(() => channel.speak(next === undefined || next === '-' ? 0 : Number(next.replace(/\D/g, '') || 0)), 10);
    };
  } else {
    line('  (press 0-9, * or # to answer; q or Ctrl-C hangs up)');
    let spoken = '';
    channel.onRecordStart = () => {
      spoken = '';
      line('  (type how many seconds you speak, then Enter)');
    };
    stopKeyboard = readKeys(io.stdin, (key) => {
      if (channel.recordingActive && /^[0-9\r\n]$/.test(key)) {
        if (/\d/.test(key)) spoken += key;
        else channel.speak(Number(spoken || 0));
        return;
      }
      if (/^[0-9*#]$/.test(key)) channel.press(key);
      else if (key === 'q' || key === '\u0003') channel.callerHangsUp();
    });
  }
  try {
    await controller.handleCall({ channel, args: [options.callId, options.agent, options.queue], language: options.language });
  } finally {
    stopKeyboard();
  }
  const rows = (await storage.outcomes.forCall(options.callId)).filter((row) => row.channel_id === channel.id);
  // This call's answers only: a repeated --call-id finds the earlier run's answers too.
  const startedAt = rows.at(-1)?.started_at;
  const answers = (await storage.answers.forCalls([options.callId])).filter((answer) => startedAt !== undefined && answer.answered_at >= startedAt);
  await storage.close();
  for (const answer of answers) {
    const shown = answer.kind === 'comment' ? `recorded ${((answer.recording_ms ?? 0) / 1000).toFixed(1)} s` : answer.kind === 'yes_no' ? (answer.value === 1 ? 'yes' : 'no') : String(answer.value);
    line(`  ✎ ${answer.question_id} (${answer.kind}): ${shown}${answer.digits ? ` [keys ${answer.digits}]` : ''}${answer.language && options.language !== undefined ? ` [${answer.language}]` : ''}`);
  }
  const outcome = rows.at(-1);
  if (!outcome) {
    line('✘ no outcome recorded');
    return 1;
  }
  const score = outcome.score !== null ? `, score ${outcome.score} stored in cc_csat` : '';
  // The mark matches the exit code: only a completed survey is a success (exit 0); anything else exits 3.
  const mark = outcome.outcome === 'completed' ? '✔' : '✘';
  const consent = outcome.consent ? `, consent ${outcome.consent}` : '';
  line(`${mark} outcome: ${outcome.outcome}${outcome.reason ? ` (${outcome.reason})` : ''}${consent}${score}; ${outcome.attempts} attempt(s), last step ${outcome.last_step ?? '-'}`);
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
