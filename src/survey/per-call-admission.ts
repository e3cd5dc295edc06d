// With several Asterisk servers each has its own overload admission: a caller on an overloaded
// server is refused, callers on the others are not. The controller asks its one `admission` once per
// caller, without saying which: it does so synchronously in handleCall, before its first await. So
// the server that took the call names its admission around that synchronous call, and this answers
// with it.
import type { Admission, AdmissionDecision } from './admission.js';

type Decider = Pick<Admission, 'decide'>;

export class PerCallAdmission {
  private current: Decider | undefined;

  /** Runs `handle` (the controller's handleCall) with `admission` as the one its decision is asked of. */
  during<T>(admission: Decider, handle: () => T): T {
    this.current = admission;
    try {
      return handle();
    } finally {
      this.current = undefined;
    }
  }

  decide(): AdmissionDecision {
    const admission = this.current;
    // Asked outside `during` (the controller now awaits before asking): no server can be named, and
    // guessing one would refuse or admit callers on another server's load. Failing makes the call a
    // recorded `failed` outcome, sent back to the dialplan, and the tests fail loudly.
    if (!admission) throw new Error('overload admission asked outside the call that needs it (SurveyController must decide before its first await)');
    // Once per caller: a second question in the same call would count a refusal twice.
    this.current = undefined;
    return admission.decide();
  }
}
