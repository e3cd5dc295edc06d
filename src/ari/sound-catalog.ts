// Which languages each survey sound exists in on one Asterisk server, to pick the language a prompt
// plays in. Asterisk's own fallback for a sound missing in the language asked for is the bare
// sounds/ folder and then "en" only (file.c), and a media list plays in one language: a French
// caller would hear "en" where the queue's default is another language, or half a prompt in each
// voice. So a list plays in the caller's language only when every sound of it exists there, else
// wholly in the queue's default language.
//
// Asked of Asterisk (GET /sounds/{id}) the first time a sound is played in a language other than
// the default, then kept a while: the sounds are the ones the IVRs name (plus the twelve digit
// sounds), so the cache is bounded by config, not by callers. Forgotten on every (re)connect (the
// server may have been reinstalled) and after ENTRY_TTL_MS (ops run make-prompts for a new
// language while Asterisk runs: Asterisk's sound index sees new files at once).
import type { Logger } from '../log.js';
import { ariErrorMessage } from './errors.js';
import type { RequestPriority } from './request-pool.js';

const ENTRY_TTL_MS = 5 * 60_000;
/** Far above any real IVR set; a catalog this full is emptied rather than grown. */
const MAX_ENTRIES = 2_000;

/** The sound files a media URI plays: sound:X is X, digits:12 is digits/1 and digits/2 (as Asterisk's say.c names them). */
export function soundsOf(uri: string): string[] {
  if (uri.startsWith('sound:')) return [uri.slice('sound:'.length)];
  if (uri.startsWith('digits:')) {
    const names: string[] = [];
    for (const char of uri.slice('digits:'.length)) {
      if (char >= '0' && char <= '9') names.push(`digits/${char}`);
      else if (char === '*') names.push('digits/star');
      else if (char === '#') names.push('digits/pound');
    }
    return names;
  }
  // number:, characters:, tone:, recording: are not checked: Asterisk's file-by-file fallback applies.
  return [];
}

export interface SoundLookup {
  /**
   * The languages `soundId` exists in on the server; an empty set when Asterisk has no such sound.
   * Throws when Asterisk could not say (then nothing is assumed and nothing is kept).
   */
  (soundId: string, priority: RequestPriority): Promise<ReadonlySet<string>>;
}

interface Entry {
  readonly languages: Promise<ReadonlySet<string>>;
  readonly at: number;
}

export class SoundCatalog {
  private readonly entries = new Map<string, Entry>();
  /** "language\0sound" already warned about: one line per missing sound and language, not one per caller. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly lookup: SoundLookup,
    private readonly log: () => Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Forget everything (a new connection: the server's sounds may differ). */
  clear(): void {
    this.entries.clear();
    this.warned.clear();
  }

  /**
   * `language` if every sound of `media` exists in it, else `fallback`. When Asterisk cannot say
   * (a timeout), `language`: Asterisk then falls back file by file on its own, which beats silence.
   */
  async languageFor(media: readonly string[], language: string, fallback: string, priority: RequestPriority): Promise<string> {
    if (language === fallback) return language;
    const sounds = media.flatMap(soundsOf);
    if (sounds.length === 0) return language;
    const found = await Promise.all(sounds.map((sound) => this.languagesOf(sound, priority)));
    const missing = sounds.filter((_, i) => found[i] !== undefined && !found[i]!.has(language));
    if (missing.length === 0) return language;
    for (const sound of missing) {
      const key = `${language}\u0000${sound}`;
      if (this.warned.has(key)) continue;
      if (this.warned.size >= MAX_ENTRIES) this.warned.clear();
      this.warned.add(key);
      this.log().warn({ sound, language, fallback_language: fallback }, 'sound missing in the caller\'s language: its prompts play in the queue\'s default language');
    }
    return fallback;
  }

  /** The languages of one sound, or undefined when Asterisk could not say. */
  private async languagesOf(sound: string, priority: RequestPriority): Promise<ReadonlySet<string> | undefined> {
    const now = this.now();
    let entry = this.entries.get(sound);
    if (!entry || now - entry.at > ENTRY_TTL_MS) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      entry = { languages: this.lookup(sound, priority), at: now };
      this.entries.set(sound, entry);
    }
    const asked = entry;
    try {
      return await asked.languages;
    } catch (err) {
      // Not kept: the next prompt asks again.
      if (this.entries.get(sound) === asked) this.entries.delete(sound);
      this.log().debug({ sound, err: ariErrorMessage(err) }, 'could not look up the languages of a sound');
      return undefined;
    }
  }
}

/** Asterisk's answer for a sound id it has no file of. */
export function isSoundMissing(err: unknown): boolean {
  return /sound not found/i.test(ariErrorMessage(err));
}
