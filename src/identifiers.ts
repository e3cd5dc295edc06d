// What a stored identifier (call, agent, queue) or comment may contain: one rule for the IVR's
// admission and for the API, so whatever the IVR stores, the API can query, and the reverse.
//
// Asterisk hands us ${MEMBERNAME} verbatim ("Alice Smith" is a real agent name), so inner spaces
// are fine. What is refused is what a reader cannot see or a consumer cannot decode: control
// characters (NUL, ESC), invisible format characters (bidi overrides that reverse how a name
// displays, zero-width spaces that make two ids look equal), and unpaired UTF-16 surrogates, which
// SQLite would store as invalid UTF-8 that breaks other readers.

export const MAX_ID_CHARS = 128;

/** Call ids that cannot be read back at GET /cc/csat/:call_id (routes of their own, or dot segments clients normalise away). */
export const RESERVED_CALL_IDS: ReadonlySet<string> = new Set(['responses', 'agent', 'queue', 'team', 'teams', 'queues', 'questions', 'funnel', 'export', 'exports', 'health', '.', '..']);

// One code point at a time (the u flag keeps surrogate pairs whole, so a lone half matches \p{Cs}).
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\uFFFE\uFFFF]/u;
const EMOJI_BEFORE_JOINER = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F]$/u;
const EMOJI_AFTER_JOINER = /^\p{Extended_Pictographic}$/u;

function kindOf(char: string): string {
  if (/\p{Cs}/u.test(char)) return 'an unpaired UTF-16 surrogate (not valid Unicode)';
  if (/\p{Cc}/u.test(char)) return 'a control character';
  if (/[\p{Zl}\p{Zp}]/u.test(char)) return 'a line or paragraph separator';
  if (/\p{Cf}/u.test(char)) return 'an invisible formatting character (bidi control, zero-width...)';
  return 'a noncharacter';
}

const codePoint = (char: string): string => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The first character `text` may not contain, described for a 400 ("character U+202E at position 4 is
 * an invisible formatting character..."), or undefined. `multiline` allows tab and line breaks
 * (comments), and a zero-width joiner inside an emoji sequence.
 */
export function forbiddenCharacter(text: string, options: { multiline: boolean }): string | undefined {
  const chars = [...text];
  for (let index = 0; index < chars.length; index++) {
    const char = chars[index]!;
    if (!FORBIDDEN.test(char)) continue;
    if (options.multiline && (char === '\t' || char === '\n' || char === '\r')) continue;
    if (options.multiline && char === '\u200d' && EMOJI_BEFORE_JOINER.test(chars[index - 1] ?? '') && EMOJI_AFTER_JOINER.test(chars[index + 1] ?? '')) {
      continue;
    }
    return `character ${codePoint(char)} at position ${index + 1} is ${kindOf(char)}`;
  }
  return undefined;
}

// In an identifier, also what renders as nothing or as a plain space without being one: a Hangul
// filler or a variation selector, a no-break space. "José" typed with a combining accent (NFD)
// displays exactly as the precomposed one (NFC): both would be stored as two agents.
const INVISIBLE_IN_ID = /\p{Default_Ignorable_Code_Point}|(?! )\p{Zs}/u;

/** Why `value` cannot be an identifier named `what` (e.g. "agent_id"), or undefined when it can. */
export function identifierProblem(value: string, what: string): string | undefined {
  if (value.length === 0) return `${what} must not be empty`;
  if ([...value].length > MAX_ID_CHARS) return `${what} is at most ${MAX_ID_CHARS} characters`;
  const forbidden = forbiddenCharacter(value, { multiline: false });
  if (forbidden) return `${what}: ${forbidden}`;
  const chars = [...value];
  const invisible = chars.findIndex((char) => INVISIBLE_IN_ID.test(char));
  if (invisible >= 0) return `${what}: character ${codePoint(chars[invisible]!)} at position ${invisible + 1} is invisible or a space other than U+0020`;
  if (value.normalize('NFC') !== value) return `${what} is not in Unicode NFC form (a letter and its accent typed as two characters?)`;
  if (value.trim() !== value) return `${what} must not start or end with a space`;
  if (what === 'call_id' && RESERVED_CALL_IDS.has(value)) return `call_id "${value}" is reserved (it cannot be read back at /cc/csat/${value})`;
  return undefined;
}
