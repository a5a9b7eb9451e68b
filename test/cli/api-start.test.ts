import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, jobs, type Session } from '../../src/db/schema.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import { git } from '../helpers/git.js';
import { type CliHarness, REPOSITORY, startCliHarness } from './harness.js';

interface StartAnswer {
  start: { id: string; state: string; sessionId: string | null; error?: string };
  session: Session | null;
  follow: string;
}

describe('POST /api/sessions: the operator starts a session, by the label trigger’s path', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(() => h?.cleanup());

  const start = (body: unknown, query = '') =>
    h.api<StartAnswer & { error?: string }>(`/api/sessions${query}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const apiStarts = () => h.db.select().from(deliveries).where(eq(deliveries.event, 'api'));

  it('finds the installation as the app, reads the issue, creates the session and spawns it', async () => {
    h.addIssue(10, 'Widgets overflow', 'The widget list overflows on small screens.');
    const { status, body } = await start({
      repository: REPOSITORY,
      issue: 10,
      message: 'Keep the fix small.',
    });
    expect(status, JSON.stringify(body)).toBe(202);
    expect(body.start).toMatchObject({ state: 'created', sessionId: body.session!.id });
    expect(body.session).toMatchObject({
      repositoryFullName: REPOSITORY,
      repositoryId: 4242,
      installationId: 7,
      issueNumber: 10,
      agent: 'fake',
      triggeredBy: 'operator (API)',
    });
    // The installation was asked for with the app's JWT, the issue with the installation's token.
    const installation = h.github.calls.find(
      (c) => c.path === `/api/v3/repos/${REPOSITORY}/installation`,
    );
    expect(installation?.authorization).toMatch(/^bearer ey/i);
    const issue = h.github.calls.find((c) => c.path === `/api/v3/repos/${REPOSITORY}/issues/10`);
    expect(issue?.authorization).toMatch(/^token ghs_local_installation_token_7_/);

    const id = body.session!.id;
    const session = await h.until('the agent to finish its first turn', async () => {
      const s = await h.session(id);
      return s?.status === 'waiting' && s.prNumber ? s : undefined;
    });
    const prompt = await git(h.origin.path, [
      'show',
      `refs/heads/${session.branch}:agent-first.md`,
    ]);
    expect(prompt).toContain('The widget list overflows on small screens.');
    expect(prompt).toContain('Keep the fix small.');
    await h.until('the status comment', async () => h.statusComments(10)[0]);
    expect(h.statusComments(10)).toHaveLength(1);
    expect(h.statusComments(10)[0]!.body).toContain(
      '| Started | by the operator, through the API |',
    );

    // The start is followable, and recorded like a delivery with what it caused.
    const followed = await h.api<{ start: StartAnswer['start'] }>(body.follow);
    expect(followed.body.start).toMatchObject({
      id: body.start.id,
      state: 'created',
      sessionId: id,
    });
    const [record] = await h.db.select().from(deliveries).where(eq(deliveries.id, body.start.id));
    expect(record).toMatchObject({ event: 'api', outcome: 'session-created', sessionId: id });
  });

  it('refuses a second start on an issue with a live session (409), naming it', async () => {
    const [live] = await h.db.select().from(deliveries).where(eq(deliveries.event, 'api'));
    const before = (await apiStarts()).length;
    const { status, body } = await start({ repository: 'Octo/Widgets', issue: 10 });
    expect(status).toBe(409);
    expect(body.error).toBe(
      `Octo/Widgets#10 already has a live session: ${live!.sessionId} (waiting)`,
    );
    expect(await apiStarts()).toHaveLength(before);
  });

  it('creates one session when two starts race for an issue; the other is refused', async () => {
    h.addIssue(11);
    const [a, b] = await Promise.all([
      start({ repository: REPOSITORY, issue: 11 }, '?wait=0'),
      start({ repository: REPOSITORY, issue: 11 }, '?wait=0'),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const outcomes = await h.until('both starts to be decided', async () => {
      const states = await Promise.all(
        [a, b].map((r) => h.api<{ start: StartAnswer['start'] }>(r.body.follow)),
      );
      const done = states.map((s) => s.body.start);
      return done.every((s) => s.state !== 'pending') ? done : undefined;
    });
    const created = outcomes.filter((s) => s.state === 'created');
    const refused = outcomes.filter((s) => s.state === 'refused');
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.error).toBe(
      `${REPOSITORY}#11 already has a live session: ${created[0]!.sessionId}`,
    );
    await h.until(
      'its first turn',
      async () => (await h.session(created[0]!.sessionId!))?.prNumber,
    );
  });

  it('answers 404 for a repository without the app and for an issue that does not exist', async () => {
    const notInstalled = await start({ repository: 'octo/gadgets', issue: 1 });
    expect(notInstalled.status).toBe(404);
    expect(notInstalled.body.error).toBe(
      'the app is not installed on octo/gadgets, or there is no such repository',
    );
    const noIssue = await start({ repository: REPOSITORY, issue: 999 });
    expect(noIssue.status).toBe(404);
    expect(noIssue.body.error).toBe(`${REPOSITORY} has no issue #999`);
  });

  it('refuses pull requests, closed issues, and unknown agents or profiles, saying which', async () => {
    h.github.addIssue(REPOSITORY, { number: 12, title: 'A PR', body: '', pullRequest: true });
    h.github.addIssue(REPOSITORY, { number: 13, title: 'Done', body: '', state: 'closed' });
    h.addIssue(14);
    for (const [body, status, error] of [
      [{ issue: 12 }, 422, `${REPOSITORY}#12 is a pull request; sessions start on issues`],
      [{ issue: 13 }, 409, `${REPOSITORY}#13 is closed`],
      [{ issue: 14, profile: 'reckless' }, 400, 'there is no agent profile named "reckless"'],
      [{ issue: 14, agent: 'hal' }, 400, 'there is no agent named "hal"'],
    ] as const) {
      const answer = await start({ repository: REPOSITORY, ...body });
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.error).toBe(error);
    }
    const profiled = await start({ repository: REPOSITORY, issue: 14, profile: 'careful' });
    expect(profiled.status).toBe(202);
    expect(profiled.body.session).toMatchObject({ issueNumber: 14, profile: 'careful' });
    await h.until(
      'its first turn',
      async () => (await h.session(profiled.body.session!.id))?.prNumber,
    );
  });

  it('rejects a bad body with 400 and queues nothing', async () => {
    const before = (await apiStarts()).length;
    const intentJobs = async () =>
      (
        await h.db
          .select()
          .from(jobs)
          .where(and(eq(jobs.kind, JOB_KINDS.intent)))
      ).length;
    const jobsBefore = await intentJobs();
    for (const [body, error] of [
      ['{', 'body is not valid JSON'],
      [{ issue: 5 }, 'repository'],
      [{ repository: 'widgets', issue: 5 }, 'repository: owner/name'],
      [{ repository: REPOSITORY, issue: '5' }, 'issue'],
      [{ repository: REPOSITORY, issue: 0 }, 'issue'],
      [{ repository: REPOSITORY, issue: 5, colour: 'red' }, 'colour'],
      [{ repository: REPOSITORY, issue: 5, agent: 'fake', profile: 'careful' }, 'not both'],
    ] as const) {
      const answer = await start(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error).toContain(error);
    }
    expect(await apiStarts()).toHaveLength(before);
    expect(await intentJobs()).toBe(jobsBefore);
  });

  it('needs the API token', async () => {
    const res = await fetch(`${h.orchestrator.url}/api/sessions`, {
      method: 'POST',
      body: JSON.stringify({ repository: REPOSITORY, issue: 15 }),
    });
    expect(res.status).toBe(401);
    expect((await fetch(`${h.orchestrator.url}/api/starts/api-x`)).status).toBe(401);
    const missing = await h.api<{ error: string }>('/api/starts/api-nothing');
    expect(missing).toEqual({ status: 404, body: { error: 'no start api-nothing' } });
  });
});
