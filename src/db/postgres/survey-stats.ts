// Per-question, funnel and team reads on PostgreSQL: the shared SQL (../survey-stats.ts), except an
// agent's csat rows, which are summed from its (agent_queue, day) rows (agent-buckets-sql.ts): no
// agent rows are stored here.
import { CompiledQuery } from 'kysely';
import type { AgentCsatRow, StatsRange } from '../../storage/ports.js';
import { RollupSurveyStatsStore } from '../survey-stats.js';
import { agentBucketsSql } from './agent-buckets-sql.js';

const AGENTS_BUCKETS = agentBucketsSql(true);

export class PostgresSurveyStatsStore extends RollupSurveyStatsStore {
  override async agentCsatRows(agentIds: readonly string[], range: StatsRange): Promise<AgentCsatRow[]> {
    if (agentIds.length === 0) return [];
    const { rows } = await this.call(() =>
      this.db().executeQuery<AgentCsatRow>(CompiledQuery.raw(AGENTS_BUCKETS, [range.period, [...agentIds], range.from, range.to])),
    );
    return rows;
  }
}
