import type { Branch, StepOf } from '../../config/schema.js';
import { canGrow } from '../../config/questions.js';
import type { StepContext, StepResult } from '../context.js';
import { AnsweredBeforeAbort } from '../answered-before-abort.js';
import { askQuestion, type AskFailure } from '../question-prompt.js';

/** What the caller keyed in for one try at the question. */
type Entry =
  | { readonly kind: 'none' }
  | { readonly kind: 'skip' }
  | { readonly kind: 'invalid'; readonly keys: string }
  | { readonly kind: 'value'; readonly keys: string; readonly value: number };

/**
 * Prompt, then wait `timeout_ms` (counted from the prompt's end) for the answer: one key of `scores`,
 * or a typed number in `range`. A key pressed during an interruptible prompt stops it and counts. After
 * an invalid answer or silence, the invalid/no-input prompt plays followed by the question again, up to
 * max_retries more times. The answer's value picks the next step (`branch`, else `next`).
 */
export async function runCollect(step: StepOf<'collect'>, ctx: StepContext): Promise<StepResult> {
  let lastFailure: AskFailure | undefined;
  for (let attempt = 0; attempt <= step.max_retries; attempt++) {
    ctx.countAttempt();
    const asked = await askQuestion(ctx, step, lastFailure);
    if (asked.failed !== undefined) return { kind: 'failed', reason: asked.failed };
    const entry = step.range ? await readTypedNumber(step, step.range, ctx) : await readKey(step, ctx);
    switch (entry.kind) {
      case 'none':
        lastFailure = 'no_input';
        ctx.log.info({ attempt: attempt + 1 }, 'no key pressed before timeout');
        continue;
      case 'invalid':
        lastFailure = 'invalid';
        // Keys pressed right after the wrong one stay buffered: a caller correcting a slip is answered at once.
        ctx.log.info({ attempt: attempt + 1, digit: entry.keys }, 'invalid key');
        continue;
      case 'skip':
        return { kind: 'skipped', question: step.id, next: step.next };
      case 'value':
        return {
          kind: 'answered',
          answer: { question: step.id, kind: step.kind, digit: entry.keys, value: entry.value, headline: ctx.ivr.headline === step.id },
          next: branchTarget(step.branch, entry.value) ?? step.next,
          onFailure: step.on_failure,
        };
    }
  }
  return { kind: 'exhausted', reason: lastFailure ?? 'no_input', goto: step.on_failure };
}

async function readKey(step: StepOf<'collect'>, ctx: StepContext): Promise<Entry> {
  const key = await ctx.digits.next(step.timeout_ms, ctx.signal);
  if (key === undefined) return { kind: 'none' };
  if (key === step.skip_key) return { kind: 'skip' };
  const valid = step.digits === undefined || step.digits.includes(key);
  const value = valid ? step.scores?.[key] : undefined;
  return value === undefined ? { kind: 'invalid', keys: key } : { kind: 'value', keys: key, value };
}

/**
 * A number of one or more keys ("10" for an NPS ten). It ends at the terminator, after
 * inter_digit_timeout_ms without a key (a single "1" then silence is 1), or at once when no further
 * key could keep it in range ("5" of 0-10), so most callers are never kept waiting for the timeout.
 */
async function readTypedNumber(step: StepOf<'collect'>, range: { readonly min: number; readonly max: number }, ctx: StepContext): Promise<Entry> {
  const first = await ctx.digits.next(step.timeout_ms, ctx.signal);
  if (first === undefined) return { kind: 'none' };
  if (first === step.skip_key) return { kind: 'skip' };
  if (!isDigit(first)) return { kind: 'invalid', keys: first };
  let typed = first;
  while (canGrow(typed, range)) {
    let key: string | undefined;
    try {
      key = await ctx.digits.next(step.inter_digit_timeout_ms, ctx.signal);
    } catch (err) {
      // Hung up (or out of time) while we waited to see whether "1" becomes "10": the caller said 1,
      // and nothing pressed before hanging up is lost. The runner stores it, then ends the survey.
      const value = Number(typed);
      if (ctx.signal.aborted && value >= range.min && value <= range.max) {
        throw new AnsweredBeforeAbort({ question: step.id, kind: step.kind, digit: typed, value, headline: ctx.ivr.headline === step.id }, ctx.signal.reason);
      }
      throw err;
    }
    if (key === undefined || key === step.terminator) break;
    if (!isDigit(key)) return { kind: 'invalid', keys: typed + key };
    typed += key;
  }
  // A terminator pressed right after the last key a number can take ("10#") is the caller's habit,
  // not the start of the next answer.
  if (!canGrow(typed, range)) ctx.digits.ignoreSoon(step.terminator, step.inter_digit_timeout_ms);
  const value = Number(typed);
  return value < range.min || value > range.max ? { kind: 'invalid', keys: typed } : { kind: 'value', keys: typed, value };
}

function isDigit(key: string): boolean {
  return key >= '0' && key <= '9' && key.length === 1;
}

/** The first branch the value falls in. */
export function branchTarget(branches: readonly Branch[], value: number): string | undefined {
  for (const branch of branches) {
    if (branch.value !== undefined ? value === branch.value : (branch.min === undefined || value >= branch.min) && (branch.max === undefined || value <= branch.max)) {
      return branch.next;
    }
  }
  return undefined;
}
