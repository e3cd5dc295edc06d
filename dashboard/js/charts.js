// Charts: the trend with uPlot (global `uPlot` from /dashboard/vendor), distributions and the funnel as
// plain bars in tables, so a screen reader reads the same numbers the eye sees.
import { card, el, fmtAverage, fmtCount, fmtPercent, table } from './dom.js';

const INK = '#0b57a4';
const COUNT_INK = '#6b7a89';
const live = new Set();

/** Charts drawn for the current view, resized with the window. */
export function resizeCharts() {
  for (const chart of live) {
    if (!chart.root.isConnected) {
      live.delete(chart);
      continue;
    }
    chart.setSize({ width: widthOf(chart.root.parentElement), height: chart.height });
  }
}

export function dropCharts() {
  for (const chart of live) chart.destroy();
  live.clear();
}

function widthOf(container) {
  return Math.max(260, (container?.clientWidth ?? 600) - 8);
}

const epochSeconds = (date) => Date.parse(`${date}T00:00:00Z`) / 1000;

/**
 * The trend of averages (line, left axis 1-5) and counts (bars, right axis), with a table of the same
 * numbers beneath for keyboard and screen-reader users.
 * `series`: [{ period_start, count, average }], `extra`: optional { label, key, format } column.
 */
export function trendCard(title, series, extra) {
  const plotHolder = el('div', { class: 'plot', role: 'img', 'aria-label': `${title}: average per period, chart; the same numbers are in the table below` });
  const headers = ['Period', 'Ratings', 'Average'];
  if (extra) headers.push(extra.label);
  const rows = series.map((point) => {
    const cells = [point.period_start, fmtCount(point.count), fmtAverage(point.average)];
    if (extra) cells.push(extra.format(point[extra.key]));
    return cells;
  });
  const details = el('details', { class: 'trend-table' }, el('summary', { text: 'Show the numbers' }), table(title, headers, rows, { 'data-table': 'trend' }));
  const section = card(title, plotHolder, details);
  // Drawn once in the page: uPlot measures its container.
  queueMicrotask(() => draw(plotHolder, series));
  return section;
}

function draw(holder, series) {
  if (!holder.isConnected || typeof uPlot === 'undefined') return;
  const xs = series.map((point) => epochSeconds(point.period_start));
  const averages = series.map((point) => (point.count > 0 ? point.average : null));
  const counts = series.map((point) => point.count);
  const bars = uPlot.paths.bars({ size: [0.6, 40] });
  const chart = new uPlot(
    {
      width: widthOf(holder),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { avg: { range: [1, 5] }, n: { range: (_u, _min, max) => [0, Math.max(1, max) * 2] } },
      axes: [
        {},
        { scale: 'avg', label: 'Average (1-5)', values: (_u, ticks) => ticks.map((tick) => tick.toFixed(1)) },
        { scale: 'n', side: 1, label: 'Ratings', grid: { show: false } },
      ],
      series: [
        {},
        { label: 'Ratings', scale: 'n', stroke: COUNT_INK, fill: 'rgba(107,122,137,0.25)', paths: bars, points: { show: false } },
        { label: 'Average', scale: 'avg', stroke: INK, width: 2, spanGaps: true, points: { show: true, size: 6, fill: INK } },
      ],
    },
    [xs, counts, averages],
    holder,
  );
  live.add(chart);
}

/**
 * A distribution ({ "<value>": count }) as a table of horizontal bars.
 * `metric` prefixes data-metric attributes (tests read the counts by value).
 */
export function distributionTable(caption, distribution, metric = 'dist') {
  const values = Object.keys(distribution).sort((a, b) => Number(a) - Number(b));
  const total = values.reduce((sum, value) => sum + distribution[value], 0);
  const rows = values.map((value) => {
    const count = distribution[value];
    const share = total > 0 ? (count / total) * 100 : 0;
    const bar = el('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.width = `${share.toFixed(1)}%`;
    return [value, el('span', { 'data-metric': `${metric}-${value}`, text: fmtCount(count) }), el('span', { class: 'bar-cell' }, el('span', { class: 'bar-track' }, bar), el('span', { class: 'share', text: fmtPercent(total > 0 ? share : null) }))];
  });
  return table(caption, ['Value', 'Count', 'Share'], rows, { class: 'distribution' });
}

const FUNNEL_STEPS = [
  ['offered', 'Offered a survey'],
  ['accepted', 'Accepted'],
  ['completed', 'Completed'],
];
const FUNNEL_OTHERS = [
  ['declined', 'Declined'],
  ['abandoned', 'Hung up during the survey'],
  ['no_input', 'No input'],
  ['invalid', 'Invalid input'],
  ['failed', 'Failed'],
  ['skipped', 'Not eligible (skipped)'],
];

export function funnelCard(funnel) {
  const offered = funnel.offered ?? 0;
  const steps = FUNNEL_STEPS.map(([key, label]) => {
    const bar = el('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.width = `${offered > 0 ? ((funnel[key] / offered) * 100).toFixed(1) : 0}%`;
    return [label, el('span', { 'data-metric': `funnel-${key}`, text: fmtCount(funnel[key]) }), el('span', { class: 'bar-cell' }, el('span', { class: 'bar-track' }, bar))];
  });
  const others = FUNNEL_OTHERS.map(([key, label]) => [label, el('span', { 'data-metric': `funnel-${key}`, text: fmtCount(funnel[key]) })]);
  return card(
    'Survey funnel',
    el('p', { class: 'lead' }, 'Response rate (completed ÷ offered): ', el('strong', { 'data-metric': 'funnel-response-rate', text: fmtPercent(funnel.response_rate) })),
    table('From offer to answer', ['Step', 'Calls', 'Share of offered'], steps, { class: 'funnel' }),
    table('Other outcomes', ['Outcome', 'Calls'], others),
  );
}
