// The drilldown: every rated call matching the filters, newest first, page by page (next_cursor), and
// the export of the same selection (fetched with the key header, saved as a file from a blob).
import { getBlob, getJson } from '../api.js';
import { card, el, fmtTime, link, routeHref, table } from '../dom.js';
import { heading } from './common.js';
import { recordingPlayer } from './agent.js';

const OUTCOMES = ['completed', 'declined', 'abandoned', 'no_input', 'invalid', 'failed', 'skipped'];
const PAGE_SIZES = [20, 50, 100, 200];

// Kept across visits in the tab: going to an agent and back keeps the selection.
const state = { filters: {}, limit: 50, cursors: [], page: null };

function field(label, id, control) {
  control.id = id;
  return el('div', { class: 'field' }, el('label', { for: id, text: label }), control);
}

function select(name, options, value) {
  const node = el('select', { name });
  for (const [optionValue, text] of options) node.append(el('option', { value: optionValue, text, selected: optionValue === (value ?? '') }));
  return node;
}

function input(name, value, attrs = {}) {
  return el('input', { name, value: value ?? '', spellcheck: 'false', autocomplete: 'off', ...attrs });
}

function queryOf(ctx) {
  const filters = { ...state.filters };
  if (ctx.key.agent_id) filters.agent_id = ctx.key.agent_id;
  return { ...filters, from: ctx.range.from, to: ctx.range.to };
}

export async function loadResponses(ctx) {
  const cursor = state.cursors.at(-1);
  const { body } = await getJson('/cc/csat/responses', { ...queryOf(ctx), limit: state.limit, cursor });
  state.page = body;
  return { data: body, changed: true };
}

function answersText(answers) {
  return answers
    .filter((answer) => answer.kind !== 'comment')
    .map((answer) => `${answer.question_id}=${answer.value ?? '—'}`)
    .join(' · ');
}

function filtersForm(ctx, rerender) {
  const f = state.filters;
  const queue = select('queue_id', [['', 'Any queue'], ...ctx.queues.map((q) => [q.queue_id, q.queue_id])], f.queue_id);
  const team = ctx.teams.length ? select('team_id', [['', 'Any team'], ...ctx.teams.map((t) => [t.team_id, t.name ?? t.team_id])], f.team_id) : null;
  const agent = input('agent_id', ctx.key.agent_id ?? f.agent_id, { type: 'text', disabled: Boolean(ctx.key.agent_id) });
  const question = input('question_id', f.question_id, { type: 'text' });
  const min = input('min_value', f.min_value, { type: 'number', min: '0', max: '10', inputmode: 'numeric' });
  const max = input('max_value', f.max_value, { type: 'number', min: '0', max: '10', inputmode: 'numeric' });
  const outcome = select('outcome', [['', 'Any outcome'], ...OUTCOMES.map((o) => [o, o.replace('_', ' ')])], f.outcome);
  const comment = select('has_comment', [['', 'With or without'], ['true', 'With a comment'], ['false', 'Without a comment']], f.has_comment);
  const size = select('limit', PAGE_SIZES.map((n) => [String(n), String(n)]), String(state.limit));
  const form = el(
    'form',
    { class: 'filters', id: 'filters-form' },
    field('Queue', 'f-queue', queue),
    team ? field('Team', 'f-team', team) : null,
    field('Agent', 'f-agent', agent),
    field('Question id', 'f-question', question),
    field('Lowest value', 'f-min', min),
    field('Highest value', 'f-max', max),
    field('Outcome', 'f-outcome', outcome),
    field('Comment', 'f-comment', comment),
    field('Rows per page', 'f-limit', size),
    el('div', { class: 'field buttons' }, el('button', { type: 'submit', text: 'Apply filters' }), el('button', { type: 'reset', class: 'secondary', text: 'Clear' })),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    state.filters = {};
    for (const name of ['queue_id', 'team_id', 'agent_id', 'question_id', 'min_value', 'max_value', 'outcome', 'has_comment']) {
      const value = String(data.get(name) ?? '').trim();
      if (value !== '') state.filters[name] = value;
    }
    state.limit = Number(data.get('limit')) || 50;
    state.cursors = [];
    rerender({ focus: 'results' });
  });
  form.addEventListener('reset', (event) => {
    event.preventDefault();
    state.filters = {};
    state.cursors = [];
    rerender({ focus: 'results' });
  });
  return form;
}

