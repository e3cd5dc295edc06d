// One shape for an answer in API output (GET /cc/csat/:call_id and /cc/csat/responses alike).
import type { Answer } from '../db/schema.js';

/** An answer as the API shows it: the call's own ids and the row id are already in the enclosing item. */
export function answerFields(answer: Answer) {
  return {
    question_id: answer.question_id,
    kind: answer.kind,
    value: answer.value,
    digits: answer.digits,
    language: answer.language,
    answered_at: answer.answered_at,
    // 'ivr' (keys on the call), 'link' (a rating link opened later) or a feedback channel (chat, email...).
    source: answer.source,
    // Feedback from another channel: the customer's words (null for the IVR's answers and links).
    message: answer.message,
    recording: answer.recording === null ? null : { name: answer.recording, duration_ms: answer.recording_ms ?? 0, format: answer.recording_format },
  };
}

/**
 * Where the recording of a spoken comment is served; the question is named when the call has several.
 * Shown to every reader: the link names nothing the item does not, and GET on it needs csat:recordings.
 */
export function recordingUrl(answer: Answer, recordingsOfCall: number): string | null {
  if (answer.recording === null || answer.recording_deleted_at !== null) return null;
  const path = `/cc/csat/${encodeURIComponent(answer.call_id)}/recording`;
  return recordingsOfCall > 1 ? `${path}?question=${encodeURIComponent(answer.question_id)}` : path;
}

/** One call's answers as the API shows them, each with its recording_url. */
export function callAnswersOut(answers: readonly Answer[]) {
  // Counted over all the call's recordings, deleted ones too: the recording route asks for ?question
  // whenever the call has several rows with a recording, whatever their retention state.
  const recordings = answers.filter((answer) => answer.recording !== null).length;
  return answers.map((answer) => ({ ...answerFields(answer), recording_url: recordingUrl(answer, recordings) }));
}
