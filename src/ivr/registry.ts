// One handler per step kind. The mapped type makes a step kind without a handler a compile error.
import type { StepOf, StepType } from '../config/schema.js';
import type { StepContext, StepResult } from './context.js';
import { runCollect } from './steps/collect.js';
import { runConfirm } from './steps/confirm.js';
import { runConsent } from './steps/consent.js';
import { runHangup } from './steps/hangup.js';
import { runPlay } from './steps/play.js';
import { runRecord } from './steps/record.js';

export type StepHandler<K extends StepType> = (step: StepOf<K>, ctx: StepContext) => Promise<StepResult>;

export const stepHandlers: { readonly [K in StepType]: StepHandler<K> } = {
  play: runPlay,
  collect: runCollect,
  confirm: runConfirm,
  consent: runConsent,
  record: runRecord,
  hangup: runHangup,
};

export function runStep<K extends StepType>(step: StepOf<K>, ctx: StepContext): Promise<StepResult> {
  return (stepHandlers[step.type] as StepHandler<K>)(step, ctx);
}
