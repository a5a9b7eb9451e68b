import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs, sessions } from '../../src/db/schema.js';
import type { TurnHandle } from '../../src/runner/runtimes/runtime.js';
import { groupAlive, type Harness, startHarness } from './harness.js';

// What stops a turn while it runs, through the real runner and the fake agent's real processes:
// the session's cost limit, a silent hang (the stall watchdog), and what a stall is not.
const STALL_MINUTES = 0.05; // 3 seconds

describe('a running turn under the budget and the stall watchdog', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      operator: { limits: { costUsd: 1, stallMinutes: STALL_MINUTES, turnMinutes: 2 } },
    });
  });
  afterAll(() => h?.cleanup());

  const pgidOf = async (id: string) =>
    ((await h.turnsOf(id))[0]!.handle as unknown as TurnHandle).pid;

  it('stops a turn mid-way once its reported cost crosses the session limit', async () => {
    const created = await h.createSession({ body: 'FAKE: spend 1.5\nFAKE: hang' });
    const s = await h.waitFor(created.id, ['needs_human'], { timeoutMs: 60_000 });
    expect(s.statusReason).toBe(
      "the session's cost limit of $1.00 is reached ($1.50 spent); the running turn was stopped",
    );
    expect(s.costUsd).toBeCloseTo(1.5);
    const [turn] = await h.turnsOf(s.id);
    expect(turn).toMatchObject({ status: 'finished', outcome: 'over-budget' });
    expect(groupAlive(await pgidOf(s.id))).toBe(false);
    const budget = (await h.eventsOf(s.id)).find((e) => e.kind === 'budget');
    expect(budget?.data).toMatchObject({ reason: s.statusReason });
  }, 90_000);

  it('stops an agent that hangs silently once the stall time passes, and tells the reaction rules', async () => {
    const created = await h.createSession({ body: 'FAKE: hang' });
    const s = await h.waitFor(created.id, ['needs_human'], { timeoutMs: 60_000 });
    expect(s.statusReason).toBe(
      'the turn was stopped after 3 seconds with no output and no file change',
    );
    const [turn] = await h.turnsOf(s.id);
    expect(turn).toMatchObject({ status: 'finished', outcome: 'agent-stuck' });
    // Stopped by the watchdog, long before the 2-minute turn limit.
    expect(turn!.endedAt!.getTime() - turn!.startedAt.getTime()).toBeLessThan(60_000);
    expect(groupAlive(await pgidOf(s.id))).toBe(false);
    const [reaction] = await h.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.sessionId, s.id), eq(jobs.kind, 'session.reaction')));
    expect(reaction?.payload).toMatchObject({ key: 'agent-stuck', detail: s.statusReason });
  }, 90_000);

  it.each([
    ['an agent that keeps printing', 'FAKE: chatty 7000\nFAKE: no-change'],
    ['a silent agent that keeps changing files', 'FAKE: busy 7000'],
  ])(
    'lets %s run past the stall time',
    async (_, body) => {
      const created = await h.createSession({ body });
      const s = await h.waitFor(created.id, ['waiting', 'needs_human'], {
        timeoutMs: 60_000,
        until: () => h.turnsDone(created.id, 1),
      });
      expect(s.status).toBe('waiting');
      const [turn] = await h.turnsOf(s.id);
      expect(turn).toMatchObject({ outcome: 'ok', exitCode: 0 });
      expect(turn!.endedAt!.getTime() - turn!.startedAt.getTime()).toBeGreaterThan(6_000);
    },
    90_000,
  );

  it('asks a human after three turns in a row that change no file', async () => {
    const created = await h.createSession({ body: 'FAKE: no-change' });
    await h.waitFor(created.id, ['waiting'], { until: () => h.turnsDone(created.id, 1) });
    await h.queueMessage(created.id, 'Try again. FAKE: no-change');
    await h.waitFor(created.id, ['waiting'], { until: () => h.turnsDone(created.id, 2) });
    await h.queueMessage(created.id, 'And again. FAKE: no-change');
    const s = await h.waitFor(created.id, ['needs_human'], {
      until: () => h.turnsDone(created.id, 3),
    });
    expect(s.statusReason).toBe('3 turns in a row changed no file');
    const guard = (await h.eventsOf(s.id)).find((e) => e.kind === 'guard');
    expect(guard?.data).toMatchObject({ guard: 'no-change', turns: 3 });
  }, 90_000);

  it('a turn that changes a file starts the count again', async () => {
    const created = await h.createSession({ body: 'FAKE: no-change' });
    await h.waitFor(created.id, ['waiting'], { until: () => h.turnsDone(created.id, 1) });
    await h.queueMessage(created.id, 'Try again. FAKE: no-change');
    await h.waitFor(created.id, ['waiting'], { until: () => h.turnsDone(created.id, 2) });
    await h.queueMessage(created.id, 'Now change something.');
    await h.waitFor(created.id, ['waiting'], { until: () => h.turnsDone(created.id, 3) });
    await h.queueMessage(created.id, 'Once more. FAKE: no-change');
    const s = await h.waitFor(created.id, ['waiting', 'needs_human'], {
      until: () => h.turnsDone(created.id, 4),
    });
    expect(s.status).toBe('waiting');
  }, 90_000);
});

describe('a session left working with nothing running it', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ operator: { limits: { turnMinutes: 0.05 } } });
  });
  afterAll(() => h?.cleanup());

  it('is picked up again once, and its lost turn handed to a human', async () => {
    const created = await h.createSession({ body: 'FAKE: until-file /nonexistent/never' });
    await h.waitFor(created.id, ['working'], {
      until: async () => Boolean((await h.turnsOf(created.id))[0]?.handle),
    });
    // The runner goes away with the turn running; the agent dies with no exit file; the job
    // running the turn (here the spawn job, which runs the first) has used its attempts. Nothing will run the session again by itself.
    await h.host.stop();
    const pgid = ((await h.turnsOf(created.id))[0]!.handle as unknown as TurnHandle).pid;
    process.kill(-pgid, 'SIGKILL');
    await h.db
      .update(jobs)
      .set({ status: 'dead', lockedBy: null, leaseExpiresAt: null })
      .where(
        and(eq(jobs.sessionId, created.id), inArray(jobs.kind, ['session.spawn', 'session.turn'])),
      );
    expect((await h.session(created.id)).status).toBe('working');
    await h.restartHost();

    const s = await h.waitFor(created.id, ['needs_human'], { timeoutMs: 60_000 });
    expect(s.statusReason).toBe('turn 1 ended without an exit status (its process was lost)');
    const kinds = (await h.eventsOf(s.id)).map((e) => e.kind);
    expect(kinds, JSON.stringify(await h.eventsOf(s.id))).toContain('reconciled');
    const [row] = await h.db.select().from(sessions).where(eq(sessions.id, s.id));
    expect(row!.guards).toMatchObject({ reconciledTurn: 1 });
  }, 90_000);
});
