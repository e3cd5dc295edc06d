// How one exported rating is written: a CSV record (RFC 4180) or an NDJSON line. Comments lose any
// number long enough to be a phone number: an export leaves the engine, caller numbers must not.
import type { Answer, Rating } from '../db/schema.js';

export type ExportFormat = 'csv' | 'ndjson';

// 7 or more digits, allowing up to two separators between them ("+1 (555) 123-4567", "555 12 34"):
// a number written with spaces or dashes is as much a caller's number as one written without.
const LONG_NUMBER = /\+?\d(?:[ .()/-]{0,2}\d){6,}/g;

export function maskNumbers(text: string): string {
  return text.replace(LONG_NUMBER, '[number]');
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
