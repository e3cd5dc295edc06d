// Per-question, funnel and team reads from the rollups (answer_rollup, outcome_rollup, csat_rollup),
// the same SQL on both databases. Each read is one index range per subject: a queue's rows, or each
// agent's, are contiguous in the primary key over a date range; the whole contact center reads the
// queue rows of the range through the (scope, period, period_start) index. Rows are summed over the
// subject in the database, so an answer holds one row per period, key and value, however many agents
// or queues it covers. PostgreSQL stores no agent rows in csat_rollup: its agentCsatRows sums them
// from the pair days instead (postgres/survey-stats.ts).
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AgentCsatRow, AnswerRollupRow, OutcomeRollupRow, StatsRange, SurveyStatsStore, SurveySubject } from '../storage/ports.js';
import type { AnswerSource, Database } from './schema.js';

/** The rows of `subject`: queue rows of one queue, agent rows of some agents, or every queue's rows. */
function subjectFilter(subject: SurveySubject): RawBuilder<unknown> {
  if (subject.agentIds !== undefined) return sql`scope = 'agent' AND queue_id = '' AND agent_id IN (${sql.join(subject.agentIds)})`;
  if (subject.queueId !== undefined) return sql`scope = 'queue' AND queue_id = ${subject.queueId} AND agent_id = ''`;
  return sql`scope = 'queue'`;
}

const inRange = (range: StatsRange): RawBuilder<unknown> => sql`period = ${range.period} AND period_start BETWEEN ${range.from} AND ${range.to}`;

export class RollupSurveyStatsStore implements SurveyStatsStore {
  /**
   * `db`: where to read (SQLite: a Kysely on the read-only connection, which sees the last committed
   * run). `call`: runs each read (PostgreSQL: turns driver errors into StorageErrors).
   */
  constructor(
    protected readonly db: () => Kysely<Database>,
    protected readonly call: <T>(read: () => Promise<T>) => Promise<T> = (read) => read(),
  ) {}

  async answerRows(subject: SurveySubject, range: StatsRange, questionId?: string, source?: AnswerSource): Promise<AnswerRollupRow[]> {
    if (subject.agentIds?.length === 0) return [];
    const question = sql`${questionId === undefined ? sql`` : sql` AND question_id = ${questionId}`}${source === undefined ? sql`` : sql` AND source = ${source}`}`;
    const { rows } = await this.call(() =>
      sql<AnswerRollupRow>`SELECT period_start, question_id, kind, value, sum(count) AS count
        FROM answer_rollup
        WHERE ${subjectFilter(subject)} AND ${inRange(range)}${question}
        GROUP BY period_start, question_id, kind, value
        ORDER BY period_start, question_id, kind, value`.execute(this.db()),
    );
    return rows.map((row) => ({ ...row, value: Number(row.value), count: Number(row.count) }));
  }

  async outcomeRows(subject: SurveySubject, range: StatsRange): Promise<OutcomeRollupRow[]> {
    if (subject.agentIds?.length === 0) return [];
    const { rows } = await this.call(() =>
      sql<OutcomeRollupRow>`SELECT period_start, outcome, detail, consent, sum(count) AS count
        FROM outcome_rollup
        WHERE ${subjectFilter(subject)} AND ${inRange(range)}
        GROUP BY period_start, outcome, detail, consent
        ORDER BY period_start, outcome, detail, consent`.execute(this.db()),
    );
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  async agentCsatRows(agentIds: readonly string[], range: StatsRange): Promise<AgentCsatRow[]> {
    if (agentIds.length === 0) return [];
    const { rows } = await this.call(() =>
      sql<AgentCsatRow>`SELECT agent_id, period_start, count, sum, n1, n2, n3, n4, n5
        FROM csat_rollup
        WHERE scope = 'agent' AND queue_id = '' AND agent_id IN (${sql.join(agentIds)}) AND ${inRange(range)}
        ORDER BY agent_id, period_start`.execute(this.db()),
    );
    return rows;
  }
}
