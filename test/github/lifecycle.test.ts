import { existsSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../src/db/schema.js';
import { git } from '../helpers/git.js';
import { type LifecycleHarness, REPOSITORY, startLifecycle } from './lifecycle-harness.js';

describe('the lifecycle of a session, driven by webhooks', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycle();
  });
  afterAll(() => h?.cleanup());

  const show = (branch: string, file: string) =>
    git(h.origin.path, ['show', `refs/heads/${branch}:${file}`]);

  it('label → PR → changes requested → CI failed → approved and green → merged', async () => {
    const { github } = h;
    h.github.addComment(REPOSITORY, 42, 'maya', 'It also happens with empty files.');

    // A maintainer labels the issue: a session starts, the agent works, the PR opens.
    await h.deliver(
      'issues',
      h.payload('issues', 'labeled', 'alice', (p) => {
        p.issue = h.issue(42, 'Crash when saving', 'Saving a widget crashes.');
        p.label = { ...p.label, name: 'agent' };
      }),
    );
    let s = await h.waitForSession(42, ['waiting'], (x) => Boolean(x.prNumber));
    const pr = github.findPull(REPOSITORY, s.prNumber!)!;
    expect(pr.title).toBe('Crash when saving');
    expect(pr.body).toContain('Closes #42');
    expect(await show(s.branch!, 'agent-first.md')).toContain('It also happens with empty files.');
    await h.settled();
    expect(h.statusComments(42)).toHaveLength(1);
    expect(h.statusComments(42)[0]!.body).toContain(`#${s.prNumber}`);

    // A writer requests changes: the agent receives the review with its inline comment.
    const review = github.addReview(REPOSITORY, s.prNumber!, {
      state: 'CHANGES_REQUESTED',
      body: 'Please handle the null case.',
      user: { login: 'wes', type: 'User' },
      commit_id: s.headSha!,
      comments: [
        {
          id: 1,
          path: 'src/save.ts',
          line: 12,
          original_line: 12,
          diff_hunk: '@@ -10,3 +10,4 @@\n function save() {\n+  write(file)',
          body: 'file can be null here',
          user: { login: 'wes' },
        },
      ],
    });
    await h.deliver(
      'pull_request_review',
      h.payload('pull_request_review', 'submitted', 'wes', (p) => {
        p.review = {
          ...p.review,
          id: review.id,
          state: 'changes_requested',
          body: review.body,
          user: { login: 'wes', type: 'User' },
        };
        p.pull_request = {
          ...p.pull_request,
          number: s.prNumber,
          head: { ...p.pull_request.head, sha: s.headSha, ref: s.branch },
        };
      }),
    );
    s = await h.waitForSession(42, ['waiting'], (x) => h.turnsDone(x.id, 2));
    let told = await show(s.branch!, 'agent-next.md');
    expect(told).toContain('Please handle the null case.');
    expect(told).toContain('src/save.ts');
    expect(told).toContain('file can be null here');
    expect(told).toContain('write(file)');

    // CI fails on the new head: the agent receives the failing check and its annotations.
    github.addCheckRun({
      name: 'unit tests',
      head_sha: s.headSha!,
      status: 'completed',
      conclusion: 'failure',
      app: { slug: 'ci-app' },
      details_url: 'https://ci.example/run/1',
      output: { title: '2 tests failed', summary: 'save() threw on null' },
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
      'check_suite',
      h.payload('check_suite', 'completed', 'ci-app[bot]', (p) => {
        p.check_suite = {
          ...p.check_suite,
          id: 555,
          head_sha: s.headSha,
          conclusion: 'failure',
          status: 'completed',
          app: { ...p.check_suite.app, slug: 'ci-app' },
          pull_requests: [],
        };
      }),
    );
    s = await h.waitForSession(42, ['waiting'], (x) => h.turnsDone(x.id, 3));
    told = await show(s.branch!, 'agent-next.md');
    expect(told).toContain('unit tests');
    expect(told).toContain('src/save.ts:14');
    expect(told).toContain('TypeError: file is null');
    expect(s.reactionAttempts).toEqual({ 'changes-requested': 1, 'ci-failed': 1 });

    // Green and approved: the people are told it is ready to merge.
    github.addCheckRun({
      name: 'unit tests',
      head_sha: s.headSha!,
      status: 'completed',
      conclusion: 'success',
      app: { slug: 'ci-app' },
      details_url: '',
      output: { title: null, summary: null },
      annotations: [],
    });
    const approval = github.addReview(REPOSITORY, s.prNumber!, {
      state: 'APPROVED',
      body: 'LGTM',
      user: { login: 'wes', type: 'User' },
      commit_id: s.headSha!,
      comments: [],
    });
    await h.deliver(
      'pull_request_review',
      h.payload('pull_request_review', 'submitted', 'wes', (p) => {
        p.review = {
          ...p.review,
          id: approval.id,
          state: 'approved',
          body: 'LGTM',
          user: { login: 'wes', type: 'User' },
        };
        p.pull_request = {
          ...p.pull_request,
          number: s.prNumber,
          head: { ...p.pull_request.head, sha: s.headSha, ref: s.branch },
        };
      }),
    );
    const notice = await h.until('the ready-to-merge notification', async () =>
      github.comments.find((c) => c.body.includes('approved and every check is green')),
    );
    expect(notice.body).toContain('@alice');
    expect(github.calls.some((c) => c.method === 'PUT' && c.path.endsWith('/merge'))).toBe(false);

    // Merged: the session ends, its worktree is gone, the status comment says so.
    await h.deliver(
      'pull_request',
      h.payload('pull_request', 'closed', 'alice', (p) => {
        p.pull_request = {
          ...p.pull_request,
          number: s.prNumber,
          merged: true,
          head: { ...p.pull_request.head, ref: s.branch, sha: s.headSha },
        };
      }),
    );
    s = await h.waitForSession(42, ['merged']);
    expect(existsSync(s.workspacePath!)).toBe(false);
    await h.settled();
    const status = h.statusComments(42);
    expect(status).toHaveLength(1);
    expect(status[0]!.body).toContain('merged');
  }, 120_000);

  it('answers a command from a triage user once and starts nothing; a bot gets nothing at all', async () => {
    const before = h.github.comments.length;
    for (const sender of ['trina', 'renovate[bot]']) {
      await h.deliver(
        'issue_comment',
        h.payload('issue_comment', 'created', sender, (p) => {
          p.issue = h.issue(50);
          p.comment = {
            ...p.comment,
            id: 9000 + sender.length,
            body: '/agent please fix this',
            user: { login: sender, type: sender.endsWith('[bot]') ? 'Bot' : 'User' },
          };
        }),
      );
    }
    await h.settled();
    const replies = h.github.comments.slice(before);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('Sorry @trina');
    expect(await h.sessionFor(50)).toBeUndefined();
    expect(h.github.reactions).not.toContainEqual(expect.objectContaining({ commentId: 9005 }));
  });

  it('acts on /agent commands: start, send, status, stop, with an eyes reaction on each', async () => {
    const command = async (body: string, id: number) =>
      h.deliver(
        'issue_comment',
        h.payload('issue_comment', 'created', 'wes', (p) => {
          p.issue = h.issue(60, 'Add a changelog');
          p.comment = { ...p.comment, id, body, user: { login: 'wes', type: 'User' } };
        }),
      );
    await command('/agent add a CHANGELOG.md\nwith the last release', 7001);
    let s = await h.waitForSession(60, ['waiting']);
    expect(s.triggeredBy).toBe('wes');
    await command('/agent also mention the fix for #42', 7002);
    s = await h.waitForSession(60, ['waiting'], (x) => h.turnsDone(x.id, 2));
    expect(await show(s.branch!, 'agent-next.md')).toContain('also mention the fix for #42');
    await command('/agent status', 7003);
    await command('/agent stop', 7004);
    s = await h.waitForSession(60, ['stopped']);
    expect(s.statusReason).toBe('stopped by @wes');
    await h.settled();
    expect(
      h.github.reactions
        .filter((r) => r.commentId >= 7001 && r.commentId <= 7004)
        .map((r) => r.content),
    ).toEqual(['eyes', 'eyes', 'eyes', 'eyes']);
    expect(
      h.github.comments.some(
        (c) =>
          c.issue === 60 &&
          c.body.includes('**Agent Orchestrator** · session') &&
          !c.body.startsWith('<!--'),
      ),
    ).toBe(true);
  }, 60_000);

  it('edits one status comment through many transitions instead of adding comments', async () => {
    await h.deliver(
      'issues',
      h.payload('issues', 'labeled', 'alice', (p) => {
        p.issue = h.issue(70);
        p.label = { ...p.label, name: 'agent' };
      }),
    );
    const s = await h.waitForSession(70, ['waiting']);
    await h.settled();
    const writesBefore = h.github.writes().length;
    for (let i = 0; i < 50; i++) {
      await h.db
        .update(sessions)
        .set({ costUsd: i / 100 })
        .where(eq(sessions.id, s.id));
      await h.db.transaction((tx) => h.orchestrator.sessionService.touch(tx, s.id));
    }
    await h.settled();
    expect(h.statusComments(70)).toHaveLength(1);
    const writes = h.github.writes().slice(writesBefore);
    expect(writes.every((w) => w.method === 'PATCH')).toBe(true);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.length).toBeLessThanOrEqual(50);
  }, 60_000);
});

