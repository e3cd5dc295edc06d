// The dashboard's shell: sign-in, hash routes (#/overview, #/queue/<id>, #/team/<id>, #/agent/<id>,
// #/responses), the period and range pickers, and the refresh every minute (If-None-Match: a 304 from
// every endpoint leaves the page as it is).
import { ApiError, apiKey, forgetApiKey, getJson, setApiKey } from './api.js';
import { dropCharts, resizeCharts } from './charts.js';
import { el, fmtTime, routeHref } from './dom.js';
import { drawAgent, loadAgent, releaseRecordings } from './views/agent.js';
import { optional } from './views/common.js';
import { drawOverview, loadOverview } from './views/overview.js';
import { drawResponses, loadResponses } from './views/responses.js';
import { drawSubject, loadSubject } from './views/subject.js';

const REFRESH_MS = 60_000;
const $ = (id) => document.getElementById(id);

const ctx = { range: { period: 'day', from: '', to: '' }, queues: [], teams: [], key: null };
let generation = 0;

const VIEWS = {
  overview: { load: (c) => loadOverview(c), draw: (d, c) => drawOverview(d, c), nav: 'overview' },
  queue: { load: (c, id) => loadSubject(c, 'queue', id), draw: (d, c, id) => drawSubject(d, c, 'queue', id) },
  team: { load: (c, id) => loadSubject(c, 'team', id), draw: (d, c, id) => drawSubject(d, c, 'team', id) },
  agent: { load: (c, id) => loadAgent(c, id), draw: (d, c, id) => drawAgent(d, c, id) },
  responses: { load: (c) => loadResponses(c), draw: (d, c) => drawResponses(d, c, (options) => show(options)), nav: 'responses', noRefresh: true },
};

function parseHash() {
  const [, kind = '', rawId = ''] = /^#\/([a-z]+)(?:\/(.+))?$/.exec(location.hash) ?? [];
  let id = '';
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = '';
  }
  return { kind, id };
}

function defaultRoute() {
  return ctx.key?.agent_id ? routeHref('agent', ctx.key.agent_id) : '#/overview';
}

function status(text) {
  $('status').textContent = text;
}

function showError(text) {
  const box = $('error');
  box.textContent = text;
  box.hidden = !text;
}

function signedIn(yes) {
  $('sign-in').hidden = yes;
  for (const id of ['nav', 'who', 'controls']) $(id).hidden = !yes;
  $('view').hidden = !yes;
}

function signOut(message) {
  generation++;
  forgetApiKey();
  ctx.key = null;
  dropCharts();
  releaseRecordings();
  $('view').replaceChildren();
  showError('');
  status(message === undefined ? 'Signed out.' : '');
  signedIn(false);
  $('sign-in-message').textContent = message ?? '';
  $('api-key').focus();
}

function failed(err, refresh) {
  if (err instanceof ApiError && err.status === 401) {
    signOut(`That API key was not accepted (${err.message}). Check the key and sign in again.`);
    return;
  }
  status('');
  // A view that cannot be shown leaves nothing of the previous one (whose numbers would pass for its own).
  if (!refresh) {
    dropCharts();
    releaseRecordings();
    $('view').replaceChildren();
    $('as-of').textContent = '';
  }
  if (err instanceof ApiError && err.status === 403) showError(`Not allowed: ${err.message}`);
  else if (err instanceof ApiError) showError(`Could not load this view: ${err.message}`);
  else showError(`Could not show this view: ${err?.message ?? err}`);
}

/** Draws the current route; on a refresh, only when something changed. */
async function show({ refresh = false, focus } = {}) {
  const { kind, id } = parseHash();
  const view = VIEWS[kind];
  if (!view || (kind !== 'overview' && kind !== 'responses' && !id)) {
    location.replace(defaultRoute());
    return;
  }
  // A refresh never cuts in on a load the user asked for (it would take its place).
  if (refresh && (view.noRefresh || $('view').getAttribute('aria-busy') === 'true')) return;
  const mine = ++generation;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.route === kind && (kind !== 'agent' || id === ctx.key?.agent_id)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  syncPickers(kind, id);
  $('refresh-label').hidden = Boolean(view.noRefresh);
  status(refresh ? 'Refreshing…' : 'Loading…');
  $('view').setAttribute('aria-busy', 'true');
  try {
    const { data, changed } = await view.load(ctx, id);
    if (mine !== generation) return;
    if (refresh && !changed) {
      status(`Up to date (checked ${fmtTime(new Date().toISOString())}).`);
      return;
    }
    const drawn = view.draw(data, ctx, id);
    dropCharts();
    releaseRecordings();
    showError('');
    $('view').replaceChildren(...drawn.nodes);
    $('as-of').textContent = drawn.asOf ? `Figures as of ${fmtTime(drawn.asOf)}.` : drawn.asOf === null && kind !== 'responses' ? 'No statistics computed yet.' : '';
    status(refresh ? 'Updated.' : 'Loaded.');
    if (focus === 'results') $('results')?.focus();
    else if (focus === 'view') $('view').focus();
  } catch (err) {
    if (mine === generation) failed(err, refresh);
  } finally {
    if (mine === generation) $('view').removeAttribute('aria-busy');
  }
}

