// A page of answers (one read for many calls) split back into each call's answers.
import type { Answer } from '../db/schema.js';

/** Answers grouped by call, each call's in the order given. */
export function answersByCall(answers: readonly Answer[]): Map<string, Answer[]> {
  const grouped = new Map<string, Answer[]>();
  for (const answer of answers) {
    let list = grouped.get(answer.call_id);
    if (!list) grouped.set(answer.call_id, (list = []));
    list.push(answer);
  }
  return grouped;
}
