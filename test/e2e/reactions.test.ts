import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git.js';
import { type InProcess, startInProcess } from './in-process.js';
import { REPOSITORY } from './world.js';

// How a session reacts to what happens on its pull request over time, the app in-process.
describe('reactions over time', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess({ repoConfig: { reactions: { 'ci-failed': { retries: 1 } } } });
  });
  afterAll(() => h?.cleanup());

  const label = (number: number, body = 'Please fix it.') =>
    h.deliver('issues', h.labelled(number, `Issue ${number}`, body));
  const workflowRun = (
    sha: string,
    conclusion: string,
    runAttempt: number,
    prNumbers: number[] = [],
  ) =>
    h.deliver(
      'workflow_run',
      h.payload('workflow_run', 'completed', 'alice', (p) => {
        p.workflow_run = {
          ...p.workflow_run,
          id: 777,
          run_attempt: runAttempt,
          head_sha: sha,
          conclusion,
          status: 'completed',
          name: 'CI',
          pull_requests: prNumbers.map((number) => ({ number })),
        };
      }),
    );
  const failCheck = (sha: string) =>
    h.github.addCheckRun({
      name: 'lint',
      head_sha: sha,
      status: 'completed',
      conclusion: 'failure',
      app: { slug: 'ci-app' },
      details_url: '',
      output: { title: 'lint failed', summary: '' },
      annotations: [],
    });

  it('counts re-runs, escalates to a human after the retries, and a human command starts over', async () => {
    await label(90);
    let s = await h.waitForSession(90, ['waiting'], (x) => Boolean(x.prNumber));
    failCheck(s.headSha!);
    await workflowRun(s.headSha!, 'failure', 1);
    s = await h.waitForSession(90, ['waiting'], (x) => h.turnsDone(x.id, 2));
    expect(s.reactionAttempts).toEqual({ 'ci-failed': 1 });

    // A re-run of the same workflow fails again on the new head: one attempt too many.
    failCheck(s.headSha!);
    await workflowRun(s.headSha!, 'failure', 2);
    s = await h.waitForSession(90, ['needs_human']);
    expect(s.statusReason).toBe('ci-failed: 2 attempts, more than the 1 allowed');
    const notice = await h.until('the escalation', async () =>
      h.github.comments.find((c) => c.body.includes('A human needs to look at this')),
    );
    expect(notice.body).toContain('@alice');
    expect(await h.turnsOf(s.id)).toHaveLength(2);

    // The human steps in: the counts start over and the message is delivered.
    await h.deliver(
      'issue_comment',
      h.commented(90, 'alice', '/agent the lint rule is wrong, disable it', 8101),
    );
    s = await h.waitForSession(90, ['waiting'], (x) => h.turnsDone(x.id, 3));
    expect(s.reactionAttempts).toEqual({});
  }, 60_000);

  it('records and ignores a CI result for an older head', async () => {
    await label(91);
    const first = await h.waitForSession(91, ['waiting'], (x) => Boolean(x.prNumber));
    await h.deliver('issue_comment', h.commented(91, 'alice', '/agent one more change', 8102));
    const s = await h.waitForSession(91, ['waiting'], (x) => h.turnsDone(x.id, 2));
    expect(s.headSha).not.toBe(first.headSha);
    await workflowRun(first.headSha!, 'failure', 1, [s.prNumber!]);
    await h.settled();
    const ignored = (await h.eventsOf(s.id)).filter((e) => e.kind === 'ignored');
    expect(ignored.map((e) => e.data)).toEqual([{ key: 'ci-failed', reason: 'stale-head' }]);
    expect(await h.turnsOf(s.id)).toHaveLength(2);
  }, 60_000);

  it('asks the agent to resolve conflicts when the base branch moves and the PR no longer merges', async () => {
    await label(92);
    const s = await h.waitForSession(92, ['waiting'], (x) => Boolean(x.prNumber));
    h.github.findPull(REPOSITORY, s.prNumber!)!.mergeable = false;
    await h.deliver(
      'push',
      h.payload('push', undefined, 'maya', (p) => {
        p.ref = 'refs/heads/main';
        p.after = 'a'.repeat(40);
        p.deleted = false;
      }),
    );
    const after = await h.waitForSession(92, ['waiting'], (x) => h.turnsDone(x.id, 2));
    expect(
      await git(h.origin.path, ['show', `refs/heads/${after.branch}:agent-next.md`]),
    ).toContain('no longer merges cleanly');
  }, 60_000);

  it('stops and cleans up when the trigger label is removed from an issue with no pull request', async () => {
    await label(93, 'FAKE: no-change');
    const s = await h.waitForSession(93, ['waiting']);
    expect(s.prNumber).toBeNull();
    await h.deliver(
      'issues',
      h.payload('issues', 'unlabeled', 'alice', (p) => {
        p.issue = h.issue(93);
        p.label = { ...p.label, name: 'agent' };
      }),
    );
    const closed = await h.waitForSession(93, ['closed']);
    expect(closed.statusReason).toBe('trigger label removed by @alice');
    expect(existsSync(closed.workspacePath!)).toBe(false);
  }, 60_000);
});

describe('auto-merge', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess({
      repoConfig: {
        reactions: { 'approved-and-green': { action: 'auto-merge', mergeMethod: 'squash' } },
      },
    });
  });
  afterAll(() => h?.cleanup());

  // Two sessions at once: their waits get longer than the harness's 30 s default.
  const LONG = 90_000;

  it('really merges an approved, green pull request, and a refusal becomes a notification', async () => {
    for (const number of [80, 81]) await h.deliver('issues', h.labelled(number));
    const merged = await h.waitForSession(80, ['waiting'], (x) => Boolean(x.prNumber), LONG);
    const refused = await h.waitForSession(81, ['waiting'], (x) => Boolean(x.prNumber), LONG);
    h.github.refuseMerge(
      REPOSITORY,
      refused.prNumber!,
      'Required status check "deploy" is expected.',
    );
    for (const s of [merged, refused]) {
      h.github.addReview(REPOSITORY, s.prNumber!, {
        state: 'APPROVED',
        body: '',
        user: { login: 'alice', type: 'User' },
        commit_id: s.headSha!,
        comments: [],
      });
      await h.deliver(
        'workflow_run',
        h.payload('workflow_run', 'completed', 'alice', (p) => {
          p.workflow_run = {
            ...p.workflow_run,
            id: 900 + s.issueNumber,
            run_attempt: 1,
            head_sha: s.headSha,
            conclusion: 'success',
            status: 'completed',
            pull_requests: [],
          };
        }),
      );
    }
    await h.until(
      'the merge call',
      async () =>
        h.github.calls.some(
          (c) => c.method === 'PUT' && c.path.endsWith(`/pulls/${merged.prNumber}/merge`),
        ),
      LONG,
    );
    expect(h.github.findPull(REPOSITORY, merged.prNumber!)?.merged).toBe(true);
    const notice = await h.until(
      'the refusal notification',
      async () => h.github.comments.find((c) => c.body.includes('GitHub refused to merge it')),
      LONG,
    );
    expect(notice.body).toContain('Required status check "deploy" is expected.');
    expect(notice.issue).toBe(refused.prNumber);
  }, 300_000);
});