function exportControls(ctx) {
  if (!ctx.key.scopes.includes('csat:export')) {
    return el('p', { class: 'muted', text: `Export needs a key with scope csat:export (this key, "${ctx.key.name}", has none).` });
  }
  const format = select('format', [['csv', 'CSV'], ['ndjson', 'NDJSON']], 'csv');
  const comments = el('input', { type: 'checkbox', id: 'x-comments', name: 'include_comments', checked: true });
  const message = el('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const button = el('button', { type: 'submit', id: 'export-button', text: 'Download export' });
  const form = el(
    'form',
    { class: 'export' },
    field('Format', 'x-format', format),
    el('div', { class: 'field check' }, comments, el('label', { for: 'x-comments', text: 'Include comments' })),
    el('div', { class: 'field buttons' }, button),
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { queue_id, agent_id, team_id } = queryOf(ctx);
    // The export takes one subject: the most specific filter wins.
    const subject = agent_id ? { agent_id } : team_id ? { team_id } : queue_id ? { queue_id } : {};
    button.disabled = true;
    message.textContent = 'Preparing the export…';
    try {
      const { blob, filename } = await getBlob('/cc/csat/export', { format: format.value, from: ctx.range.from, to: ctx.range.to, ...subject, include_comments: comments.checked ? 'true' : 'false' });
      const url = URL.createObjectURL(blob);
      const a = el('a', { href: url, download: filename ?? `csat-export.${format.value}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      message.textContent = `Export downloaded (${Math.max(1, Math.round(blob.size / 1024))} KB).`;
    } catch (err) {
      message.textContent = `Export failed: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export function drawResponses(page, ctx, rerender) {
  const pageNumber = state.cursors.length + 1;
  const rows = page.items.map((item) => [
    fmtTime(item.created_at),
    el('code', { text: item.call_id }),
    link(routeHref('agent', item.agent_id), item.agent_id),
    link(routeHref('queue', item.queue_id), item.queue_id),
    item.score === null ? '—' : String(item.score),
    answersText(item.answers),
    el('div', {}, item.comment ? el('span', { text: item.comment }) : null, item.answers.filter((a) => a.kind === 'comment' && a.recording).map((a) => recordingPlayer(item, a, ctx))),
  ]);
  const pager = el(
    'nav',
    { class: 'pager', 'aria-label': 'Pages of responses' },
    el('span', { 'data-metric': 'page', text: `Page ${pageNumber}` }),
    ' · ',
    el('span', { 'data-metric': 'total', text: `${page.total.toLocaleString('en-US')} responses` }),
    state.cursors.length > 0
      ? el('button', {
          type: 'button',
          class: 'secondary',
          text: 'First page',
          onclick: () => {
            state.cursors = [];
            rerender({ focus: 'results' });
          },
        })
      : null,
    page.next_cursor
      ? el('button', {
          type: 'button',
          id: 'next-page',
          text: 'Next page',
          onclick: () => {
            state.cursors.push(page.next_cursor);
            rerender({ focus: 'results' });
          },
        })
      : null,
  );
  const results = table(`Responses, page ${pageNumber}`, ['Time', 'Call', 'Agent', 'Queue', 'Score', 'Answers', 'Comment'], rows, { 'data-table': 'responses', id: 'responses-table' });
  return {
    nodes: [
      heading('Responses', `Rated calls ${ctx.range.from || '(last 30 days)'} to ${ctx.range.to || 'today'}, newest first`),
      card('Filters', filtersForm(ctx, rerender)),
      card('Export', exportControls(ctx)),
      el('section', { class: 'card', id: 'results', tabindex: '-1', 'aria-label': 'Results' }, pager, page.items.length ? results : el('p', { class: 'muted', text: 'No response matches.' })),
    ],
    asOf: null,
    range: null,
  };
}
