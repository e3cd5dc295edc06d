// A survey's ending as one unit: its outcome row, the alerts it fired and a rating link, for the
// storages to run inside one transaction (an alert or a link exists exactly when its outcome does).
import type { Kysely } from 'kysely';
import type { OutcomeFollowUps } from '../storage/ports.js';
import { insertAlerts } from './alert-outbox.js';
import { insertOutcome } from './outcomes.js';
import type { Database, NewSurveyOutcome } from './schema.js';
import { insertSurveyLink } from './survey-links.js';

export async function insertOutcomeAndFollowUps(db: Kysely<Database>, outcome: NewSurveyOutcome, followUps: OutcomeFollowUps): Promise<void> {
  await insertOutcome(db, outcome);
  if (followUps.link) await insertSurveyLink(db, followUps.link);
  await insertAlerts(db, followUps.alerts ?? []);
}
