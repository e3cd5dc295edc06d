// GET /cc/csat/questions, /funnel, /teams, /team/:id and the csat figures of queue and agent stats,
// on both databases: rows are seeded into cc_csat, survey_answer and survey_outcome, the result
// service runs (full, then incremental), and every number is checked against the same figure
// computed here from the seeded rows.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FunnelAnswer, QuestionsAnswer, QueueStats, AgentStats, TeamList, TeamStats } from '../src/http/schemas.js';
import type { AnswerKind, SurveyOutcomeKind } from '../src/db/schema.js';
import { DATABASES, startApi, type ApiHarness } from './helpers/api.js';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const FROM = '2026-11-01';
const TO = '2026-11-20';
const MIN_RATINGS = 2;

const TEAMS = `
[[team]]
id = "north"
name = "North floor"
agents = ["agent-001", "agent-002"]

[[team]]
id = "south"
agents = ["agent-003", "agent-004", "agent-never-rated"]

[[team]]
id = "empty"
agents = []
`;
const TEAM_AGENTS: Record<string, string[]> = { north: ['agent-001', 'agent-002'], south: ['agent-003', 'agent-004', 'agent-never-rated'], empty: [] };
const AGENTS = ['agent-001', 'agent-002', 'agent-003', 'agent-005'];
const QUEUES = ['sales-queue', 'support-queue'];

// ------------------------------------------------------------------------------------- seed data

interface SeedRating { call_id: string; agent_id: string; queue_id: string; score: number; created_at: string }
interface SeedAnswer { call_id: string; question_id: string; kind: AnswerKind; value: number | null; agent_id: string; queue_id: string; answered_at: string }
interface SeedOutcome { call_id: string; agent_id: string | null; queue_id: string | null; outcome: SurveyOutcomeKind; reason: string | null; last_step: string | null; started_at: string }

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** `count` calls from `firstDay` over `days` days: a rating, answers to each question, an outcome. */
function generate(prefix: string, count: number, firstDay: string, days: number, seed: number) {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const between = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const questions: Array<{ id: string; kind: AnswerKind; value: () => number | null }> = [
    { id: 'q_csat', kind: 'csat', value: () => between(1, 5) },
    { id: 'q_nps', kind: 'nps', value: () => between(0, 10) },
    { id: 'q_resolved', kind: 'yes_no', value: () => between(0, 1) },
    { id: 'q_effort', kind: 'ces', value: () => between(1, 7) },
    { id: 'q_scale', kind: 'scale', value: () => between(2, 4) },
    { id: 'a_comment', kind: 'comment', value: () => null },
  ];
  const ratings: SeedRating[] = [];
  const answers: SeedAnswer[] = [];
  const outcomes: SeedOutcome[] = [];
  const start = Date.parse(`${firstDay}T00:00:00.000Z`);
  for (let i = 0; i < count; i++) {
    const call_id = `${prefix}-${i}`;
    // agent-004 gets one call only: below min_ratings_to_rank.
    const agent_id = i === 0 ? 'agent-004' : pick(AGENTS);
    const queue_id = pick(QUEUES);
    const at = new Date(start + Math.floor(random() * days * 86_400_000)).toISOString();
    const outcome = i === 0 ? 'completed' : pick(['completed', 'completed', 'completed', 'abandoned', 'declined', 'no_input', 'invalid', 'failed', 'skipped'] as const);
    const reason = outcome === 'skipped' ? pick(['not_sampled', 'agent_excluded']) : outcome === 'failed' ? pick(['ari_application_replaced', null]) : outcome === 'declined' ? pick(['declined_by_key', 'no_answer_to_offer']) : null;
    const last_step = ['abandoned', 'no_input', 'invalid'].includes(outcome) ? pick(['q_csat', 'q_nps', 'consent']) : null;
    // A skipped caller with no agent (an unanswered queue call): counted for the queue, not for any agent.
    const unassigned = outcome === 'skipped' && random() < 0.3;
    outcomes.push({ call_id, agent_id: unassigned ? null : agent_id, queue_id, outcome, reason, last_step, started_at: at });
    if (outcome !== 'completed') continue;
    ratings.push({ call_id, agent_id, queue_id, score: between(1, 5), created_at: at });
    for (const question of questions) {
      if (random() < 0.15) continue;
      answers.push({ call_id, question_id: question.id, kind: question.kind, value: question.value(), agent_id, queue_id, answered_at: at });
    }
  }
  return { ratings, answers, outcomes };
}

