import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionEvents, sessions, turns } from '../../src/db/schema.js';
import { recordOnly } from '../../src/github/deliveries.js';
import { operatorLimitsSchema } from '../../src/limits-config.js';
import { GUARD_TRIP_KINDS, tripKind } from '../../src/metrics/budget-gauges.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createServerApp } from '../../src/server/app.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { parsePrometheusText, type Sample, sampleValue } from './prometheus-text.js';

const NOW = new Date('2025-06-14T15:00:00Z');
const TODAY = '2025-06-14';
const YESTERDAY = '2025-06-13';
const LIMITS = operatorLimitsSchema.parse({ perRepositoryPerDay: { turns: 50 } });

describe('tripKind', () => {
  it.each([
    ['guard', 'no-change', null, 'no-change'],
    ['guard', 'same-ci-failure', null, 'same-ci-failure'],
    ['guard', 'a-guard-from-later', null, 'a-guard-from-later'],
    ['guard', 'Not A Label!', null, 'other'],
    ['guard', null, null, 'other'],
    ['budget', null, 'repository', 'budget-repository'],
    ['budget', null, 'installation', 'budget-installation'],
    // A running turn over the session's limit records no scope.
    ['budget', null, null, 'budget-session'],
    ['budget', null, 'galaxy', 'budget-other'],
  ])('%s %s %s counts as %s', (kind, guard, scope, expected) => {
    expect(tripKind(kind, guard, scope)).toBe(expected);
  });
});

