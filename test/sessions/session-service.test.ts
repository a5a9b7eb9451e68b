import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jobs,
  type Session,
  sessionEvents,
  sessionMessages,
  sessions,
  turns,
} from '../../src/db/schema.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { IllegalTransitionError } from '../../src/sessions/illegal-transition.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import {
  type CreateSessionInput,
  createSessionService,
  type SessionService,
} from '../../src/sessions/session-service.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');

describe.each(ENGINES)('the session service on %s', (engine) => {
  let t: TestDatabase;
  let service: SessionService;
  let issue = 0;

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    service = createSessionService({
      db: t.database.db,
      queue: createJobQueue({ db: t.database.db }),
      now: () => NOW,
    });
  });
  afterAll(() => t?.cleanup());

  const input = (overrides: Partial<CreateSessionInput> = {}): CreateSessionInput => {
    issue += 1;
    return {
      installationId: 7,
      repositoryId: 42,
      repositoryFullName: 'octo/widgets',
      cloneUrl: 'https://github.com/octo/widgets.git',
      issueNumber: issue,
      agent: 'claude-code',
      triggeredBy: 'alice',
      context: { config: { reactions: { 'ci-failed': { retries: 5 } } } },
      ...overrides,
    };
  };
  const db = () => t.database.db;
  const row = async (id: string) =>
    (await db().select().from(sessions).where(eq(sessions.id, id)))[0]!;
  const eventKinds = async (id: string) =>
    (
      await db()
        .select()
        .from(sessionEvents)
        .where(eq(sessionEvents.sessionId, id))
        .orderBy(asc(sessionEvents.id))
    ).map((e) => e.kind);
  const jobKinds = async (id: string) =>
    (await db().select().from(jobs).where(eq(jobs.sessionId, id)).orderBy(asc(jobs.id))).map(
      (j) => j.kind,
    );
  /** A session a runner has taken and whose first turn has run: waiting for review or CI. */
  const waiting = async (overrides: Partial<CreateSessionInput> = {}): Promise<Session> => {
    const created = (await service.create(input(overrides)))!;
    await db()
      .update(sessions)
      .set({ status: 'waiting', runnerId: 'r-host-1', workspacePath: '/w', headSha: 'h1' })
      .where(eq(sessions.id, created.id));
    await db().insert(turns).values({
      sessionId: created.id,
      number: 1,
      runnerId: 'r-host-1',
      logPath: '/s/turn-1.log',
      status: 'finished',
    });
    return row(created.id);
  };

  it('creates a queued session with its event, its spawn job and one status-comment job', async () => {
    const session = (await service.create(input(), { deliveryId: 'd-1' }))!;
    expect(session.status).toBe('queued');
    expect(await eventKinds(session.id)).toEqual(['created']);
    expect(await jobKinds(session.id)).toEqual([JOB_KINDS.spawn, JOB_KINDS.statusComment]);
    const [created] = await db()
      .select()
      .from(sessionEvents)
      .where(eq(sessionEvents.sessionId, session.id));
    expect(created!.deliveryId).toBe('d-1');
  });

  it('creates no second live session for an issue, and writes nothing for the loser', async () => {
    const first = (await service.create(input()))!;
    const again = await service.create({ ...input(), issueNumber: first.issueNumber });
    expect(again).toBeNull();
    const onIssue = await db()
      .select()
      .from(sessions)
      .where(eq(sessions.issueNumber, first.issueNumber));
    expect(onIssue).toHaveLength(1);
    expect(await jobKinds(first.id)).toEqual([JOB_KINDS.spawn, JOB_KINDS.statusComment]);
  });

  it('writes the status, the timeline and the jobs of a transition together', async () => {
    const session = await waiting();
    const applied = await service.apply(session.id, {
      type: 'stop-requested',
      status: 'stopped',
      reason: 'stopped by @alice',
      cleanup: true,
      by: 'alice',
    });
    expect(applied.transition.status).toBe('waiting'); // the runner ends it
    expect(await eventKinds(session.id)).toContain('stop-requested');
    const stop = (await db().select().from(jobs).where(eq(jobs.sessionId, session.id))).find(
      (j) => j.kind === JOB_KINDS.stop,
    );
    expect(stop).toMatchObject({ runnerId: 'r-host-1', payload: { status: 'stopped' } });

    const ended = await service.apply(session.id, {
      type: 'ended',
      status: 'stopped',
      reason: 'stopped by @alice',
      cleanedUp: true,
    });
    expect(ended.session).toMatchObject({ status: 'stopped', statusReason: 'stopped by @alice' });
    expect((await row(session.id)).endedAt).toEqual(NOW);
  });

  it('refuses an event the session cannot take and writes nothing', async () => {
    const session = await waiting();
    await service.apply(session.id, {
      type: 'ended',
      status: 'stopped',
      reason: 'done',
      cleanedUp: true,
    });
    const events = await eventKinds(session.id);
    const queued = await jobKinds(session.id);
    const refused = await service
      .apply(session.id, { type: 'message', body: 'more', source: 'alice' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IllegalTransitionError);
    expect((refused as IllegalTransitionError).ended).toBe(true);
    expect(await eventKinds(session.id)).toEqual(events);
    expect(await jobKinds(session.id)).toEqual(queued);
    const messages = await db()
      .select()
      .from(sessionMessages)
      .where(eq(sessionMessages.sessionId, session.id));
    expect(messages).toEqual([]);
    expect((await row(session.id)).status).toBe('stopped');
  });

  it('keeps to one pending status-comment job however many changes come', async () => {
    const session = await waiting();
    for (let i = 0; i < 5; i++)
      await service.apply(session.id, { type: 'message', body: `m${i}`, source: 'alice' });
    const comments = (await jobKinds(session.id)).filter((k) => k === JOB_KINDS.statusComment);
    expect(comments).toHaveLength(1);
  });

  it('counts concurrent reactions one after the other under the row lock', async () => {
    const session = await waiting();
    const other = engine === 'postgres' ? await t.connect({ maxConnections: 4 }) : t.database;
    const second = createSessionService({
      db: other.db,
      queue: createJobQueue({ db: other.db }),
    });
    await Promise.all(
      [service, second, service, second].map((s) =>
        s.apply(session.id, { type: 'reaction', key: 'ci-failed', headSha: 'h1', body: 'red' }),
      ),
    );
    expect((await row(session.id)).reactionAttempts).toEqual({ 'ci-failed': 4 });
    const messages = await db()
      .select()
      .from(sessionMessages)
      .where(eq(sessionMessages.sessionId, session.id));
    // Each CI failure's message replaces the one still waiting: the agent gets the newest.
    expect(messages).toHaveLength(1);
  });

  it('starts a turn that delivers the queued messages, and resumes the same turn until it ends', async () => {
    const session = await waiting();
    await service.apply(session.id, { type: 'message', body: 'first', source: 'alice' });
    await service.apply(session.id, { type: 'message', body: 'second', source: 'ci-failed' });
    const event = {
      type: 'turn-chosen',
      first: false,
      runnerId: 'r-host-1',
      stateDir: '/state/s',
    } as const;
    const chosen = await service.apply(session.id, event);
    expect(chosen.session.status).toBe('working');
    expect(chosen.turn).toMatchObject({ number: 2, logPath: '/state/s/turn-2.log' });
    const delivered = await db()
      .select()
      .from(sessionMessages)
      .where(eq(sessionMessages.sessionId, session.id))
      .orderBy(asc(sessionMessages.id));
    expect(delivered.map((m) => [m.body, m.turnId])).toEqual([
      ['first', chosen.turn!.id],
      ['second', chosen.turn!.id],
    ]);
    const again = await service.apply(session.id, event);
    expect(again.turn?.id).toBe(chosen.turn!.id);
    expect(await db().select().from(turns).where(eq(turns.sessionId, session.id))).toHaveLength(2);
  });

  it("writes nothing when the caller's transaction rolls back", async () => {
    const session = await waiting();
    const before = await eventKinds(session.id);
    await db()
      .transaction(async (tx) => {
        await service.apply(session.id, { type: 'message', body: 'lost', source: 'alice' }, { tx });
        throw new Error('the caller changed its mind');
      })
      .catch(() => {});
    expect(await eventKinds(session.id)).toEqual(before);
    expect(
      await db().select().from(sessionMessages).where(eq(sessionMessages.sessionId, session.id)),
    ).toEqual([]);
  });
});