type Seeded = ReturnType<typeof generate>;

async function insert(api: ApiHarness, data: Seeded): Promise<void> {
  for (const rating of data.ratings) await api.db.insertInto('cc_csat').values({ ...rating, comment: null }).execute();
  for (const a of data.answers) {
    await api.db
      .insertInto('survey_answer')
      .values({
        ...a,
        digits: a.value === null ? null : String(a.value),
        recording: a.kind === 'comment' ? `csat-${a.call_id}` : null,
        recording_ms: a.kind === 'comment' ? 2000 : null,
        recording_format: a.kind === 'comment' ? 'wav' : null,
        recording_server: null,
        recording_deleted_at: null,
        language: 'en',
        ivr: 'survey',
      })
      .execute();
  }
  for (const o of data.outcomes) {
    await api.db
      .insertInto('survey_outcome')
      .values({ ...o, channel_id: `chan-${o.call_id}`, ivr: 'survey', attempts: 1, score: null, ended_at: o.started_at, server: null, consent: null })
      .execute();
  }
}

// --------------------------------------------------------------------------- expected, from the rows

const day = (iso: string): string => iso.slice(0, 10);
const inRange = (iso: string): boolean => day(iso) >= FROM && day(iso) <= TO;
const round1 = (value: number): number => Math.round(value * 10) / 10;
const round2 = (value: number): number => Math.round(value * 100) / 100;
const days = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
};
const DAYS = days(FROM, TO);

type Subject = { queue_id?: string; agent_ids?: readonly string[] };
const ofSubject = (row: { agent_id: string | null; queue_id: string | null }, subject: Subject): boolean =>
  subject.queue_id !== undefined ? row.queue_id === subject.queue_id : subject.agent_ids !== undefined ? row.agent_id !== null && subject.agent_ids.includes(row.agent_id) : row.queue_id !== null;

const mean = (values: readonly number[]): number | null => (values.length === 0 ? null : round2(values.reduce((a, b) => a + b, 0) / values.length));
const percent = (n: number, of: number): number | null => (of === 0 ? null : round1((n / of) * 100));
const csatFigures = (scores: readonly number[]) => ({
  csat_percent: percent(scores.filter((s) => s >= 4).length, scores.length),
  csat_nps: scores.length === 0 ? null : round1(((scores.filter((s) => s >= 4).length - scores.filter((s) => s <= 2).length) / scores.length) * 100),
});
const kindFigure = (kind: AnswerKind, values: readonly number[], withCsatNps: boolean): Record<string, number | null> => {
  if (kind === 'nps') return { nps: values.length === 0 ? null : round1(((values.filter((v) => v >= 9).length - values.filter((v) => v <= 6).length) / values.length) * 100) };
  if (kind === 'csat') {
    const { csat_percent, csat_nps } = csatFigures(values);
    return withCsatNps ? { csat_percent, csat_nps } : { csat_percent };
  }
  if (kind === 'yes_no') return { yes_percent: percent(values.filter((v) => v === 1).length, values.length) };
  return {};
};
const RANGES: Partial<Record<AnswerKind, number[]>> = { csat: [1, 2, 3, 4, 5], nps: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], ces: [1, 2, 3, 4, 5, 6, 7], yes_no: [0, 1] };

