// One queue or one team: headline numbers, trend, distribution, the agents' ranking, per question, funnel.
import { getJson } from '../api.js';
import { card, el, fmtAverage, fmtCount, link, routeHref, table } from '../dom.js';
import { funnelOrNote, heading, loadAll, optional, questionsCard, rangeNote, rangeParams, statsBody, statsKpis } from './common.js';

const SUBJECTS = {
  queue: { path: 'queue', param: 'queue_id', title: (id) => `Queue ${id}` },
  team: { path: 'team', param: 'team_id', title: (id, stats) => `Team ${stats?.name && stats.name !== id ? `${stats.name} (${id})` : id}` },
};

export async function loadSubject(ctx, kind, id) {
  const subject = SUBJECTS[kind];
  const params = rangeParams(ctx.range);
  return loadAll({
    stats: getJson(`/cc/csat/${subject.path}/${encodeURIComponent(id)}`, params),
    questions: optional(getJson('/cc/csat/questions', { ...params, [subject.param]: id })),
    funnel: optional(getJson('/cc/csat/funnel', { ...params, [subject.param]: id })),
  });
}

export function drawSubject(data, ctx, kind, id) {
  const { stats } = data;
  const title = SUBJECTS[kind].title(id, stats);
  const ranking = table(
    `Agents ranked by average (at least the configured minimum of ratings to be ranked)`,
    ['Rank', 'Agent', 'Average', 'Ratings'],
    stats.agent_ranking.map((row) => [row.rank === null ? 'not ranked' : String(row.rank), link(routeHref('agent', row.agent_id), row.agent_id), fmtAverage(row.average), fmtCount(row.count)]),
    { 'data-table': 'ranking' },
  );
  return {
    nodes: [
      heading(title, rangeNote(stats)),
      statsKpis(stats),
      el('div', { class: 'grid' }, ...statsBody(stats, title)),
      el('div', { class: 'grid' }, card('Agent ranking', stats.agent_ranking.length ? ranking : el('p', { class: 'muted', text: 'No agent has ratings in this range.' })), funnelOrNote(data.funnel)),
      questionsCard(data.questions),
    ],
    asOf: stats.as_of,
    range: stats,
  };
}
