import { describe, expect, it } from 'vitest';
import { helpText } from '../../src/github/commands.js';
import { onComment } from '../../src/github/on-comment.js';
import { STATUS_MARKER } from '../../src/github/status-comment.js';
import type { IntentOf } from '../../src/sessions/intents.js';
import { contextOf } from '../../src/sessions/session-context.js';
import { fakeLifecycle, INSTALLATION_ID, REPO, session } from './support/fake-lifecycle.js';
import {
  captureReactions,
  captureReplies,
  getPullRequest,
  issueComment,
  listComments,
  permission,
  repoConfig,
  useNock,
} from './support/github-api.js';

const RECEIVED_AT = '2024-05-02T10:00:00Z';
const COMMENT_ID = 555;
const NO_SESSION = 'There is no agent session running here.';

function comment(body: string, overrides: Partial<IntentOf<'comment'>> = {}): IntentOf<'comment'> {
  return {
    kind: 'comment',
    installationId: INSTALLATION_ID,
    repo: REPO,
    sender: { login: 'alice', type: 'User' },
    issueNumber: 12,
    isPullRequest: false,
    commentId: COMMENT_ID,
    body,
    issue: {
      title: 'Saving a widget crashes',
      body: 'Steps: open a widget, press save.',
      url: 'https://github.com/octo/widgets/issues/12',
    },
    ...overrides,
  };
}

/** The config and the permission a writer's command is checked with. */
function writer(login = 'alice') {
  repoConfig(null);
  permission(login, 'write');
}

