import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Session, sessionMessages } from '../../src/db/schema.js';
import { type InProcess, startInProcess } from './in-process.js';
import { REPOSITORY } from './world.js';

// Budgets and loop guards through the whole app in-process: the local GitHub, the real runner,
// the fake agent (which never fixes anything).
const LONG = 90_000;

describe('a repository budget of one turn per day', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess({ operator: { limits: { perRepositoryPerDay: { turns: 1 } } } });
  });
  afterAll(() => h?.cleanup());

  it('refuses the second session with a comment saying why', async () => {
    await h.deliver('issues', h.labelled(120));
    await h.waitForSession(120, ['waiting'], (s) => h.turnsDone(s.id, 1), LONG);

    await h.deliver('issues', h.labelled(121));
    await h.settled(LONG);
    expect(await h.sessionFor(121)).toBeUndefined();
    const reply = h.github.comments.find((c) => c.issue === 121);
    expect(reply?.body).toContain(
      "I can't start a session: this repository's daily budget of 1 agent turn is used up",
    );
    expect(reply?.body).toContain('UTC');
  }, 300_000);
});

describe('loop guards', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess({
      operator: { allowedBots: ['helper[bot]'], guards: { automatedPerHour: 3 } },
      repoConfig: { reactions: { 'ci-failed': { retries: 5 } } },
    });
  });
  afterAll(() => h?.cleanup());

  const failCi = async (s: Session, runId: number) => {
    h.github.addCheckRun({
      name: 'unit tests',
      head_sha: s.headSha!,
      status: 'completed',
      conclusion: 'failure',
      app: { slug: 'ci-app' },
      details_url: '',
      output: { title: '1 test failed', summary: '' },
      annotations: [
        {
          path: 'src/save.ts',
          start_line: 14,
          end_line: 14,
          annotation_level: 'failure',
          message: 'TypeError: file is null',
        },
      ],
    });
    await h.deliver(
      'workflow_run',
      h.payload('workflow_run', 'completed', 'ci-app[bot]', (p) => {
        p.workflow_run = {
          ...p.workflow_run,
          id: runId,
          run_attempt: 1,
          head_sha: s.headSha,
          conclusion: 'failure',
          status: 'completed',
          name: 'CI',
          pull_requests: [],
        };
      }),
    );
  };

  it('an agent that never fixes CI is escalated at the repeated failure, not after every retry', async () => {
    await h.deliver('issues', h.labelled(130));
    let s = await h.waitForSession(130, ['waiting'], (x) => Boolean(x.prNumber), LONG);

    await failCi(s, 13001);
    s = await h.waitForSession(130, ['waiting'], (x) => h.turnsDone(x.id, 2), LONG);
    // The agent had its turn; the same failure comes back on its new commit.
    await failCi(s, 13002);
    s = await h.waitForSession(130, ['needs_human'], () => true, LONG);

    expect(s.statusReason).toBe(
      'the same CI failure came back after the agent had a turn to fix it',
    );
    expect(s.reactionAttempts).toEqual({ 'ci-failed': 2 }); // of the 5 retries allowed
    expect(await h.turnsOf(s.id)).toHaveLength(2);
    const notice = await h.until(
      'the people told',
      () => h.github.comments.find((c) => c.body.includes('The session is paused')),
      LONG,
    );
    expect(notice.body).toContain('the same CI failure came back');
  }, 300_000);

  it('a bot that keeps instructing the agent is stopped once the hour’s automated messages are used', async () => {
    await h.deliver('issues', h.labelled(131));
    const s = await h.waitForSession(131, ['waiting'], (x) => h.turnsDone(x.id, 1), LONG);
    const botSays = (n: number) =>
      h.deliver('issue_comment', h.commented(131, 'helper[bot]', `/agent step ${n}`, 13100 + n));

    for (let n = 1; n <= 3; n++) {
      await botSays(n);
      await h.waitForSession(131, ['waiting'], (x) => h.turnsDone(x.id, n + 1), LONG);
    }
    await botSays(4);
    const paused = await h.waitForSession(131, ['needs_human'], () => true, LONG);

    expect(paused.statusReason).toBe(
      'more than 3 automated messages reached the session within an hour',
    );
    await h.settled(LONG);
    expect(await h.turnsOf(s.id)).toHaveLength(4);
    const guard = (await h.eventsOf(s.id)).find((e) => e.kind === 'guard');
    expect(guard?.data).toMatchObject({ guard: 'automated', source: 'helper[bot]' });
    expect(h.github.pullsOf(REPOSITORY).length).toBeGreaterThan(0);
  }, 300_000);
});

describe('the stall watchdog', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess({
      // Every turn of the fake agent hangs without a word: the retry hangs too.
      operator: { limits: { stallMinutes: 0.05 }, env: { set: { FAKE_ALWAYS: 'hang' } } },
    });
  });
  afterAll(() => h?.cleanup());

  it('stops an agent that hangs silently, retries it once with a word on why, then reports it', async () => {
    await h.deliver('issues', h.labelled(140));
    const s = await h.waitForSession(140, ['needs_human'], (x) => h.turnsDone(x.id, 2), LONG);

    const turns = await h.turnsOf(s.id);
    expect(turns.map((t) => t.outcome)).toEqual(['agent-stuck', 'agent-stuck']);
    for (const turn of turns) // within the stall time and a minute, far short of the turn limit
      expect(turn.endedAt!.getTime() - turn.startedAt.getTime()).toBeLessThan(63_000);
    expect(s.statusReason).toBe(
      'the turn was stopped after 3 seconds with no output and no file change; agent-stuck: 2 attempts, more than the 1 allowed',
    );
    const sent = (await h.eventsOf(s.id)).filter((e) => e.kind === 'reaction');
    expect(sent.map((e) => (e.data as { action?: string }).action)).toContain('send-to-agent');
    const [retry] = await h.db
      .select()
      .from(sessionMessages)
      .where(eq(sessionMessages.sessionId, s.id));
    expect(retry?.source).toBe('agent-stuck');
    expect(retry?.body).toContain('made no progress (no output and no file change)');
    expect(retry?.body).toContain('stopped after 3 seconds with no output and no file change');
    const report = await h.until(
      'the people told',
      () =>
        h.github.comments.find(
          (c) => c.issue === 140 && c.body.includes('no output and no file change'),
        ),
      LONG,
    );
    expect(report.body).not.toContain('FAKE');
  }, 300_000);
});
