import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_MARKER } from '../../src/github/status-comment.js';
import { REPOSITORY, startWorld, type World } from './harness.js';

// The product as a user runs it: the built server in a child process, signed webhooks over HTTP,
// checked through the JSON API, the local GitHub, the origin, the filesystem and the process table.
describe.each(['postgres', 'pglite'] as const)('the real server on %s', (engine) => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ engine });
  }, 180_000);
  afterAll(() => w?.cleanup(), 60_000);

  it('label → PR → changes requested → CI failed → approved and green → notified → merged', async () => {
    const { github } = w;
    github.addComment(REPOSITORY, 42, 'wes', 'It also happens with empty files.');

    // A maintainer labels the issue: a session starts, the agent commits, the PR opens.
    const labelled = await w.deliver(
      'issues',
      w.labelled(42, 'Crash when saving', 'Saving a widget crashes.'),
    );
    expect(labelled.outcome).toBe('queued:label-added');
    let s = await w.waitForSession(42, ['waiting'], (x) => Boolean(x.prNumber));
    expect(s.triggeredBy).toBe('alice');
    const pr = github.findPull(REPOSITORY, s.prNumber!)!;
    expect(pr).toMatchObject({ title: 'Crash when saving', state: 'open', draft: false });
    expect(pr.head.ref).toBe(s.branch);
    expect(pr.body).toContain('Closes #42');
    expect(await w.origin.sha(s.branch!)).toBe(s.headSha);
    const first = await w.show(s.branch!, 'agent-first.md');
    expect(first).toContain('Saving a widget crashes.');
    expect(first).toContain('It also happens with empty files.');
    expect(s.workspacePath!.startsWith(path.join(w.workspaceRoot, 'sessions'))).toBe(true);
    // On an overlay (the default with the sandbox) the session's own files are in its layer, and
    // its folder shows them only inside the sandbox.
    const layer = path.join(w.workspaceRoot, 'overlays', s.id, 'upper');
    expect(existsSync(path.join(layer, 'agent-first.md'))).toBe(true);
    expect(existsSync(path.join(layer, 'README.md'))).toBe(false);

    // A writer requests changes: the agent gets the review with its inline comment.
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
    const firstHead = s.headSha;
    await w.deliver(
      'pull_request_review',
      w.payload('pull_request_review', 'submitted', 'wes', (p) => {
        p.review = { ...p.review, id: review.id, state: 'changes_requested', body: review.body };
        p.pull_request = {
          ...p.pull_request,
          number: s.prNumber,
          head: { ...p.pull_request.head, sha: s.headSha, ref: s.branch },
        };
      }),
    );
    s = await w.waitForSession(42, ['waiting'], async (x) => (await w.turnsFinished(x.id)) === 2);
    expect(s.headSha).not.toBe(firstHead);
    expect(await w.origin.sha(s.branch!)).toBe(s.headSha);
    let told = await w.show(s.branch!, 'agent-next.md');
    expect(told).toContain('Please handle the null case.');
    expect(told).toContain('src/save.ts');
    expect(told).toContain('file can be null here');
    expect(told).toContain('write(file)');

    // CI fails on the new head: the agent gets the failing check and its annotation.
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
    await w.deliver(
      'check_suite',
      w.payload('check_suite', 'completed', 'ci-app[bot]', (p) => {
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
    s = await w.waitForSession(42, ['waiting'], async (x) => (await w.turnsFinished(x.id)) === 3);
    told = await w.show(s.branch!, 'agent-next.md');
    expect(told).toContain('unit tests');
    expect(told).toContain('src/save.ts:14');
    expect(told).toContain('TypeError: file is null');
    expect(s.reactionAttempts).toEqual({ 'changes-requested': 1, 'ci-failed': 1 });

    // Approved and green: whoever started the session is told it is ready; nothing merges by itself.
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
    await w.deliver(
      'pull_request_review',
      w.payload('pull_request_review', 'submitted', 'wes', (p) => {
        p.review = { ...p.review, id: approval.id, state: 'approved', body: 'LGTM' };
        p.pull_request = {
          ...p.pull_request,
          number: s.prNumber,
          head: { ...p.pull_request.head, sha: s.headSha, ref: s.branch },
        };
      }),
    );
    const notice = await w.until('the ready-to-merge notification', () =>
      github.comments.find((c) => c.body.includes('approved and every check is green')),
    );
    expect(notice.body).toContain('@alice');
    expect(github.calls.some((c) => c.method === 'PUT' && c.path.endsWith('/merge'))).toBe(false);

    // Merged: the session ends, its worktree goes, the status comment says so, no agent is left.
    await w.deliver(
      'pull_request',
      w.payload('pull_request', 'closed', 'alice', (p) => {
        p.pull_request = {
          ...p.pull_request,
          number: s.prNumber,
          merged: true,
          head: { ...p.pull_request.head, ref: s.branch, sha: s.headSha },
        };
      }),
    );
    const merged = await w.waitForSession(42, ['merged']);
    expect(existsSync(merged.workspacePath!)).toBe(false);
    expect(existsSync(path.join(w.workspaceRoot, 'overlays', merged.id))).toBe(false);
    expect(await w.origin.sha(s.branch!)).toBe(s.headSha); // the branch stays on the origin
    const status = await w.until('the status comment to say merged', () => {
      const list = github.comments.filter(
        (c) => c.issue === 42 && c.body.startsWith(STATUS_MARKER),
      );
      return list.length === 1 && list[0]!.body.includes('merged') ? list : undefined;
    });
    expect(status[0]!.body).toContain(`#${s.prNumber}`);
    expect(w.processesUnder(w.root)).toEqual([]);
    // The app spoke only REST the local GitHub knows, and nothing failed along the way.
    expect(github.calls.filter((c) => c.status === 404)).toEqual([]);
    expect(w.logs().filter((l) => l.level >= 50)).toEqual([]);
  }, 180_000);

  it('one delivery posted 10 times at once makes one session, processed once', async () => {
    const id = randomUUID();
    const body = w.labelled(43);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        w.post('issues', body, { id }).then(async (res) => ({
          status: res.status,
          ...((await res.json()) as { duplicate?: boolean }),
        })),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    const s = await w.waitForSession(43, ['waiting'], (x) => Boolean(x.prNumber));
    await w.until('the intent to be applied', () => w.intentOutcomes(id).length > 0);
    expect(w.intentOutcomes(id)).toEqual(['session-created']);
    expect(await w.sessions(43)).toHaveLength(1);
    expect(w.github.pullsOf(REPOSITORY).filter((p) => p.head.ref === s.branch)).toHaveLength(1);
  }, 120_000);

  it('two different deliveries labelling the same issue at once make one session', async () => {
    const ids = [randomUUID(), randomUUID()];
    const answers = await Promise.all(
      ids.map((id) => w.post('issues', w.labelled(44), { id }).then((res) => res.status)),
    );
    expect(answers).toEqual([200, 200]);
    const outcomes = await w.until('both intents to be applied', () => {
      const all = ids.flatMap((id) => w.intentOutcomes(id));
      return all.length === 2 ? all.sort() : undefined;
    });
    // The loser sees the live session, or loses the race at the unique index.
    expect(outcomes[1]).toBe('session-created');
    expect(['already-running', 'not-created']).toContain(outcomes[0]);
    await w.waitForSession(44, ['waiting'], (x) => Boolean(x.prNumber));
    expect(await w.sessions(44)).toHaveLength(1);
    const statusComments = await w.until('the status comment', () => {
      const list = w.github.comments.filter(
        (c) => c.issue === 44 && c.body.startsWith(STATUS_MARKER),
      );
      return list.length > 0 ? list : undefined;
    });
    expect(statusComments).toHaveLength(1);
  }, 120_000);
});
