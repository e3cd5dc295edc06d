// What each question kind may store, and the facts about a collect step that follow from its config
// (its values, how many keys a caller types, which question is the survey's headline). The schema
// validates against these; the IVR and check-config read them, so a range is written down once.
import type { QuestionKind } from '../ivr/context.js';

export const QUESTION_KINDS = ['csat', 'nps', 'ces', 'yes_no', 'scale'] as const satisfies readonly QuestionKind[];

/** Values a kind may store; `scale` takes whatever its question declares. */
export const KIND_RANGES: { readonly [K in QuestionKind]: { readonly min: number; readonly max: number } | undefined } = {
  csat: { min: 1, max: 5 },
  nps: { min: 0, max: 10 },
  ces: { min: 1, max: 7 },
  // 1 = yes, 0 = no: a share of yes is then the average.
  yes_no: { min: 0, max: 1 },
  scale: undefined,
};

/** The part of a collect step these helpers read. */
export interface QuestionShape {
  readonly kind: QuestionKind;
  readonly scores?: Readonly<Record<string, number>> | undefined;
  readonly range?: { readonly min: number; readonly max: number } | undefined;
}

/** Lowest and highest value the question can store. */
export function valueBounds(question: QuestionShape): { min: number; max: number } {
  if (question.range) return { min: question.range.min, max: question.range.max };
  const values = Object.values(question.scores ?? {});
  if (values.length > 0) return { min: Math.min(...values), max: Math.max(...values) };
  return KIND_RANGES[question.kind] ?? { min: 0, max: 0 };
}

/** How many keys a typed number can take at most ("10" is two). A key map is always one key. */
export function maxTypedDigits(range: { readonly max: number }): number {
  return String(range.max).length;
}

/**
 * Whether a number typed so far could still grow into a value in range with one more key, so the
 * IVR must wait (for the next key, the terminator or the inter-digit timeout). "1" of 0-10 may become
 * "10"; "5" may not, and is taken at once. A leading zero never grows: "0" is zero.
 */
export function canGrow(typed: string, range: { readonly min: number; readonly max: number }): boolean {
  if (typed === '0' || typed.length >= maxTypedDigits(range)) return false;
  return Number(typed) * 10 <= range.max;
}

/**
 * The id of the survey's headline csat question: the one marked `headline = true`, else the first
 * csat question not marked `headline = false` (so a one-question survey needs no flag). More than
 * one marked is a config error reported by check-config; the first marked wins here.
 */
export function headlineQuestion(steps: readonly { readonly id: string; readonly type: string; readonly kind?: QuestionKind; readonly headline?: boolean | undefined }[]): string | undefined {
  const collects = steps.filter((step) => step.type === 'collect');
  const marked = collects.find((step) => step.headline === true);
  if (marked) return marked.id;
  return collects.find((step) => step.kind === 'csat' && step.headline !== false)?.id;
}
