// The whole contact center: every configured queue's statistics added up, the NPS question, the funnel.
import { getJson } from '../api.js';
import { distributionTable, trendCard } from '../charts.js';
import { card, el, fmtAverage, fmtCount, fmtPercent, fmtSigned, kpi, kpis, link, routeHref, table } from '../dom.js';
import { csatPercent, funnelOrNote, heading, loadAll, npsQuestion, optional, questionsCard, rangeNote, rangeParams } from './common.js';

export async function loadOverview(ctx) {
  const params = rangeParams(ctx.range);
  const entries = {
    questions: optional(getJson('/cc/csat/questions', params)),
    funnel: optional(getJson('/cc/csat/funnel', params)),
  };
  for (const queue of ctx.queues) entries[`queue:${queue.queue_id}`] = getJson(`/cc/csat/queue/${encodeURIComponent(queue.queue_id)}`, params);
  return loadAll(entries);
}

/** Queues added up: counts and distributions exactly; the trend's averages weighted by count. */
export function combine(queueStats) {
  const distribution = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  const trend = new Map();
  for (const stats of queueStats) {
    for (const score of Object.keys(distribution)) distribution[score] += stats.distribution[score] ?? 0;
    for (const point of stats.trend) {
      const sum = trend.get(point.period_start) ?? { count: 0, total: 0 };
      sum.count += point.count;
      sum.total += (point.average ?? 0) * point.count;
      trend.set(point.period_start, sum);
    }
  }
  const count = Object.values(distribution).reduce((a, b) => a + b, 0);
  const total = Object.entries(distribution).reduce((sum, [score, n]) => sum + Number(score) * n, 0);
  return {
    count,
    distribution,
    average: count > 0 ? Math.round((total / count) * 100) / 100 : null,
    csat_percent: csatPercent(distribution, count),
    trend: [...trend.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([period_start, sum]) => ({ period_start, count: sum.count, average: sum.count > 0 ? Math.round((sum.total / sum.count) * 100) / 100 : null })),
  };
}

export function drawOverview(data, ctx) {
  const perQueue = ctx.queues.map((queue) => ({ queue, stats: data[`queue:${queue.queue_id}`] }));
  const all = combine(perQueue.map((entry) => entry.stats));
  const first = perQueue[0]?.stats ?? data.funnel ?? data.questions;
  const nps = npsQuestion(data.questions);
  const view = [
    heading('Overview', first ? `All queues. ${rangeNote(first)}` : 'All queues'),
    kpis(
      kpi('Average score', fmtAverage(all.average), 'average', 'of 5'),
      kpi('Ratings', fmtCount(all.count), 'count'),
      kpi('CSAT', fmtPercent(all.csat_percent), 'csat-percent', '4 or 5 of 5'),
      kpi('NPS', nps ? fmtSigned(nps.nps) : '—', 'nps', nps ? `question ${nps.question_id}` : 'no NPS question'),
      kpi('Response rate', fmtPercent(data.funnel?.response_rate ?? null), 'response-rate', 'completed ÷ offered'),
    ),
  ];
  if (ctx.queues.length === 0) view.push(card('Queues', el('p', { class: 'muted', text: 'No queue is configured (config/queues.toml).' })));
  view.push(
    el(
      'div',
      { class: 'grid' },
      trendCard('All queues: trend', all.trend),
      card('Score distribution', distributionTable('Ratings per score, all queues', all.distribution)),
    ),
    el(
      'div',
      { class: 'grid' },
      card(
        'Queues',
        table(
          'Each queue in the range',
          ['Queue', 'Survey', 'Ratings', 'Average', 'CSAT'],
          perQueue.map(({ queue, stats }) => [
            link(routeHref('queue', queue.queue_id), queue.queue_id),
            queue.csat_enabled ? 'on' : 'off',
            fmtCount(stats.count),
            fmtAverage(stats.average),
            fmtPercent(stats.csat_percent ?? csatPercent(stats.distribution, stats.count)),
          ]),
          { 'data-table': 'queues' },
        ),
      ),
      funnelOrNote(data.funnel),
    ),
    questionsCard(data.questions),
  );
  return { nodes: view, asOf: first?.as_of, range: first };
}
