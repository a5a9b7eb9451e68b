import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Session, sessions, turns } from '../../src/db/schema.js';
import { recordOnly } from '../../src/github/deliveries.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { operatorLimitsSchema } from '../../src/limits-config.js';
import { createServerApp } from '../../src/server/app.js';
import { createLiveFeed, type LiveFeed } from '../../src/server/dashboard/live-feed.js';
import { repositorySpend } from '../../src/server/repository-spend.js';
import { createSessionService } from '../../src/sessions/session-service.js';
import { spendPerDay } from '../../src/sessions/spend-store.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';

const TOKEN = 'dashboard-token-for-tests-0123456789';
const NOW = new Date('2025-06-14T15:00:00Z');
const WIDGETS = { id: 1001, name: 'octo/widgets' };
const GADGETS = { id: 2002, name: 'octo/gadgets' };
// The operator's: a session may spend $10 and 30 turns, a repository 50 turns a day.
const LIMITS = operatorLimitsSchema.parse({
  costUsd: 10,
  turns: 30,
  perRepositoryPerDay: { turns: 50 },
});

/** The element with this id, up to its closing tag (cards and svgs do not nest their own kind). */
function element(html: string, tag: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  expect(start, `no element #${id}`).toBeGreaterThan(-1);
  const end = html.indexOf(`</${tag}>`, start);
  return html.slice(html.lastIndexOf(`<${tag}`, start), end + tag.length + 3);
}

/** The bars of a chart: each day's data-day, the bar's height and its title. */
function bars(svg: string) {
  return [
    ...svg.matchAll(
      /<g class="day[^"]*" data-day="([\d-]+)"><rect class="bar[^"]*" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"><title>([^<]+)<\/title><\/rect><text[^>]*>(\d+)<\/text><\/g>/g,
    ),
  ].map(([, day, height, title, label]) => ({ day, height: Number(height), title, label }));
}