describe('auto-merge', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycle({
      repoConfig: {
        reactions: { 'approved-and-green': { action: 'auto-merge', mergeMethod: 'squash' } },
      },
    });
  });
  afterAll(() => h?.cleanup());

  it('really merges an approved, green pull request, and a refusal becomes a notification', async () => {
    for (const number of [80, 81]) {
      await h.deliver(
        'issues',
        h.payload('issues', 'labeled', 'alice', (p) => {
          p.issue = h.issue(number);
          p.label = { ...p.label, name: 'agent' };
        }),
      );
    }
    const merged = await h.waitForSession(80, ['waiting'], (x) => Boolean(x.prNumber));
    const refused = await h.waitForSession(81, ['waiting'], (x) => Boolean(x.prNumber));
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
    await h.until('the merge call', async () =>
      h.github.calls.some(
        (c) => c.method === 'PUT' && c.path.endsWith(`/pulls/${merged.prNumber}/merge`),
      ),
    );
    expect(h.github.findPull(REPOSITORY, merged.prNumber!)?.merged).toBe(true);
    const notice = await h.until('the refusal notification', async () =>
      h.github.comments.find((c) => c.body.includes('GitHub refused to merge it')),
    );
    expect(notice.body).toContain('Required status check "deploy" is expected.');
    expect(notice.issue).toBe(refused.prNumber);
  }, 90_000);
});

