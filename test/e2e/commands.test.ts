import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git.js';
import { type InProcess, startInProcess } from './in-process.js';
import { REPOSITORY } from './world.js';

// `/agent` commands in issue and pull request comments, against the whole app in-process.
describe('/agent commands', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess();
  });
  afterAll(() => h?.cleanup());

  const show = (branch: string, file: string) =>
    git(h.origin.path, ['show', `refs/heads/${branch}:${file}`]);

  it('answers a command from a triage user once and starts nothing; a bot gets nothing at all', async () => {
    const before = h.github.comments.length;
    for (const sender of ['trina', 'renovate[bot]']) {
      await h.deliver(
        'issue_comment',
        h.commented(50, sender, '/agent please fix this', 9000 + sender.length),
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

  it('retries a failed turn on /agent retry, and answers /agent help', async () => {
    await h.deliver('issues', h.labelled(97, 'Issue 97', 'FAKE: fail'));
    let s = await h.waitForSession(97, ['needs_human']);
    expect(s.statusReason).toBe('turn 1 exited with status 3');
    const say = (id: number, body: string) =>
      h.deliver('issue_comment', h.commented(97, 'alice', body, id));
    await say(8201, '/agent help');
    await say(8202, '/agent retry');
    s = await h.waitForSession(97, ['waiting'], (x) => h.turnsDone(x.id, 2));
    expect(await show(s.branch!, 'agent-next.md')).toContain('The previous turn did not finish');
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
      mergeable_state: 'clean',
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
      mergeable_state: 'clean',
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
