// A union of differently shaped options (the [ari] table or the [[ari]] array of tables) fails as a
// whole, "Invalid input", when the option the operator meant has one bad value inside. The option whose
// shape matched is the one they meant: its own issues, at their own paths, say what is wrong
// (`ari[1].url: must be an http:// or https:// URL`).
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** An option that failed only because the value has another shape (a table where it wants an array). */
const isShapeMismatch = (optionIssues: readonly Issue[]): boolean =>
  optionIssues.length === 1 && optionIssues[0]!.code === 'invalid_type' && optionIssues[0]!.path.length === 0;

/**
 * Replaces each union failure whose value matched exactly one option's shape by that option's issues.
 * Other issues, and unions the value matched no option of (or several), are kept as they are.
 */
export function explainUnionIssues(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union') return [issue];
    const matching = issue.errors.filter((optionIssues) => !isShapeMismatch(optionIssues));
    if (matching.length !== 1) return [issue];
    return explainUnionIssues(matching[0]!.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as Issue));
  });
}
