// An independent, brute-force model of the statistics the API must return: local dates from
// Intl's sv-SE format (not the engine's ZoneCalendar), buckets by plain date math, no SQL.

export interface SeedRating {
  call_id: string;
  agent_id: string;
  queue_id: string;
  score: number;
  created_at: string;
}

const DAY = 86_400_000;
const dateOf = (s: string) => new Date(`${s}T00:00:00Z`);
const iso = (d: Date) => d.toISOString().slice(0, 10);

export function localDay(createdAt: string, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(createdAt));
}

function bucketOf(period: string, day: string): string {
  const d = dateOf(day);
  if (period === 'day') return day;
  if (period === 'week') return iso(new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY));
  return `${day.slice(0, 7)}-01`;
}

function bucketEnd(period: string, start: string): string {
  const d = dateOf(start);
  if (period === 'day') return start;
  if (period === 'week') return iso(new Date(d.getTime() + 6 * DAY));
  return iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)));
}

const round2 = (sum: number, count: number) => (count === 0 ? null : Math.round((sum / count) * 100) / 100);

export function reference(
  ratings: readonly SeedRating[],
  timeZone: string,
  q: { period: 'day' | 'week' | 'month'; from: string; to: string; agentId?: string; queueId?: string; minRatings: number },
) {
  const from = bucketOf(q.period, q.from);
  const to = bucketEnd(q.period, bucketOf(q.period, q.to));
  const inRange = ratings
    .map((r) => ({ ...r, day: localDay(r.created_at, timeZone) }))
    .filter((r) => r.day >= from && r.day <= to);
  const mine = inRange.filter((r) => (q.agentId === undefined || r.agent_id === q.agentId) && (q.queueId === undefined || r.queue_id === q.queueId));
  const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 } as Record<string, number>;
  for (const r of mine) distribution[String(r.score)]!++;
  const sum = mine.reduce((total, r) => total + r.score, 0);
  const trend: Array<{ period_start: string; count: number; average: number | null }> = [];
  for (let start = from; start <= to; start = iso(new Date(dateOf(bucketEnd(q.period, start)).getTime() + DAY))) {
    const inBucket = mine.filter((r) => bucketOf(q.period, r.day) === start);
    trend.push({ period_start: start, count: inBucket.length, average: round2(inBucket.reduce((t, r) => t + r.score, 0), inBucket.length) });
  }
  const ranking = (queueId: string) => {
    const byAgent = new Map<string, { count: number; sum: number }>();
    for (const r of inRange.filter((r) => r.queue_id === queueId)) {
      const entry = byAgent.get(r.agent_id) ?? { count: 0, sum: 0 };
      entry.count++;
      entry.sum += r.score;
      byAgent.set(r.agent_id, entry);
    }
    const rows = [...byAgent].map(([agent_id, v]) => ({ agent_id, ...v, avg: v.sum / v.count }));
    const order = (a: (typeof rows)[number], b: (typeof rows)[number]) => b.avg - a.avg || b.count - a.count || a.agent_id.localeCompare(b.agent_id, 'en');
    const ranked = rows.filter((r) => r.count >= q.minRatings).sort(order);
    const unranked = rows.filter((r) => r.count < q.minRatings).sort(order);
    return [
      ...ranked.map((r, i) => ({ rank: i + 1 as number | null, agent_id: r.agent_id, average: round2(r.sum, r.count), count: r.count })),
      ...unranked.map((r) => ({ rank: null as number | null, agent_id: r.agent_id, average: round2(r.sum, r.count), count: r.count })),
    ];
  };
  return { from, to, count: mine.length, average: round2(sum, mine.length), distribution, trend, ranking };
}