function expectedQuestions(answers: readonly SeedAnswer[], subject: Subject, questionId?: string, scaleRange: number[] = []) {
  const rows = answers.filter((a) => inRange(a.answered_at) && ofSubject(a, subject) && (questionId === undefined || a.question_id === questionId));
  const ids = [...new Set(rows.map((a) => a.question_id))].sort();
  return ids.map((id) => {
    const mine = rows.filter((a) => a.question_id === id);
    const kind = mine[0]!.kind;
    const values = mine.map((a) => a.value ?? 0);
    const distribution: Record<string, number> = {};
    if (kind !== 'comment') for (const v of [...new Set([...(RANGES[kind] ?? []), ...(kind === 'scale' ? scaleRange : []), ...values])].sort((a, b) => a - b)) distribution[String(v)] = values.filter((x) => x === v).length;
    return {
      question_id: id,
      kind,
      count: mine.length,
      average: kind === 'comment' ? null : mean(values),
      distribution,
      ...kindFigure(kind, values, true),
      trend: DAYS.map((d) => {
        const those = mine.filter((a) => day(a.answered_at) === d).map((a) => a.value ?? 0);
        return { period_start: d, count: those.length, average: kind === 'comment' ? null : mean(those), ...kindFigure(kind, those, false) };
      }),
    };
  });
}