describe('an /agent command in a comment', () => {
  useNock();

  it("a writer's /agent <text> gets 👀 and goes to the live session as a message", async () => {
    const running = session({ issueNumber: 12, status: 'waiting' });
    const f = fakeLifecycle({ rows: [running] });
    writer();
    const reactions = captureReactions(COMMENT_ID);

    const outcome = await onComment(
      f.deps,
      comment('/agent please keep the old API'),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(outcome).toBe('message-queued');
    expect(reactions).toEqual(['eyes']);
    expect(f.callsTo('apply')).toEqual([
      [
        running.id,
        { type: 'message', body: 'please keep the old API', source: 'alice', automated: false },
        { deliveryId: 'delivery-1' },
      ],
    ]);
  });

  it("an allow-listed bot's /agent <text> reaches the session as an automated message", async () => {
    const running = session({ issueNumber: 12, status: 'waiting' });
    const f = fakeLifecycle({
      rows: [running],
      operatorConfig: { allowedBots: ['renovate[bot]'] },
    });
    repoConfig(null);
    captureReactions(COMMENT_ID);

    await onComment(
      f.deps,
      comment('/agent bump the lockfile', { sender: { login: 'renovate[bot]', type: 'Bot' } }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(f.applied()).toEqual([
      { type: 'message', body: 'bump the lockfile', source: 'renovate[bot]', automated: true },
    ]);
  });

  it('/agent <text> on an issue without a session creates one, the command comment in its task', async () => {
    const f = fakeLifecycle();
    writer();
    captureReactions(COMMENT_ID);
    listComments(12, [
      issueComment(COMMENT_ID, 12, 'alice', '/agent fix it', '2024-05-02T09:59:58Z'),
    ]);
    permission('alice', 'write');

    const outcome = await onComment(f.deps, comment('/agent fix it'), RECEIVED_AT, 'delivery-1');

    expect(outcome).toBe('session-created');
    expect(f.callsTo('create')).toEqual([
      [
        expect.objectContaining({
          issueNumber: 12,
          triggeredBy: 'alice',
          context: expect.objectContaining({
            issue: expect.objectContaining({
              comments: [
                {
                  author: 'alice',
                  body: '/agent fix it',
                  createdAt: '2024-05-02T09:59:58Z',
                  role: 'write',
                  trusted: true,
                },
              ],
            }),
          }),
        }),
        { deliveryId: 'delivery-1' },
      ],
    ]);
  });

  it('the command comment is the task as the webhook had it, however it was edited since', async () => {
    const f = fakeLifecycle();
    writer();
    captureReactions(COMMENT_ID);
    const edited = issueComment(COMMENT_ID, 12, 'alice', '/agent fix it and delete the tests');
    edited.updated_at = '2024-05-02T10:00:30Z';
    listComments(12, [edited]);
    permission('alice', 'write');

    await onComment(f.deps, comment('/agent fix it'), RECEIVED_AT, 'delivery-1');

    const comments = f
      .callsTo('create')
      .map(([input]) => contextOf({ context: input.context ?? {} }).issue?.comments);
    expect(comments).toEqual([
      [expect.objectContaining({ author: 'alice', body: '/agent fix it', trusted: true })],
    ]);
  });

  it('/agent stop stops the live session, naming who stopped it', async () => {
    const running = session({ issueNumber: 12, status: 'working' });
    const f = fakeLifecycle({ rows: [running] });
    writer();
    captureReactions(COMMENT_ID);

    const outcome = await onComment(f.deps, comment('/agent stop'), RECEIVED_AT, 'delivery-1');

    expect(outcome).toBe('stop-requested');
    expect(f.callsTo('apply')).toEqual([
      [
        running.id,
        {
          type: 'stop-requested',
          status: 'stopped',
          reason: 'stopped by @alice',
          cleanup: true,
          by: 'alice',
        },
      ],
    ]);
  });

  it.each(['/agent stop', '/agent status'])(
    '%s where no session runs replies that there is none',
    async (body) => {
      const f = fakeLifecycle();
      writer();
      captureReactions(COMMENT_ID);
      const replies = captureReplies(12);

      expect(await onComment(f.deps, comment(body), RECEIVED_AT, 'delivery-1')).toBe('no-session');
      expect(replies).toEqual([NO_SESSION]);
      expect(f.calls).toEqual([]);
    },
  );

  it('/agent status replies with the status table, without the status comment marker', async () => {
    const running = session({
      issueNumber: 12,
      status: 'waiting',
      branch: 'agent/12-saving-crashes',
      prNumber: 7,
      costUsd: 1.5,
    });
    const f = fakeLifecycle({ rows: [running], publicUrl: 'https://agents.example.com' });
    writer();
    captureReactions(COMMENT_ID);
    const replies = captureReplies(12);

    expect(await onComment(f.deps, comment('/agent status'), RECEIVED_AT, 'd-1')).toBe('status');

    expect(replies).toHaveLength(1);
    const [status] = replies as [string];
    expect(status).not.toContain(STATUS_MARKER);
    expect(status.split('\n')[0]).toBe(`**Agent Orchestrator** · session \`${running.id}\``);
    expect(status).toContain('| Status | 👀 waiting for review or CI |');
    expect(status).toContain('| Branch | `agent/12-saving-crashes` |');
    expect(status).toContain('| Pull request | #7 |');
    expect(status).toContain(
      `| Dashboard | [session ${running.id}](https://agents.example.com/sessions/${running.id}) |`,
    );
    expect(f.calls).toEqual([]);
  });

  it.each(['/agent help', '/agent'])('%s replies with the help text', async (body) => {
    const f = fakeLifecycle();
    writer();
    const reactions = captureReactions(COMMENT_ID);
    const replies = captureReplies(12);

    expect(await onComment(f.deps, comment(body), RECEIVED_AT, 'delivery-1')).toBe('help');
    expect(reactions).toEqual(['eyes']);
    expect(replies).toEqual([helpText('/agent')]);
  });

  it('an unknown word such as /agent stpo gets "I don\'t know the command" and no 👀', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12 })] });
    writer();
    const replies = captureReplies(12);

    const outcome = await onComment(f.deps, comment('/agent stpo'), RECEIVED_AT, 'delivery-1');

    expect(outcome).toBe('unknown-command');
    expect(replies).toEqual([`I don't know the command \`stpo\`.\n\n${helpText('/agent')}`]);
    expect(f.calls).toEqual([]);
  });

  it.each([
    ['read', 'refused: role read'],
    ['triage', 'refused: role triage'],
  ] as const)('a command from a %s user is refused with one reply and no 👀', async (role, why) => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12 })] });
    repoConfig(null);
    permission('dave', role);
    const replies = captureReplies(12);

    const outcome = await onComment(
      f.deps,
      comment('/agent stop', { sender: { login: 'dave', type: 'User' } }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(outcome).toBe(why);
    expect(replies).toEqual([
      'Sorry @dave, only people with write access to this repository can start or instruct the agent.',
    ]);
    expect(f.calls).toEqual([]);
  });

  it('a comment without a command line is not a command, and nobody is asked about its author', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12 })] });
    repoConfig(null);

    const outcome = await onComment(
      f.deps,
      comment('Thanks! `/agent stop` would stop it.\n> /agent stop'),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(outcome).toBe('not-a-command');
    expect(f.calls).toEqual([]);
  });

  it('the prefix the repository config names is the command, and /agent no longer is', async () => {
    const running = session({ issueNumber: 12 });
    const f = fakeLifecycle({ rows: [running] });
    repoConfig('command: /bot\n');
    repoConfig('command: /bot\n');
    permission('alice', 'write');
    captureReactions(COMMENT_ID);

    const ignored = await onComment(f.deps, comment('/agent stop'), RECEIVED_AT, 'delivery-1');
    const stopped = await onComment(f.deps, comment('/bot stop'), RECEIVED_AT, 'delivery-2');

    expect([ignored, stopped]).toEqual(['not-a-command', 'stop-requested']);
    expect(f.applied().map((e) => e.type)).toEqual(['stop-requested']);
  });

  it('/agent retry on a session that needs a human applies retry', async () => {
    const stuck = session({ issueNumber: 12, status: 'needs_human' });
    const f = fakeLifecycle({ rows: [stuck] });
    writer();
    captureReactions(COMMENT_ID);

    expect(await onComment(f.deps, comment('/agent retry'), RECEIVED_AT, 'd-1')).toBe('retrying');
    expect(f.callsTo('apply')).toEqual([
      [stuck.id, { type: 'retry', by: 'alice' }, { deliveryId: 'd-1' }],
    ]);
  });

  it('/agent retry on a waiting session replies that there is nothing to retry', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12, status: 'waiting' })] });
    writer();
    captureReactions(COMMENT_ID);
    const replies = captureReplies(12);

    const outcome = await onComment(f.deps, comment('/agent retry'), RECEIVED_AT, 'delivery-1');

    expect(outcome).toBe('nothing-to-retry');
    expect(replies).toEqual(['The session is waiting; there is nothing to retry.']);
    expect(f.calls).toEqual([]);
  });

  it('/agent retry on an issue whose session ended starts a new one with the same profile', async () => {
    const f = fakeLifecycle({
      rows: [session({ issueNumber: 12, status: 'failed', profile: 'careful', agent: 'codex' })],
      operatorConfig: { profiles: { careful: { agent: 'codex' } } },
    });
    writer();
    captureReactions(COMMENT_ID);
    listComments(12, []);
    permission('alice', 'write');

    expect(await onComment(f.deps, comment('/agent retry'), RECEIVED_AT, 'd-1')).toBe('respawned');
    expect(f.callsTo('create').map(([input]) => [input.profile, input.agent])).toEqual([
      ['careful', 'codex'],
    ]);
  });

  it('/agent retry on an issue that never had a session replies that there is none', async () => {
    const f = fakeLifecycle();
    writer();
    captureReactions(COMMENT_ID);
    const replies = captureReplies(12);

    expect(await onComment(f.deps, comment('/agent retry'), RECEIVED_AT, 'd-1')).toBe('no-session');
    expect(replies).toEqual([NO_SESSION]);
  });

  it('a command after reactions were attempted first applies human-command, then the command', async () => {
    const running = session({
      issueNumber: 12,
      status: 'waiting',
      reactionAttempts: { 'ci-failed': 2 },
    });
    const f = fakeLifecycle({ rows: [running] });
    f.answerApply((_, event) =>
      event.type === 'human-command' ? { changes: { reactionAttempts: {} } } : {},
    );
    writer();
    captureReactions(COMMENT_ID);

    await onComment(f.deps, comment('/agent try a smaller fix'), RECEIVED_AT, 'delivery-1');

    expect(f.applied()).toEqual([
      { type: 'human-command', by: 'alice' },
      { type: 'message', body: 'try a smaller fix', source: 'alice', automated: false },
    ]);
  });

  it('a command on a session without reaction attempts applies no human-command', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12, reactionAttempts: {} })] });
    writer();
    captureReactions(COMMENT_ID);

    await onComment(f.deps, comment('/agent stop'), RECEIVED_AT, 'delivery-1');

    expect(f.applied().map((e) => e.type)).toEqual(['stop-requested']);
  });

  it("a comment on a session's pull request reaches that session", async () => {
    const running = session({ issueNumber: 12, prNumber: 7, status: 'waiting' });
    const f = fakeLifecycle({ rows: [running] });
    writer();
    captureReactions(COMMENT_ID);

    await onComment(
      f.deps,
      comment('/agent rename the helper', { issueNumber: 7, isPullRequest: true }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(f.callsTo('apply').map(([id, event]) => [id, event.type])).toEqual([
      [running.id, 'message'],
    ]);
  });

  it.each([
    ['a fork', 'mallory/widgets'],
    ['a deleted fork', null],
  ])('/agent <text> on a pull request from %s is refused with a reply', async (_, headRepo) => {
    const f = fakeLifecycle();
    writer();
    captureReactions(COMMENT_ID);
    getPullRequest(7, { branch: 'patch-1', headRepo });
    const replies = captureReplies(7);

    const outcome = await onComment(
      f.deps,
      comment('/agent review this', { issueNumber: 7, isPullRequest: true }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(outcome).toBe('refused: fork');
    expect(replies).toEqual([
      'I only work on pull requests whose branch is in this repository, not on forks.',
    ]);
    expect(f.calls).toEqual([]);
  });

  it('/agent <text> on a pull request of this repository starts a session on its branch', async () => {
    const f = fakeLifecycle();
    writer();
    captureReactions(COMMENT_ID);
    getPullRequest(7, { branch: 'fix-save', baseBranch: 'release-2' });
    listComments(7, []);
    permission('alice', 'write');

    const outcome = await onComment(
      f.deps,
      comment('/agent add a test', { issueNumber: 7, isPullRequest: true }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(outcome).toBe('session-created-on-pr');
    expect(f.callsTo('create')).toEqual([
      [
        expect.objectContaining({
          issueNumber: 7,
          prNumber: 7,
          branch: 'fix-save',
          baseBranch: 'release-2',
        }),
        { deliveryId: 'delivery-1' },
      ],
    ]);
  });
});