function syncPickers(kind, id) {
  $('queue-picker').value = kind === 'queue' ? id : '';
  $('team-picker').value = kind === 'team' ? id : '';
  if (!ctx.key?.agent_id) $('agent-picker').value = kind === 'agent' ? id : '';
}

function fillPickers() {
  const queuePicker = $('queue-picker');
  queuePicker.replaceChildren(el('option', { value: '', text: 'Choose a queue' }), ...ctx.queues.map((q) => el('option', { value: q.queue_id, text: q.queue_id })));
  const teamPicker = $('team-picker');
  teamPicker.replaceChildren(el('option', { value: '', text: 'Choose a team' }), ...ctx.teams.map((t) => el('option', { value: t.team_id, text: t.name ?? t.team_id })));
  $('team-form').hidden = ctx.teams.length === 0;
  const agentOnly = Boolean(ctx.key.agent_id);
  $('queue-form').hidden = agentOnly;
  const agentPicker = $('agent-picker');
  agentPicker.value = agentOnly ? ctx.key.agent_id : '';
  agentPicker.readOnly = agentOnly;
  $('nav').querySelector('[data-route="overview"]').closest('li').hidden = agentOnly;
  $('nav').querySelector('[data-route="agent"]')?.closest('li').remove();
  if (agentOnly) {
    $('nav').querySelector('ul').prepend(el('li', {}, el('a', { href: routeHref('agent', ctx.key.agent_id), 'data-route': 'agent', text: 'My statistics' })));
  }
  $('key-name').textContent = `Key "${ctx.key.name}"${agentOnly ? ` · agent ${ctx.key.agent_id}` : ''}`;
}

async function start() {
  signedIn(true);
  showError('');
  status('Signing in…');
  try {
    // Asked together: teams are a supervisor's view (an agent key is refused: 403; an older engine has none: 404).
    const [queues, teams] = await Promise.all([
      getJson('/cc/csat/queues'),
      optional(getJson('/cc/csat/teams')).catch((err) => (err instanceof ApiError && err.status === 403 ? null : Promise.reject(err))),
    ]);
    ctx.queues = queues.body.queues;
    ctx.key = queues.body.key;
    ctx.teams = ctx.key.agent_id ? [] : (teams?.body.teams ?? []);
  } catch (err) {
    failed(err);
    return;
  }
  fillPickers();
  if (!location.hash || location.hash === '#') location.replace(defaultRoute());
  await show({ focus: 'view' });
}

function wire() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('api-key');
    const key = input.value.trim();
    input.value = '';
    if (!key) return;
    setApiKey(key);
    $('sign-in-message').textContent = '';
    start();
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('range-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const from = $('from').value;
    const to = $('to').value;
    if (from && to && from > to) {
      showError(`The range starts (${from}) after it ends (${to}).`);
      $('from').focus();
      return;
    }
    ctx.range = { period: $('period').value, from, to };
    show({ focus: 'view' });
  });
  // Submitted with a button, not on change: arrowing through a select must not navigate away.
  $('queue-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const queue = $('queue-picker').value;
    if (queue) location.hash = routeHref('queue', queue);
  });
  $('team-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const team = $('team-picker').value;
    if (team) location.hash = routeHref('team', team);
  });
  $('agent-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const agent = $('agent-picker').value.trim();
    if (agent) location.hash = routeHref('agent', agent);
  });
  window.addEventListener('hashchange', () => {
    if (ctx.key) show({ focus: 'view' });
  });
  let resizing;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(resizeCharts, 150);
  });
  setInterval(() => {
    if (ctx.key && $('auto-refresh').checked && document.visibilityState === 'visible') show({ refresh: true });
  }, REFRESH_MS);
}

wire();
if (apiKey()) start();
else signOut('');