describe.each(ENGINES)('spend on the dashboard, on %s', (engine) => {
  let t: TestDatabase;
  let feed: LiveFeed;
  let app: ReturnType<typeof createServerApp>;
  let cookie: string;
  const made: Record<string, Session> = {};

  const html = async (url: string) => {
    const res = await app.request(url, { headers: { cookie } });
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    const { db } = t.database;
    const service = createSessionService({ db, queue: createJobQueue({ db }) });
    feed = createLiveFeed({ database: t.database, log: pino({ level: 'silent' }) });
    app = createServerApp({
      database: t.database,
      verify: async () => false,
      handler: recordOnly,
      log: pino({ level: 'silent' }),
      api: { sessionService: service, apiToken: TOKEN },
      dashboard: { liveFeed: feed, githubUrl: 'https://github.example', now: () => NOW },
      limits: LIMITS,
    });

    const session = async (
      key: string,
      repo: { id: number; name: string },
      issueNumber: number,
      createdAt: string,
      config: Record<string, unknown>,
    ) => {
      const created = (await service.create({
        repositoryId: repo.id,
        repositoryFullName: repo.name,
        cloneUrl: `https://github.com/${repo.name}.git`,
        issueNumber,
        agent: 'claude-code',
        triggeredBy: 'alice',
        context: {
          issue: {
            repository: repo.name,
            number: issueNumber,
            title: `Issue ${issueNumber}`,
            body: '',
          },
          config,
        },
      }))!;
      await db
        .update(sessions)
        .set({ createdAt: new Date(createdAt) })
        .where(eq(sessions.id, created.id));
      made[key] = created;
      return created;
    };
    // The older session of widgets had a lower limit; its newest one's config is what counts.
    const old = await session('old', WIDGETS, 1, '2025-06-01T09:00:00Z', {
      limits: { perDay: { costUsd: 2 } },
    });
    const newest = await session('newest', WIDGETS, 2, '2025-06-13T09:00:00Z', {
      limits: { turns: 8, perDay: { costUsd: 5, turns: 20 } },
    });
    const gadgets = await session('gadgets', GADGETS, 3, '2025-06-10T09:00:00Z', {});

    let number = 0;
    const turn = (s: Session, startedAt: string, costUsd: number) => ({
      sessionId: s.id,
      number: ++number,
      runnerId: 'r-test-0001',
      logPath: `/nowhere/${number}.log`,
      status: 'finished' as const,
      costUsd,
      startedAt: new Date(startedAt),
    });
    await db.insert(turns).values([
      // widgets today: three turns, $1.20, one of them in the first minute of the day.
      turn(newest, '2025-06-14T00:00:30Z', 0.7),
      turn(newest, '2025-06-14T14:00:00Z', 0.5),
      turn(old, '2025-06-14T14:30:00Z', 0),
      // yesterday, a second before midnight.
      turn(newest, '2025-06-13T23:59:59Z', 2),
      // the first day of the chart, and the day before it (not shown).
      turn(old, '2025-06-01T00:00:00Z', 0.25),
      turn(old, '2025-05-31T23:59:59Z', 9),
      // gadgets: today and yesterday.
      turn(gadgets, '2025-06-14T10:00:00Z', 0.4),
      turn(gadgets, '2025-06-13T10:00:00Z', 0.1),
    ]);
    // The newest widgets session since a retry: 5 turns, 15 agent minutes and $1.70 in all.
    await db
      .update(sessions)
      .set({
        costUsd: 1.7,
        guards: {
          turns: 5,
          agentSeconds: 900,
          budgetFrom: { costUsd: 0.5, turns: 2, agentSeconds: 300 },
        },
      })
      .where(eq(sessions.id, newest.id));

    const login = await app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  });
  afterAll(async () => {
    feed?.close();
    await t?.cleanup();
  });

  it.each(['/', '/sessions'])(
    '%s shows each repository’s spend and turns today against its limits',
    async (url) => {
      const page = await html(url);
      expect(page).toContain('Spend today (2025-06-14 UTC)');
      expect(page).toContain('limits as of the last session');
      const widgets = element(page, 'article', `spend-${WIDGETS.id}`);
      expect(widgets).toContain('octo/widgets');
      // The newest session's config: $5 and 20 turns a day (not the older session's $2).
      expect(widgets).toContain('<span class="spend-cost">$1.20 of $5.00</span>');
      expect(widgets).toContain('<span class="spend-turns">3 of 20 turns</span>');
      expect(widgets).toContain('<meter min="0" max="5" value="1.2"');
      expect(widgets).toContain('limits as of the last session (2025-06-13 09:00 UTC)');
      const gadgets = element(page, 'article', `spend-${GADGETS.id}`);
      // No cost limit anywhere; the turns are the operator's.
      expect(gadgets).toContain('<span class="spend-cost">$0.40, no limit</span>');
      expect(gadgets).toContain('<span class="spend-turns">1 of 50 turns</span>');
      expect(gadgets.match(/<meter/g)).toHaveLength(1);
      // By name.
      expect(page.indexOf(`spend-${GADGETS.id}`)).toBeLessThan(page.indexOf(`spend-${WIDGETS.id}`));
    },
  );

  it('draws the last 14 UTC days as bars, today last, with every amount in words', async () => {
    const svg = element(await html('/'), 'svg', `spend-chart-${WIDGETS.id}-title`);
    const days = bars(svg);
    expect(days.map((d) => d.day)).toEqual(
      Array.from({ length: 14 }, (_, i) => `2025-06-${String(i + 1).padStart(2, '0')}`),
    );
    expect(days.map((d) => d.label)).toEqual(Array.from({ length: 14 }, (_, i) => String(i + 1)));
    const day = (d: string) => days.find((x) => x.day === d)!;
    expect(day('2025-06-14').title).toBe('2025-06-14: $1.20, 3 turns');
    expect(day('2025-06-13').title).toBe('2025-06-13: $2.00, 1 turn');
    expect(day('2025-06-01').title).toBe('2025-06-01: $0.25, 1 turn');
    expect(day('2025-06-07').title).toBe('2025-06-07: $0.00, 0 turns');
    // Heights on one scale, up to the $5 limit (the tallest thing): 108 units of plot.
    expect(day('2025-06-13').height).toBeCloseTo((2 / 5) * 108, 0);
    expect(day('2025-06-14').height).toBeCloseTo((1.2 / 5) * 108, 0);
    expect(day('2025-06-07').height).toBe(0);
    expect(svg).not.toContain('2025-05-31');
    expect(svg).toMatch(/<g class="day today" data-day="2025-06-14">/);
    // Accessible: named by its title and description, which say every day's amount.
    expect(svg).toContain(
      `role="img" aria-labelledby="spend-chart-${WIDGETS.id}-title spend-chart-${WIDGETS.id}-desc"`,
    );
    expect(svg).toContain(
      `<title id="spend-chart-${WIDGETS.id}-title">Spend per day of octo/widgets, last 14 days</title>`,
    );
    const desc = /<desc id="[^"]+">([^<]+)<\/desc>/.exec(svg)![1]!;
    expect(desc).toContain('from 2025-06-01 to 2025-06-14, today last');
    expect(desc).toContain('2025-06-13: $2.00, 1 turn; 2025-06-14: $1.20, 3 turns.');
    expect(desc).toContain('Daily limit $5.00.');
    expect(svg).toContain('class="limit"');
    expect(svg).toContain('limit $5.00');
    // Nothing inline for the policy to refuse.
    expect(svg).not.toMatch(/style=|<script/);

    const gadgets = element(await html('/'), 'svg', `spend-chart-${GADGETS.id}-title`);
    expect(
      bars(gadgets)
        .map((d) => d.title)
        .slice(-2),
    ).toEqual(['2025-06-13: $0.10, 1 turn', '2025-06-14: $0.40, 1 turn']);
    expect(gadgets).toContain('No daily cost limit.');
    expect(gadgets).not.toContain('class="limit"');
  });

  it('shows only the filtered repository’s spend', async () => {
    const page = await html('/sessions?repository=octo/gadgets');
    expect(page).toContain(`id="spend-${GADGETS.id}"`);
    expect(page).not.toContain(`id="spend-${WIDGETS.id}"`);
    const none = await html('/sessions?repository=octo/nothing-here');
    expect(none).not.toContain('Spend today');
  });

  it('reads the same days as the spend store', async () => {
    const spend = await repositorySpend(t.database.db, LIMITS, {}, NOW);
    expect(spend.map((r) => r.name)).toEqual(['octo/gadgets', 'octo/widgets']);
    for (const r of spend) {
      expect(r.days).toEqual(await spendPerDay(t.database.db, r.repositoryId, 14, NOW));
    }
  });

  it('shows a session’s own spend since its last retry against its own limits', async () => {
    const page = await html(`/sessions/${made.newest!.id}`);
    const budget = element(page, 'dd', 'session-budget');
    // $1.70 - $0.50, 5 - 2 turns, 900 - 300 seconds; the repository lowered 30 turns to 8.
    expect(budget).toContain('<span class="budget-cost">$1.20 of $10.00</span>');
    expect(budget).toContain('<span class="budget-turns">3 of 8 turns</span>');
    expect(budget).toContain('<span class="budget-minutes">10 agent minutes, no limit</span>');
    expect(budget).toContain('since the last /agent retry');

    const fresh = element(await html(`/sessions/${made.gadgets!.id}`), 'dd', 'session-budget');
    expect(fresh).toContain('$0.00 of $10.00');
    expect(fresh).toContain('0 of 30 turns');
    expect(fresh).toContain('since the session started');
  });
});
