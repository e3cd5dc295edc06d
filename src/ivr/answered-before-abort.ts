// Thrown by a step that was aborted (hang-up, deadline, shutdown) yet holds an answer worth keeping:
// a spoken comment Asterisk finished recording as the caller hung up. The runner stores the answer,
// then ends the survey as the abort says.
import type { CollectedAnswer } from './context.js';

export class AnsweredBeforeAbort extends Error {
  constructor(
    readonly answer: CollectedAnswer,
    /** The abort's own reason (ctx.signal.reason). */
    readonly abortReason: unknown,
  ) {
    super('step aborted with an answer to keep');
    this.name = 'AnsweredBeforeAbort';
  }
}