describe.each(ENGINES)('budget and guard gauges on %s', (engine) => {
  let t: TestDatabase;
  let text: string;
  let samples: Sample[];

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    const { db } = t.database;
    const session = (
      id: string,
      repositoryId: number,
      name: string,
      rest: Partial<typeof sessions.$inferInsert>,
    ) => ({
      id,
      repositoryId,
      repositoryFullName: name,
      cloneUrl: `https://github.com/${name}.git`,
      issueNumber: Number(id.slice(-1)),
      agent: 'fake',
      triggeredBy: 'alice',
      ...rest,
    });
    await db.insert(sessions).values([
      // Limited by its newest session's config; the older one asked for less.
      session('s-widgets-old1', 1001, 'octo/secret-widgets', {
        status: 'merged',
        createdAt: new Date(`${YESTERDAY}T08:00:00Z`),
        updatedAt: new Date(`${YESTERDAY}T09:00:00Z`),
        context: { config: { limits: { perDay: { costUsd: 1 } } } },
      }),
      session('s-widgets-new2', 1001, 'octo/secret-widgets', {
        status: 'waiting',
        createdAt: new Date(`${YESTERDAY}T10:00:00Z`),
        context: { config: { limits: { perDay: { costUsd: 5, turns: 20 } } } },
      }),
      // No config of its own: the operator's 50 turns, no cost limit.
      session('s-gadgets-003', 2002, 'octo/secret-gadgets', { status: 'working' }),
      // Ended yesterday, nothing since: not active today, no series.
      session('s-quiet-0004', 3003, 'octo/secret-quiet', {
        status: 'stopped',
        updatedAt: new Date(`${YESTERDAY}T12:00:00Z`),
      }),
      // Ended today: still active today.
      session('s-ended-0005', 4004, 'octo/secret-ended', {
        status: 'merged',
        updatedAt: new Date(`${TODAY}T01:00:00Z`),
      }),
    ]);
    let number = 0;
    const turn = (sessionId: string, startedAt: string, costUsd: number) => ({
      sessionId,
      number: ++number,
      runnerId: 'r-test-0001',
      logPath: `/nowhere/${number}.log`,
      status: 'finished' as const,
      costUsd,
      startedAt: new Date(startedAt),
    });
    await db
      .insert(turns)
      .values([
        turn('s-widgets-new2', `${TODAY}T00:00:00Z`, 0.7),
        turn('s-widgets-new2', `${TODAY}T14:00:00Z`, 0.5),
        turn('s-widgets-old1', `${TODAY}T14:59:59Z`, 0),
        turn('s-widgets-new2', `${YESTERDAY}T23:59:59Z`, 2),
        turn('s-gadgets-003', `${TODAY}T03:00:00Z`, 0.4),
        turn('s-quiet-0004', `${YESTERDAY}T11:00:00Z`, 3),
      ]);
    await db.insert(sessionEvents).values([
      { sessionId: 's-widgets-new2', kind: 'guard', data: { guard: 'no-change', turns: 3 } },
      { sessionId: 's-gadgets-003', kind: 'guard', data: { guard: 'no-change', turns: 3 } },
      { sessionId: 's-gadgets-003', kind: 'guard', data: { guard: 'automated', key: 'ci' } },
      { sessionId: 's-quiet-0004', kind: 'budget', data: { scope: 'repository', reason: 'x' } },
      { sessionId: 's-quiet-0004', kind: 'budget', data: { turn: 4, reason: 'over' } },
      { sessionId: 's-quiet-0004', kind: 'turn-finished', data: { guard: 'no-change' } },
    ]);

    const app = createServerApp({
      database: t.database,
      verify: async () => false,
      handler: recordOnly,
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
      limits: LIMITS,
      now: () => NOW,
    });
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    text = await res.text();
    samples = parsePrometheusText(text);
  });
  afterAll(() => t?.cleanup());

  const used = (id: string, resource: string) =>
    sampleValue(samples, 'agent_orchestrator_budget_used', {
      repository_id: id,
      resource,
      window: 'day',
    });
  const remaining = (id: string, resource: string) =>
    sampleValue(samples, 'agent_orchestrator_budget_remaining', {
      repository_id: id,
      resource,
      window: 'day',
    });

  it('reports what each repository active today spent today, and what is left of its limits', () => {
    expect(used('1001', 'turns')).toBe(3);
    expect(used('1001', 'cost_usd')).toBeCloseTo(1.2, 10);
    expect(remaining('1001', 'turns')).toBe(17);
    expect(remaining('1001', 'cost_usd')).toBeCloseTo(3.8, 10);
    expect(used('2002', 'turns')).toBe(1);
    expect(used('2002', 'cost_usd')).toBeCloseTo(0.4, 10);
    expect(remaining('2002', 'turns')).toBe(49);
    // No cost limit: no remaining to report.
    expect(remaining('2002', 'cost_usd')).toBeUndefined();
    expect(used('4004', 'turns')).toBe(0);
    expect(remaining('4004', 'turns')).toBe(50);
  });

  it('leaves out repositories with no session active today', () => {
    const ids = new Set(
      samples
        .filter((s) => s.name.startsWith('agent_orchestrator_budget_'))
        .map((s) => s.labels.repository_id),
    );
    expect([...ids].sort()).toEqual(['1001', '2002', '4004']);
  });

  it('counts guard trips by kind from the recorded events, every known kind shown', () => {
    const trips = (kind: string) =>
      sampleValue(samples, 'agent_orchestrator_guard_trips', { kind });
    expect(trips('no-change')).toBe(2);
    expect(trips('automated')).toBe(1);
    expect(trips('budget-repository')).toBe(1);
    expect(trips('budget-session')).toBe(1);
    for (const kind of ['same-ci-failure', 'budget-installation']) expect(trips(kind)).toBe(0);
    const kinds = samples
      .filter((s) => s.name === 'agent_orchestrator_guard_trips')
      .map((s) => s.labels.kind);
    expect(kinds.sort()).toEqual([...GUARD_TRIP_KINDS].sort());
  });

  it('labels budgets by repository id, resource and window only: no repository names', () => {
    for (const s of samples.filter((s) => s.name.startsWith('agent_orchestrator_budget_'))) {
      expect(Object.keys(s.labels).sort()).toEqual(['repository_id', 'resource', 'window']);
      expect(s.labels.repository_id).toMatch(/^\d+$/);
    }
    for (const secret of ['secret', 'octo', 'alice']) expect(text).not.toContain(secret);
  });
});
