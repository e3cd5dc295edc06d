// Pieces the queue, team, agent and overview views share.
import { ApiError } from '../api.js';
import { distributionTable, funnelCard, trendCard } from '../charts.js';
import { card, el, fmtAverage, fmtCount, fmtPercent, fmtSigned, kpi, kpis } from '../dom.js';

/** An endpoint that may not be there (a 404 for the route): null instead of an error. */
export async function optional(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Several loads at once: their bodies and whether any changed since the last time. */
export async function loadAll(entries) {
  const names = Object.keys(entries);
  const results = await Promise.all(names.map((name) => entries[name]));
  const data = {};
  let changed = false;
  names.forEach((name, index) => {
    const result = results[index];
    data[name] = result ? result.body : null;
    if (!result || result.changed) changed = true;
  });
  return { data, changed };
}

/** The stats query of the picked period and range (empty dates: the API's default range). */
export function rangeParams(range) {
  return { period: range.period, from: range.from, to: range.to };
}

/** Headline numbers of queue, team or agent stats (csat_percent, csat_nps when the engine gives them). */
export function statsKpis(stats, extra = []) {
  return kpis(
    kpi('Average score', fmtAverage(stats.average), 'average', 'of 5'),
    kpi('Ratings', fmtCount(stats.count), 'count'),
    kpi('CSAT', fmtPercent(stats.csat_percent ?? csatPercent(stats.distribution, stats.count)), 'csat-percent', '4 or 5 of 5'),
    ...('csat_nps' in stats ? [kpi('CSAT net score', fmtSigned(stats.csat_nps), 'csat-nps', '(4-5) − (1-2), % of ratings')] : []),
    ...extra,
  );
}

export function csatPercent(distribution, count) {
  if (!count) return null;
  return Math.round((((distribution['4'] ?? 0) + (distribution['5'] ?? 0)) / count) * 1000) / 10;
}

export function statsBody(stats, title) {
  return [trendCard(`${title}: trend`, stats.trend), card('Score distribution', distributionTable('Ratings per score', stats.distribution))];
}

const KIND_NAMES = { csat: 'CSAT (1-5)', nps: 'NPS (0-10)', ces: 'Effort (1-7)', yes_no: 'Yes / no', scale: 'Scale', comment: 'Comment' };

/** One card per survey question: count, average, its headline figure and its distribution. */
export function questionsCard(questions) {
  if (!questions) return card('Survey questions', el('p', { class: 'muted', text: 'Per-question statistics are not available from this engine.' }));
  if (questions.questions.length === 0) return card('Survey questions', el('p', { class: 'muted', text: 'No survey answers in this range.' }));
  return card(
    'Survey questions',
    el(
      'div',
      { class: 'questions' },
      questions.questions.map((question) => {
        const figures = [kpi('Answers', fmtCount(question.count), `q-${question.question_id}-count`)];
        if (question.kind !== 'comment') figures.push(kpi('Average', fmtAverage(question.average), `q-${question.question_id}-average`));
        if (question.kind === 'nps') figures.push(kpi('NPS', fmtSigned(question.nps), `q-${question.question_id}-nps`));
        if (question.kind === 'csat') figures.push(kpi('CSAT', fmtPercent(question.csat_percent), `q-${question.question_id}-csat-percent`));
        if (question.kind === 'yes_no') figures.push(kpi('Yes', fmtPercent(question.yes_percent), `q-${question.question_id}-yes-percent`));
        return el(
          'article',
          { class: 'question', 'data-question': question.question_id },
          el('h4', {}, el('code', { text: question.question_id }), ' ', el('span', { class: 'muted', text: KIND_NAMES[question.kind] ?? question.kind })),
          kpis(...figures),
          question.kind === 'comment' ? null : distributionTable(`Answers of ${question.question_id} per value`, question.distribution, `q-${question.question_id}`),
        );
      }),
    ),
  );
}

export function funnelOrNote(funnel) {
  return funnel ? funnelCard(funnel) : card('Survey funnel', el('p', { class: 'muted', text: 'Survey outcomes are not available from this engine.' }));
}

/** The NPS question of a survey (the first one of kind nps), if any. */
export function npsQuestion(questions) {
  return questions?.questions.find((question) => question.kind === 'nps') ?? null;
}

export function heading(text, sub) {
  return el('div', { class: 'view-head' }, el('h2', { id: 'view-title', text }), sub ? el('p', { class: 'muted', text: sub }) : null);
}

export function rangeNote(stats) {
  return `${stats.period === 'day' ? 'Daily' : stats.period === 'week' ? 'Weekly' : 'Monthly'} figures, ${stats.from} to ${stats.to} (contact-center dates)`;
}
