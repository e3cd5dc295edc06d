// The `detail` key of outcome_rollup: why a survey ended, as one of a closed set of labels.
//
// survey_outcome.reason keeps the full text for whoever reads one call's row (an exception's message,
// a skip's "invalid_agent_id: ..." with the offending value). Folded as it is, every distinct
// message would be a rollup row of its own and a key of the funnel's failed_by_reason: an error
// that quotes a channel id or a caller-sent header grows the rollup and the API's answers without
// bound. So the rollup keeps a label: the reason itself when it is one the code writes as a fixed
// word, the kind of failure when it is one the code writes with detail, 'error' (failed) or
// 'other' (anything else) for the rest. Where the caller left (last_step, a step id from the
// validated IVR config) stays as it is.
import { sql, type RawBuilder } from 'kysely';
import { SKIP_REASON_LABELS } from '../survey/eligibility.js';

/** Reasons written as fixed words (skip reasons, declines, completions, failures). */
const FIXED_REASONS: readonly string[] = [
  ...SKIP_REASON_LABELS.filter((label) => label !== 'other' && label !== 'invalid_identity'),
  'declined_by_key',
  'no_answer_to_offer',
  'no_valid_answer_to_offer',
  'headline_not_answered',
  'caller_hung_up',
  'hangup_before_start',
  'ari_application_replaced',
  'shutdown_deadline',
];

/** Reasons written with detail after a fixed start (LIKE patterns), and their label. */
const PREFIXED_REASONS: ReadonlyArray<readonly [pattern: string, label: string]> = [
  ['invalid_call_id%', 'invalid_identity'],
  ['invalid_agent_id%', 'invalid_identity'],
  ['invalid_queue_id%', 'invalid_identity'],
  ['IVR % ended without collecting %', 'nothing_collected'],
  ['prompt failed to play%', 'prompt_failed'],
  ['recording failed%', 'recording_failed'],
  ['recording could not start%', 'recording_failed'],
  ['more than % steps%', 'step_loop'],
];

/** Every label a failed or skipped outcome's detail can take besides the fixed reasons. */
export const REASON_CLASSES = ['invalid_identity', 'nothing_collected', 'prompt_failed', 'recording_failed', 'step_loop', 'error', 'other'] as const;

/**
 * The rollup's detail of a survey_outcome row (columns outcome, reason, last_step), the same SQL on
 * SQLite and PostgreSQL.
 */
export function outcomeDetail(): RawBuilder<string> {
  const prefixed = PREFIXED_REASONS.map(([pattern, label]) => sql`WHEN reason LIKE ${sql.lit(pattern)} THEN ${sql.lit(label)}`);
  return sql<string>`CASE
    WHEN outcome IN ('abandoned', 'no_input', 'invalid') THEN coalesce(last_step, '')
    WHEN reason IS NULL THEN ''
    WHEN reason IN (${sql.join(FIXED_REASONS.map((reason) => sql.lit(reason)))}) THEN reason
    ${sql.join(prefixed, sql` `)}
    WHEN outcome = 'failed' THEN 'error'
    ELSE 'other'
  END`;
}