describe('reactions over time', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycle({ repoConfig: { reactions: { 'ci-failed': { retries: 1 } } } });
  });
  afterAll(() => h?.cleanup());

  const label = (number: number, body = 'Please fix it.') =>
    h.deliver(
      'issues',
      h.payload('issues', 'labeled', 'alice', (p) => {
        p.issue = h.issue(number, `Issue ${number}`, body);
        p.label = { ...p.label, name: 'agent' };
      }),
    );
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
      h.payload('issue_comment', 'created', 'alice', (p) => {
        p.issue = h.issue(90);
        p.comment = {
          ...p.comment,
          id: 8101,
          body: '/agent the lint rule is wrong, disable it',
          user: { login: 'alice', type: 'User' },
        };
      }),
    );
    s = await h.waitForSession(90, ['waiting'], (x) => h.turnsDone(x.id, 3));
    expect(s.reactionAttempts).toEqual({});
  }, 60_000);

  it('records and ignores a CI result for an older head', async () => {
    await label(91);
    const first = await h.waitForSession(91, ['waiting'], (x) => Boolean(x.prNumber));
    await h.deliver(
      'issue_comment',
      h.payload('issue_comment', 'created', 'alice', (p) => {
        p.issue = h.issue(91);
        p.comment = {
          ...p.comment,
          id: 8102,
          body: '/agent one more change',
          user: { login: 'alice', type: 'User' },
        };
      }),
    );
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
    expect(closed.statusReason).toBe('trigger label removed');
    expect(existsSync(closed.workspacePath!)).toBe(false);
  }, 60_000);

  it('retries a failed turn on /agent retry, and answers /agent help', async () => {
    await label(97, 'FAKE: fail');
    let s = await h.waitForSession(97, ['needs_human']);
    expect(s.statusReason).toBe('turn 1 exited with status 3');
    const say = (id: number, body: string) =>
      h.deliver(
        'issue_comment',
        h.payload('issue_comment', 'created', 'alice', (p) => {
          p.issue = h.issue(97);
          p.comment = { ...p.comment, id, body, user: { login: 'alice', type: 'User' } };
        }),
      );
    await say(8201, '/agent help');
    await say(8202, '/agent retry');
    s = await h.waitForSession(97, ['waiting'], (x) => h.turnsDone(x.id, 2));
    expect(await git(h.origin.path, ['show', `refs/heads/${s.branch}:agent-next.md`])).toContain(
      'The previous turn did not finish',
    );
    const help = h.github.comments.find((c) => c.issue === 97 && c.body.includes('`/agent stop`'));
    expect(help).toBeDefined();
  }, 60_000);

  it('starts a session on the branch of a same-repository pull request no session made', async () => {
    await h.origin.commit(
      { 'feature.txt': 'half done\n' },
      { branch: 'feature-x', message: 'Start feature x' },
    );
    const pr = h.github.addPull(REPOSITORY, {
      head: {
        ref: 'feature-x',
        sha: (await h.origin.sha('feature-x')) ?? '',
        repo: { full_name: REPOSITORY },
      },
      base: { ref: 'main', repo: { full_name: REPOSITORY } },
      title: 'Feature x',
      body: '',
      draft: false,
      state: 'open',
      merged: false,
      mergeable: true,
      user: { login: 'maya', type: 'User' },
    });
    await h.deliver(
      'issue_comment',
      h.payload('issue_comment', 'created', 'maya', (p) => {
        p.issue = { ...h.issue(pr.number, 'Feature x'), pull_request: { url: 'x' } };
        p.comment = {
          ...p.comment,
          id: 8203,
          body: '/agent finish this feature',
          user: { login: 'maya', type: 'User' },
        };
      }),
    );
    const s = await h.waitForSession(pr.number, ['waiting']);
    expect(s).toMatchObject({ branch: 'feature-x', baseBranch: 'main', prNumber: pr.number });
    // The agent worked on top of the PR's commit, and no second pull request was opened.
    expect(await git(h.origin.path, ['log', '--format=%s', 'feature-x'])).toContain(
      'Start feature x',
    );
    expect(await git(h.origin.path, ['log', '-1', '--format=%s', 'feature-x'])).toBe(
      'Fake agent: first turn',
    );
    expect(h.github.pullsOf(REPOSITORY).filter((p) => p.head.ref === 'feature-x')).toHaveLength(1);
  }, 60_000);

  it('refuses to work on a pull request from a fork', async () => {
    const pr = h.github.addPull(REPOSITORY, {
      head: { ref: 'patch-1', sha: 'b'.repeat(40), repo: { full_name: 'mallory/widgets' } },
      base: { ref: 'main', repo: { full_name: REPOSITORY } },
      title: 'A fork PR',
      body: '',
      draft: false,
      state: 'open',
      merged: false,
      mergeable: true,
      user: { login: 'mallory', type: 'User' },
    });
    await h.deliver(
      'issue_comment',
      h.payload('issue_comment', 'created', 'alice', (p) => {
        p.issue = { ...h.issue(pr.number), pull_request: { url: 'x' } };
        p.comment = {
          ...p.comment,
          id: 8103,
          body: '/agent fix the tests',
          user: { login: 'alice', type: 'User' },
        };
      }),
    );
    await h.settled();
    expect(h.github.comments.find((c) => c.issue === pr.number)?.body).toContain('not on forks');
    expect(await h.sessionFor(pr.number)).toBeUndefined();
  });
});

