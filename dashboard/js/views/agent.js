// One agent: headline numbers, trend, distribution, rank in each queue, per question, recent comments
// with their recordings (fetched with the key header as a blob only when asked: each one holds an
// Asterisk HTTP session while it streams).
import { ApiError, getBlob, getJson } from '../api.js';
import { card, el, fmtAverage, fmtCount, fmtTime, link, routeHref, table } from '../dom.js';
import { funnelOrNote, heading, loadAll, optional, questionsCard, rangeNote, rangeParams, statsBody, statsKpis } from './common.js';

const RECENT_COMMENTS = 10;

export async function loadAgent(ctx, id) {
  const params = rangeParams(ctx.range);
  return loadAll({
    stats: getJson(`/cc/csat/agent/${encodeURIComponent(id)}`, params),
    questions: optional(getJson('/cc/csat/questions', { ...params, agent_id: id })),
    funnel: optional(getJson('/cc/csat/funnel', { ...params, agent_id: id })),
    comments: recentComments(ctx, id),
  });
}

async function recentComments(ctx, id) {
  const base = { agent_id: id, from: ctx.range.from, to: ctx.range.to, limit: RECENT_COMMENTS };
  try {
    return await getJson('/cc/csat/responses', { ...base, has_comment: 'true' });
  } catch (err) {
    // An engine without the has_comment filter: the newest responses, comments picked out here.
    if (!(err instanceof ApiError && err.status === 400)) throw err;
    const page = await getJson('/cc/csat/responses', { ...base, limit: 50 });
    return { ...page, body: { ...page.body, items: page.body.items.filter(hasComment).slice(0, RECENT_COMMENTS) } };
  }
}

function hasComment(item) {
  return Boolean(item.comment) || item.answers.some((answer) => answer.kind === 'comment' && answer.recording);
}

export function recordingUrl(item, answer) {
  return answer.recording_url ?? `/cc/csat/${encodeURIComponent(item.call_id)}/recording`;
}

// Object URLs of the recordings loaded in the current view: released when the view is replaced.
const audioUrls = new Set();

export function releaseRecordings() {
  for (const url of audioUrls) URL.revokeObjectURL(url);
  audioUrls.clear();
}

/**
 * A button that fetches the recording with the key and puts an audio player in its place; for a key
 * without csat:recordings, a note instead of a button that could only fail.
 */
export function recordingPlayer(item, answer, ctx) {
  const seconds = Math.round((answer.recording?.duration_ms ?? 0) / 1000);
  if (!ctx.key.scopes.includes('csat:recordings')) {
    return el('p', { class: 'muted', text: `Spoken comment (${seconds} s): listening needs a key with scope csat:recordings.` });
  }
  const holder = el('div', { class: 'recording' });
  const button = el('button', {
    type: 'button',
    class: 'secondary',
    text: `Load recording (${seconds} s)`,
    'aria-label': `Load the spoken comment of call ${item.call_id} (${seconds} seconds)`,
    onclick: async () => {
      button.disabled = true;
      button.textContent = 'Loading…';
      try {
        const path = recordingUrl(item, answer);
        const { blob } = await getBlob(path, path.includes('?') ? {} : { question: answer.question_id });
        const audio = el('audio', { controls: true, preload: 'auto', 'aria-label': `Spoken comment of call ${item.call_id}` });
        audio.src = URL.createObjectURL(blob);
        audioUrls.add(audio.src);
        holder.replaceChildren(audio);
        audio.focus();
      } catch (err) {
        button.disabled = false;
        button.textContent = `Load recording (${seconds} s)`;
        holder.append(el('p', { class: 'error-text', role: 'alert', text: `Recording unavailable: ${err.message}` }));
      }
    },
  });
  holder.append(button);
  return holder;
}

function commentsCard(page, ctx) {
  if (page.items.length === 0) return card('Recent comments', el('p', { class: 'muted', text: 'No comment in this range.' }));
  return card(
    'Recent comments',
    el(
      'ul',
      { class: 'comments' },
      page.items.map((item) =>
        el(
          'li',
          { class: 'comment', 'data-call': item.call_id },
          el('p', { class: 'comment-meta' }, el('strong', { text: item.score === null ? 'no score' : `${item.score} / 5` }), ` · ${fmtTime(item.created_at)} · queue ${item.queue_id} · call ${item.call_id}`),
          item.comment ? el('blockquote', { text: item.comment }) : null,
          item.answers.filter((answer) => answer.kind === 'comment' && answer.recording).map((answer) => recordingPlayer(item, answer, ctx)),
        ),
      ),
    ),
  );
}

export function drawAgent(data, ctx, id) {
  const { stats } = data;
  const queues = table(
    'Rank of the agent in each queue',
    ['Queue', 'Rank', 'Average', 'Ratings'],
    stats.queues.map((row) => [link(routeHref('queue', row.queue_id), row.queue_id), row.rank === null ? 'not ranked' : `${row.rank} of ${row.of}`, fmtAverage(row.average), fmtCount(row.count)]),
    { 'data-table': 'agent-queues' },
  );
  return {
    nodes: [
      heading(`Agent ${id}`, rangeNote(stats)),
      statsKpis(stats),
      el('div', { class: 'grid' }, ...statsBody(stats, `Agent ${id}`)),
      el('div', { class: 'grid' }, card('Queues', stats.queues.length ? queues : el('p', { class: 'muted', text: 'No ratings in this range.' })), funnelOrNote(data.funnel)),
      commentsCard(data.comments, ctx),
      questionsCard(data.questions),
    ],
    asOf: stats.as_of,
    range: stats,
  };
}
