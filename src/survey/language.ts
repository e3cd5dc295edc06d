// Which language a caller is surveyed in: the channel's own (CHANNEL(language), set by the dialplan
// or the endpoint) when the queue offers it, else the queue's default.
import type { QueueConfig } from '../config/schema.js';

/** Also what each play asks of the channel (PlayOptions). */
export interface SurveyLanguage {
  /** The language the survey is played in and its answers are recorded with. */
  readonly language: string;
  /** The queue's default: prompts missing in `language` play in it. */
  readonly fallbackLanguage: string;
}

/**
 * Asterisk names languages as its sounds folders do ("fr", "fr_CA"); a phone or a dialplan may say
 * "fr-CA" or "FR". A regional language the queue does not offer gets its base language when that
 * is offered ("fr_CA" -> "fr"), as Asterisk itself looks in sounds/fr for a missing sounds/fr_CA file.
 */
export function chooseLanguage(channelLanguage: string | undefined, afterCall: Pick<QueueConfig['after_call'], 'language' | 'languages'>): SurveyLanguage {
  const fallbackLanguage = afterCall.language;
  const offered = afterCall.languages ?? [fallbackLanguage];
  const wanted = channelLanguage?.trim().replace(/-/g, '_').toLowerCase();
  if (!wanted) return { language: fallbackLanguage, fallbackLanguage };
  const exact = offered.find((code) => code.toLowerCase() === wanted);
  const base = exact ?? offered.find((code) => code.toLowerCase() === wanted.split('_')[0]);
  return { language: base ?? fallbackLanguage, fallbackLanguage };
}