function expectedFunnel(outcomes: readonly SeedOutcome[], subject: Subject) {
  const rows = outcomes.filter((o) => inRange(o.started_at) && ofSubject(o, subject));
  const n = (kind: SurveyOutcomeKind) => rows.filter((o) => o.outcome === kind).length;
  const offered = rows.filter((o) => o.outcome !== 'skipped').length;
  const by = (kind: SurveyOutcomeKind, detail: (o: SeedOutcome) => string | null) => {
    const counts: Record<string, number> = {};
    for (const o of rows.filter((row) => row.outcome === kind)) {
      const key = detail(o) ?? 'unknown';
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
  };
  return {
    offered,
    accepted: offered - n('declined'),
    declined: n('declined'),
    completed: n('completed'),
    abandoned: n('abandoned'),
    no_input: n('no_input'),
    invalid: n('invalid'),
    failed: n('failed'),
    skipped: n('skipped'),
    response_rate: percent(n('completed'), offered),
    abandoned_at: by('abandoned', (o) => o.last_step),
    skipped_by_reason: by('skipped', (o) => o.reason),
    declined_by_reason: by('declined', (o) => o.reason),
    failed_by_reason: by('failed', (o) => o.reason),
    trend: DAYS.map((d) => {
      const those = rows.filter((o) => day(o.started_at) === d);
      const offeredThat = those.filter((o) => o.outcome !== 'skipped').length;
      const completedThat = those.filter((o) => o.outcome === 'completed').length;
      return { period_start: d, offered: offeredThat, completed: completedThat, response_rate: percent(completedThat, offeredThat) };
    }),
  };
}

function expectedTeam(ratings: readonly SeedRating[], teamId: string, name: string) {
  const agents = TEAM_AGENTS[teamId]!;
  const rows = ratings.filter((r) => inRange(r.created_at) && agents.includes(r.agent_id));
  const scores = rows.map((r) => r.score);
  const perAgent = [...new Set(rows.map((r) => r.agent_id))].map((agent_id) => {
    const theirs = rows.filter((r) => r.agent_id === agent_id).map((r) => r.score);
    return { agent_id, count: theirs.length, exact: theirs.reduce((a, b) => a + b, 0) / theirs.length, average: mean(theirs) };
  });
  const order = (a: (typeof perAgent)[number], b: (typeof perAgent)[number]) => b.exact - a.exact || b.count - a.count || (a.agent_id < b.agent_id ? -1 : 1);
  const ranked = perAgent.filter((a) => a.count >= MIN_RATINGS).sort(order);
  const unranked = perAgent.filter((a) => a.count < MIN_RATINGS).sort(order);
  return {
    team_id: teamId,
    name,
    period: 'day',
    from: FROM,
    to: TO,
    average: mean(scores),
    count: scores.length,
    distribution: Object.fromEntries([1, 2, 3, 4, 5].map((s) => [String(s), scores.filter((x) => x === s).length])),
    ...csatFigures(scores),
    trend: DAYS.map((d) => {
      const those = rows.filter((r) => day(r.created_at) === d).map((r) => r.score);
      return { period_start: d, count: those.length, average: mean(those) };
    }),
    agent_ranking: [
      ...ranked.map((a, i) => ({ rank: i + 1, agent_id: a.agent_id, average: a.average, count: a.count })),
      ...unranked.map((a) => ({ rank: null, agent_id: a.agent_id, average: a.average, count: a.count })),
    ],
  };
}

// ----------------------------------------------------------------------------------------- tests

const RANGE = `from=${FROM}&to=${TO}`;

for (const { kind, skip } of DATABASES) {
  describe(`survey statistics API on ${kind}`, { skip }, () => {
    let api: ApiHarness;
    let data: Seeded;
    const all = (): Seeded => data;

    before(async () => {
      api = await startApi({ database: kind, now: NOW, teams: TEAMS, minRatingsToRank: MIN_RATINGS });
      // In range, and some rows before it (October) that no answer may count.
      const inside = generate('in', 260, FROM, 20, 7);
      const earlier = generate('old', 40, '2026-10-10', 15, 11);
      data = {
        ratings: [...inside.ratings, ...earlier.ratings],
        answers: [...inside.answers, ...earlier.answers],
        outcomes: [...inside.outcomes, ...earlier.outcomes],
      };
      await insert(api, data);
      await api.results.run('full');
    });
    after(async () => {
      await api?.close();
    });

    const get = async (path: string, schema?: { parse: (value: unknown) => unknown }) => {
      const res = await api.request('GET', path);
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      schema?.parse(res.body);
      return res;
    };

    test('/questions: every question of the whole contact center, of a queue, an agent, a team, and one question', async () => {
      const subjects: Array<[string, Subject, Record<string, string>]> = [
        ['', {}, {}],
        ['&queue_id=support-queue', { queue_id: 'support-queue' }, { queue_id: 'support-queue' }],
        ['&agent_id=agent-002', { agent_ids: ['agent-002'] }, { agent_id: 'agent-002' }],
        ['&team_id=north', { agent_ids: TEAM_AGENTS['north']! }, { team_id: 'north' }],
        ['&team_id=empty', { agent_ids: [] }, { team_id: 'empty' }],
      ];
      for (const [query, subject, echo] of subjects) {
        const res = await get(`/cc/csat/questions?${RANGE}${query}`, QuestionsAnswer);
        const { as_of, ...rest } = res.body;
        assert.equal(typeof as_of, 'string');
        assert.deepEqual(rest, { ...echo, period: 'day', from: FROM, to: TO, questions: expectedQuestions(all().answers, subject) }, query || 'whole center');
      }
      const one = await get(`/cc/csat/questions?${RANGE}&queue_id=sales-queue&question_id=q_nps`);
      assert.deepEqual(one.body.questions, expectedQuestions(all().answers, { queue_id: 'sales-queue' }, 'q_nps'));
      assert.equal(one.body.questions.length, 1);
    });

    test('/funnel: offered, accepted, each ending and its breakdown, response rate and trend', async () => {
      const subjects: Array<[string, Subject, Record<string, string>]> = [
        ['', {}, {}],
        ['&queue_id=sales-queue', { queue_id: 'sales-queue' }, { queue_id: 'sales-queue' }],
        ['&agent_id=agent-001', { agent_ids: ['agent-001'] }, { agent_id: 'agent-001' }],
        ['&team_id=south', { agent_ids: TEAM_AGENTS['south']! }, { team_id: 'south' }],
      ];
      for (const [query, subject, echo] of subjects) {
        const res = await get(`/cc/csat/funnel?${RANGE}${query}`, FunnelAnswer);
        const { as_of: _asOf, ...rest } = res.body;
        assert.deepEqual(rest, { ...echo, period: 'day', from: FROM, to: TO, ...expectedFunnel(all().outcomes, subject) }, query || 'whole center');
      }
    });

    test('/teams lists config/teams.toml; /team/:id: totals, csat figures, trend and ranking of its members', async () => {
      const teams = await get('/cc/csat/teams', TeamList);
      assert.deepEqual(teams.body, {
        teams: [
          { team_id: 'north', name: 'North floor', agents: TEAM_AGENTS['north'] },
          { team_id: 'south', name: 'south', agents: TEAM_AGENTS['south'] },
          { team_id: 'empty', name: 'empty', agents: [] },
        ],
      });
      for (const [id, name] of [['north', 'North floor'], ['south', 'south'], ['empty', 'empty']] as const) {
        const res = await get(`/cc/csat/team/${id}?${RANGE}`, TeamStats);
        const { as_of: _asOf, ...rest } = res.body;
        assert.deepEqual(rest, expectedTeam(all().ratings, id, name), id);
      }
      const south = await get(`/cc/csat/team/south?${RANGE}`);
      assert.ok(south.body.agent_ranking.some((agent: { agent_id: string; rank: number | null }) => agent.agent_id === 'agent-004' && agent.rank === null), 'one rating: listed, not ranked');
      const unknown = await api.request('GET', `/cc/csat/team/west?${RANGE}`);
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.body, { detail: 'unknown team "west"' });
      for (const path of [`/cc/csat/questions?team_id=west`, `/cc/csat/funnel?team_id=west`]) {
        const res = await api.request('GET', path);
        assert.equal(res.status, 404, path);
        assert.equal(res.body.detail, 'unknown team "west"');
      }
    });

    test('queue and agent stats carry csat_percent and csat_nps of their ratings', async () => {
      for (const queue of QUEUES) {
        const res = await get(`/cc/csat/queue/${queue}?${RANGE}`, QueueStats);
        const scores = all().ratings.filter((r) => r.queue_id === queue && inRange(r.created_at)).map((r) => r.score);
        assert.deepEqual({ csat_percent: res.body.csat_percent, csat_nps: res.body.csat_nps, count: res.body.count }, { ...csatFigures(scores), count: scores.length }, queue);
      }
      for (const agent of [...AGENTS, 'agent-004']) {
        const res = await get(`/cc/csat/agent/${agent}?${RANGE}`, AgentStats);
        const scores = all().ratings.filter((r) => r.agent_id === agent && inRange(r.created_at)).map((r) => r.score);
        assert.deepEqual({ csat_percent: res.body.csat_percent, csat_nps: res.body.csat_nps, count: res.body.count }, { ...csatFigures(scores), count: scores.length }, agent);
      }
      const quiet = await get(`/cc/csat/queue/quiet-queue?${RANGE}`);
      assert.deepEqual([quiet.body.csat_percent, quiet.body.csat_nps], [null, null], 'nothing rated: null, not 0');
    });

    test('weekly periods: the range widens to whole ISO weeks and the trend has one point per week', async () => {
      const res = await get(`/cc/csat/funnel?period=week&${RANGE}`);
      // 2026-11-01 is a Sunday: its week starts Monday 2026-10-26; 2026-11-20 is a Friday: its week ends Sunday 2026-11-22.
      assert.deepEqual([res.body.from, res.body.to], ['2026-10-26', '2026-11-22']);
      const weeks = ['2026-10-26', '2026-11-02', '2026-11-09', '2026-11-16'];
      const mondayOf = (iso: string): string => {
        const t = Date.parse(`${day(iso)}T00:00:00Z`);
        return new Date(t - ((new Date(t).getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
      };
      const rows = all().outcomes.filter((o) => o.queue_id !== null && day(o.started_at) >= '2026-10-26' && day(o.started_at) <= '2026-11-22');
      assert.deepEqual(
        res.body.trend,
        weeks.map((week) => {
          const those = rows.filter((o) => mondayOf(o.started_at) === week);
          const offered = those.filter((o) => o.outcome !== 'skipped').length;
          const completed = those.filter((o) => o.outcome === 'completed').length;
          return { period_start: week, offered, completed, response_rate: percent(completed, offered) };
        }),
      );
    });

    test('answers are cached per snapshot with an ETag: 304 while unchanged, new figures after an incremental run', async () => {
      const paths = [`/cc/csat/questions?${RANGE}`, `/cc/csat/funnel?${RANGE}`, `/cc/csat/team/north?${RANGE}`];
      const etags = new Map<string, string>();
      for (const path of paths) {
        const first = await get(path);
        const etag = first.headers.get('etag')!;
        assert.ok(etag, path);
        etags.set(path, etag);
        // As a browser revalidates (fetch() would otherwise add "Cache-Control: no-cache", which rules out a 304).
        const again = await api.request('GET', path, { headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' } });
        assert.equal(again.status, 304, path);
      }
      const more = generate('late', 60, '2026-11-15', 5, 23);
      await insert(api, more);
      data = { ratings: [...data.ratings, ...more.ratings], answers: [...data.answers, ...more.answers], outcomes: [...data.outcomes, ...more.outcomes] };
      api.clock.now = new Date(NOW.getTime() + 60_000);
      await api.results.run('incremental');
      for (const path of paths) {
        const res = await api.request('GET', path, { headers: { 'if-none-match': etags.get(path)!, 'cache-control': 'max-age=0' } });
        assert.equal(res.status, 200, `${path}: the snapshot moved`);
        assert.notEqual(res.headers.get('etag'), etags.get(path));
      }
      const questions = await get(`/cc/csat/questions?${RANGE}&team_id=north`);
      assert.deepEqual(questions.body.questions, expectedQuestions(all().answers, { agent_ids: TEAM_AGENTS['north']! }));
      const funnel = await get(`/cc/csat/funnel?${RANGE}`);
      const { as_of: _a, period: _p, from: _f, to: _t, ...figures } = funnel.body;
      assert.deepEqual(figures, expectedFunnel(all().outcomes, {}));
      const team = await get(`/cc/csat/team/north?${RANGE}`);
      const { as_of: _b, ...teamFigures } = team.body;
      assert.deepEqual(teamFigures, expectedTeam(all().ratings, 'north', 'North floor'));
    });

    test('a scale question lists every value its IVR step allows once the config names it (reload), zeros included', async () => {
      const before = await get(`/cc/csat/questions?${RANGE}&question_id=q_scale`);
      assert.deepEqual(Object.keys(before.body.questions[0].distribution), ['2', '3', '4'], 'unknown to config: the values seen');
      const ivrDir = join(dirname(dirname(api.teamsPath)), 'ivr');
      writeFileSync(
        join(ivrDir, 'scaled.toml'),
        '[[step]]\nid = "q_scale"\ntype = "collect"\nkind = "scale"\nprompt = ["sound:csat/rate-intro"]\nrange = { min = 1, max = 6 }\nnext = "bye"\n\n[[step]]\nid = "bye"\ntype = "hangup"\n',
      );
      assert.equal(api.reloadConfig().result, 'ok');
      const after = await get(`/cc/csat/questions?${RANGE}&question_id=q_scale`);
      assert.deepEqual(after.body.questions, expectedQuestions(all().answers, {}, 'q_scale', [1, 2, 3, 4, 5, 6]));
      assert.deepEqual(Object.keys(after.body.questions[0].distribution), ['1', '2', '3', '4', '5', '6']);
    });

    test('bad queries: 400 naming the field; nothing is computed', async () => {
      const cases: Array<[string, string, RegExp]> = [
        ['/cc/csat/questions?queue_id=sales-queue&agent_id=agent-001', 'queue_id', /at most one of queue_id, agent_id and team_id/],
        ['/cc/csat/funnel?team_id=north&queue_id=sales-queue', 'queue_id', /at most one of/],
        ['/cc/csat/questions?question_id=1abc', 'question_id', /must be a question id/],
        ['/cc/csat/questions?question_id=q%20nps', 'question_id', /must be a question id/],
        ['/cc/csat/funnel?period=year', 'period', /./],
        ['/cc/csat/funnel?from=2026-11-05&to=2026-11-01', 'from', /from is after to/],
        ['/cc/csat/funnel?colour=blue', 'query', /unknown field "colour"/],
        ['/cc/csat/questions?queue_id=a&queue_id=b', 'queue_id', /given more than once/],
        ['/cc/csat/team/north?days=0', 'days', /at least 1/],
        ['/cc/csat/funnel?from=2020-01-01&to=2026-11-01', 'from', /at most 731 days/],
      ];
      for (const [path, field, message] of cases) {
        const res = await api.request('GET', path);
        assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
        const issue = res.body.issues.find((i: { path: string }) => i.path === field);
        assert.ok(issue, `${path}: issue at ${field} in ${JSON.stringify(res.body.issues)}`);
        assert.match(issue.message, message, path);
      }
    });
  });
}
