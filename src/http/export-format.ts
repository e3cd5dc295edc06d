// How one exported rating is written: a CSV record (RFC 4180) or an NDJSON line. Comments lose any
// number long enough to be a phone number: an export leaves the engine, caller numbers must not.
import type { Answer, Rating } from '../db/schema.js';

export type ExportFormat = 'csv' | 'ndjson';

// A phone number is 7 or more digits, with up to three separators between two of them ("+1 (555)
// 123-4567", "+33 - 6 12 34 56 78", "06 . 12 . 34"): written with spaces or dashes it is as much a
// caller's number as without. Digits of any script count (full-width ０-９, Arabic-Indic ٠-٩): a
// phone keyboard or an input method writes those just as well.
const MIN_NUMBER_DIGITS = 7;
const MAX_SEPARATOR_RUN = 3;
const SEPARATORS = new Set([' ', '.', '-', '/', '(', ')']);
const DIGIT = /^\p{Nd}$/u;
const ANY_DIGIT = /\p{Nd}/u;

const isDigit = (char: string): boolean => (char >= '0' && char <= '9') || (char > '\u007f' && DIGIT.test(char));

/**
 * Every number long enough to be a phone number, replaced by "[number]". A scanner, not a regex: a
 * backtracking regex over a long run of digits overflows V8's stack (a stored comment is data, it
 * may be anything), where this reads each character at most twice.
 */
export function maskNumbers(text: string): string {
  if (!ANY_DIGIT.test(text)) return text;
  let masked = '';
  let copiedUpTo = 0;
  let at = 0;
  while (at < text.length) {
    const first = String.fromCodePoint(text.codePointAt(at)!);
    if (!isDigit(first)) {
      at += first.length;
      continue;
    }
    // The run from this digit: digits joined by at most MAX_SEPARATOR_RUN separators; it ends after its last digit.
    let digits = 0;
    let separators = 0;
    let end = at;
    for (let next = at; next < text.length; ) {
      const char = String.fromCodePoint(text.codePointAt(next)!);
      if (isDigit(char)) {
        digits++;
        separators = 0;
        next += char.length;
        end = next;
      } else if (SEPARATORS.has(char) && separators < MAX_SEPARATOR_RUN) {
        separators++;
        next += 1;
      } else {
        break;
      }
    }
    if (digits >= MIN_NUMBER_DIGITS) {
      const start = at > copiedUpTo && text[at - 1] === '+' ? at - 1 : at;
      masked += `${text.slice(copiedUpTo, start)}[number]`;
      copiedUpTo = end;
    }
    // Any later start inside this run has fewer digits: nothing more to find in it.
    at = end;
  }
  return masked + text.slice(copiedUpTo);
}

// A cell a spreadsheet would run as a formula (OWASP's list: = + - @, and tab and CR that some read as such).
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: a formula-looking text defused with a leading ', quoted when it holds , " CR or LF. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const CRLF = '\r\n';

export function csvHeader(includeComments: boolean): string {
  return ['id', 'call_id', 'created_at', 'agent_id', 'queue_id', 'score', ...(includeComments ? ['comment'] : []), 'answers'].join(',') + CRLF;
}

/** "q1=5;nps=9": each answer's question and value, in the order given; a spoken comment has no value ("voice="). */
function answersCell(answers: readonly Answer[]): string {
  return answers.map((answer) => `${answer.question_id}=${answer.value ?? ''}`).join(';');
}

export function exportRecord(format: ExportFormat, rating: Rating, answers: readonly Answer[], includeComments: boolean): string {
  const comment = rating.comment === null ? null : maskNumbers(rating.comment);
  if (format === 'ndjson') {
    return (
      JSON.stringify({
        id: rating.id,
        call_id: rating.call_id,
        created_at: rating.created_at,
        agent_id: rating.agent_id,
        queue_id: rating.queue_id,
        score: rating.score,
        ...(includeComments ? { comment } : {}),
        answers: answers.map((answer) => ({ question_id: answer.question_id, kind: answer.kind, value: answer.value })),
      }) + '\n'
    );
  }
  const fields = [rating.id, rating.call_id, rating.created_at, rating.agent_id, rating.queue_id, rating.score, ...(includeComments ? [comment] : []), answersCell(answers)];
  return fields.map(csvField).join(',') + CRLF;
}