describe('status comment edits that GitHub is slow to answer', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycle({ repoConfig: { maxConcurrent: 10 } });
  });
  afterAll(() => h?.cleanup());

  const label = (number: number) =>
    h.deliver(
      'issues',
      h.payload('issues', 'labeled', 'alice', (p) => {
        p.issue = h.issue(number);
        p.label = { ...p.label, name: 'agent' };
      }),
    );

  it('hold up neither the next webhook nor a second edit of the same comment', async () => {
    const busy = [80, 81, 82, 83, 84];
    for (const number of busy) await label(number);
    const started = await Promise.all(busy.map((n) => h.waitForSession(n, ['waiting'])));
    await h.settled();

    // GitHub stops answering comment edits; every session changes twice.
    const edits = h.github.hold(
      (call) => call.method === 'PATCH' && call.path.includes('/issues/comments/'),
    );
    for (const [i, s] of started.entries()) {
      for (const cost of [0.25, 0.5]) {
        await h.db
          .update(sessions)
          .set({ costUsd: cost + i })
          .where(eq(sessions.id, s.id));
        await h.db.transaction((tx) => h.orchestrator.sessionService.touch(tx, s.id));
      }
    }
    try {
      await h.until('four edits stuck at GitHub', async () => edits.waiting.length >= 4);

      // A new issue still gets its session and first turn while those edits hang.
      await label(85);
      const fresh = await h.waitForSession(85, ['waiting']);
      expect(fresh.prNumber).toBeTruthy();
      // One edit in flight per comment: the second change of a session waits for its first.
      const edited = edits.waiting.map((call) => call.path);
      expect(new Set(edited).size).toBe(edited.length);
    } finally {
      edits.release();
    }
    await h.settled();
    for (const [i, n] of busy.entries()) {
      const [comment] = h.statusComments(n);
      expect(h.statusComments(n)).toHaveLength(1);
      expect(comment!.body).toContain(`$${(0.5 + i).toFixed(2)}`);
    }
    expect(h.statusComments(85)).toHaveLength(1);
  }, 90_000);
});

describe('an invalid .github/agent.yml', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycle({ repoConfig: { draft: 'yes please' } });
  });
  afterAll(() => h?.cleanup());

  it('gets one comment naming the bad field, and the defaults apply', async () => {
    for (const number of [95, 96]) {
      await h.deliver(
        'issues',
        h.payload('issues', 'labeled', 'alice', (p) => {
          p.issue = h.issue(number);
          p.label = { ...p.label, name: 'agent' };
        }),
      );
    }
    await h.until(
      'both sessions',
      async () => (await h.sessionFor(95)) && (await h.sessionFor(96)),
    );
    await h.settled();
    const complaints = h.github.comments.filter((c) => c.body.includes('is not valid'));
    expect(complaints).toHaveLength(1);
    expect(complaints[0]!.body).toContain('`draft`');
    // Defaults: the built-in agent, since the file's `agent: fake` was not read either.
    expect((await h.sessionFor(95))?.agent).toBe('claude-code');
  }, 60_000);
});
