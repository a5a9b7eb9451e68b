import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { intentJob } from '../../src/github/intent-job.js';
import { onLabel } from '../../src/github/on-label.js';
import { IllegalTransitionError } from '../../src/sessions/illegal-transition.js';
import type { Intent, IntentOf } from '../../src/sessions/intents.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import {
  type FakeLifecycle,
  fakeLifecycle,
  INSTALLATION_ID,
  job,
  REPO,
  session,
} from './support/fake-lifecycle.js';
import {
  captureReplies,
  issueComment,
  listComments,
  permission,
  repoConfig,
  useNock,
} from './support/github-api.js';

const RECEIVED_AT = '2024-05-02T10:00:00Z';

function labelled(
  overrides: Partial<IntentOf<'label-added' | 'label-removed'>> = {},
): IntentOf<'label-added' | 'label-removed'> {
  return {
    kind: 'label-added',
    installationId: INSTALLATION_ID,
    repo: REPO,
    sender: { login: 'alice', type: 'User' },
    label: 'agent',
    issue: {
      number: 12,
      title: 'Saving a widget crashes',
      body: 'Steps: open a widget, press save.',
      url: 'https://github.com/octo/widgets/issues/12',
      isPullRequest: false,
    },
    ...overrides,
  };
}

describe('a label on an issue', () => {
  useNock();

  it("a writer's agent label creates a session with the issue and its comments as of the label, with their authors' roles, bots' left out", async () => {
    const f = fakeLifecycle();
    repoConfig(null);
    permission('alice', 'write');
    listComments(12, [
      issueComment(1, 12, 'bob', 'It also happens on a new widget.', '2024-05-02T09:00:00Z'),
      issueComment(2, 12, 'ci-helper[bot]', 'Triage: bug', '2024-05-02T09:01:00Z', 'Bot'),
      issueComment(3, 12, 'bob', 'Never mind, I found a workaround.', '2024-05-02T10:05:00Z'),
    ]);
    permission('bob', 'read');
    permission('rita', null);

    const outcome = await onLabel(
      f.deps,
      labelled({ issue: { ...labelled().issue, author: { login: 'rita', type: 'User' } } }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(outcome).toBe('session-created');
    expect(f.callsTo('create')).toHaveLength(1);
    const [input, options] = f.callsTo('create')[0]!;
    expect(options).toEqual({ deliveryId: 'delivery-1' });
    expect(input).toMatchObject({
      installationId: INSTALLATION_ID,
      repositoryId: REPO.id,
      repositoryFullName: REPO.fullName,
      cloneUrl: REPO.cloneUrl,
      issueNumber: 12,
      prNumber: null,
      branch: null,
      baseBranch: 'main',
      agent: 'claude-code',
      profile: null,
      triggeredBy: 'alice',
    });
    expect(input.context).toMatchObject({
      issue: {
        repository: REPO.fullName,
        number: 12,
        title: 'Saving a widget crashes',
        body: 'Steps: open a widget, press save.',
        author: { login: 'rita', role: 'none', trusted: false },
        comments: [
          {
            author: 'bob',
            body: 'It also happens on a new widget.',
            createdAt: '2024-05-02T09:00:00Z',
            role: 'read',
            trusted: false,
          },
        ],
        omitted: { edited: [], overCap: 0, cap: { comments: 50, chars: 100_000 } },
      },
    });
  });

  it.each([
    ['the repository config names one', 'baseBranch: develop\n', 'repository', 'develop'],
    ["the owner's .github repository names one", 'baseBranch: trunk\n', 'owner', 'trunk'],
    ['no config names one', null, 'repository', 'main'],
  ] as const)('the session works from the base branch %s: %s', async (_, yaml, where, base) => {
    const f = fakeLifecycle();
    repoConfig(yaml, where);
    permission('alice', 'admin');
    listComments(12, []);

    await onLabel(f.deps, labelled(), RECEIVED_AT, 'delivery-1');

    expect(f.callsTo('create').map(([input]) => input.baseBranch)).toEqual([base]);
  });

  it('an agent:<profile> label starts the session with the profile and its agent', async () => {
    const f = fakeLifecycle({
      operatorConfig: { profiles: { careful: { agent: 'codex', model: 'o4' } } },
    });
    repoConfig(null);
    permission('alice', 'maintain');
    listComments(12, []);

    await onLabel(f.deps, labelled({ label: 'agent:careful' }), RECEIVED_AT, 'delivery-1');

    expect(f.callsTo('create').map(([input]) => [input.agent, input.profile])).toEqual([
      ['codex', 'careful'],
    ]);
  });

  it.each([
    ['triage', 'refused: role triage'],
    ['read', 'refused: role read'],
    [null, 'refused: not a collaborator'],
  ] as const)('a %s user gets one "Sorry" reply and no session', async (role, outcome) => {
    const f = fakeLifecycle();
    repoConfig(null);
    permission('carol', role);
    const replies = captureReplies(12);

    const result = await onLabel(
      f.deps,
      labelled({ sender: { login: 'carol', type: 'User' } }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(result).toBe(outcome);
    expect(replies).toEqual([
      'Sorry @carol, only people with write access to this repository can start or instruct the agent.',
    ]);
    expect(f.calls).toEqual([]);
  });

  it("a bot's label does nothing at all, not even a reply", async () => {
    const f = fakeLifecycle();
    repoConfig(null);

    const result = await onLabel(
      f.deps,
      labelled({ sender: { login: 'renovate[bot]', type: 'Bot' } }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(result).toBe('refused: bot renovate[bot] is not allow-listed');
    expect(f.calls).toEqual([]);
  });

  it("an allow-listed bot's label creates a session without asking for its permission", async () => {
    const f = fakeLifecycle({ operatorConfig: { allowedBots: ['renovate[bot]'] } });
    repoConfig(null);
    listComments(12, []);

    const result = await onLabel(
      f.deps,
      labelled({ sender: { login: 'renovate[bot]', type: 'Bot' } }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(result).toBe('session-created');
    expect(f.callsTo('create').map(([input]) => input.triggeredBy)).toEqual(['renovate[bot]']);
  });

  it('an unknown agent:<profile> label gets a reply naming the profile and no session', async () => {
    const f = fakeLifecycle({ operatorConfig: { profiles: { careful: { agent: 'codex' } } } });
    repoConfig(null);
    permission('alice', 'write');
    const replies = captureReplies(12);

    const result = await onLabel(
      f.deps,
      labelled({ label: 'agent:fast' }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(result).toBe('unknown-profile');
    expect(replies).toEqual(['There is no agent profile named `fast` on this installation.']);
    expect(f.calls).toEqual([]);
  });

  it('a label that is not the trigger is ignored without asking who added it', async () => {
    const f = fakeLifecycle();
    repoConfig(null);

    const result = await onLabel(f.deps, labelled({ label: 'bug' }), RECEIVED_AT, 'delivery-1');

    expect(result).toBe('ignored');
    expect(f.calls).toEqual([]);
  });

  it('the label the repository config names is the trigger, and `agent` no longer is', async () => {
    const f = fakeLifecycle();
    repoConfig('label: ai-help\n');
    repoConfig('label: ai-help\n');
    permission('alice', 'write');
    listComments(12, []);

    const ignored = await onLabel(f.deps, labelled(), RECEIVED_AT, 'delivery-1');
    const created = await onLabel(
      f.deps,
      labelled({ label: 'ai-help' }),
      RECEIVED_AT,
      'delivery-2',
    );

    expect([ignored, created]).toEqual(['ignored', 'session-created']);
    expect(f.callsTo('create')).toHaveLength(1);
  });

  it('a label on an issue that already has a live session creates nothing', async () => {
    const running = session({ issueNumber: 12, status: 'working' });
    const f = fakeLifecycle({ rows: [running] });
    repoConfig(null);
    permission('alice', 'write');

    const result = await onLabel(f.deps, labelled(), RECEIVED_AT, 'delivery-1');

    expect(result).toBe('already-running');
    expect(f.calls).toEqual([]);
  });

  it('a label on an issue whose session ended starts a new one', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12, status: 'stopped' })] });
    repoConfig(null);
    permission('alice', 'write');
    listComments(12, []);

    expect(await onLabel(f.deps, labelled(), RECEIVED_AT, 'delivery-1')).toBe('session-created');
    expect(f.callsTo('create')).toHaveLength(1);
  });

  it('removing the label stops a session that has no pull request yet', async () => {
    const running = session({ issueNumber: 12, status: 'working' });
    const f = fakeLifecycle({ rows: [running] });
    repoConfig(null);
    permission('alice', 'write');

    const result = await onLabel(
      f.deps,
      labelled({ kind: 'label-removed' }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(result).toBe('stopped');
    expect(f.callsTo('apply')).toEqual([
      [
        running.id,
        {
          type: 'stop-requested',
          status: 'closed',
          reason: 'trigger label removed by @alice',
          cleanup: true,
          by: 'alice',
        },
      ],
    ]);
  });

  it('removing the label keeps a session that has a pull request', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12, prNumber: 7 })] });
    repoConfig(null);
    permission('alice', 'write');

    const result = await onLabel(
      f.deps,
      labelled({ kind: 'label-removed' }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(result).toBe('kept: has a pull request');
    expect(f.calls).toEqual([]);
  });

  it('removing the label from a session that ended meanwhile finds no session, without an error', async () => {
    const running = session({ issueNumber: 12, status: 'working' });
    const f = fakeLifecycle({ rows: [running] });
    f.answerApply((s, event) => {
      throw new IllegalTransitionError('stopped', event.type, s.id);
    });
    repoConfig(null);
    permission('alice', 'write');

    const result = await onLabel(
      f.deps,
      labelled({ kind: 'label-removed' }),
      RECEIVED_AT,
      'delivery-1',
    );

    expect(result).toBe('no-session');
    expect(f.applied().map((e) => e.type)).toEqual(['stop-requested']);
  });

  it.each([
    ['triage', 'refused: role triage'],
    ['read', 'refused: role read'],
  ] as const)(
    'removing the label as a %s user stops nothing and gets one reply',
    async (role, outcome) => {
      const f = fakeLifecycle({ rows: [session({ issueNumber: 12, status: 'working' })] });
      repoConfig(null);
      permission('trina', role);
      const replies = captureReplies(12);

      const result = await onLabel(
        f.deps,
        labelled({ kind: 'label-removed', sender: { login: 'trina', type: 'User' } }),
        RECEIVED_AT,
        'delivery-1',
      );

      expect(result).toBe(outcome);
      expect(f.callsTo('apply')).toEqual([]);
      expect(replies).toEqual([
        'Sorry @trina, only people with write access to this repository can start or instruct the agent.',
      ]);
    },
  );

  it('an invalid .github/agent.yml is said once, and the defaults apply meanwhile', async () => {
    const f = fakeLifecycle();
    repoConfig('maxConcurrent: 0\n');
    repoConfig('maxConcurrent: 0\n');
    permission('alice', 'write');
    permission('alice', 'write');
    listComments(12, []);
    listComments(13, []);
    const replies = captureReplies(12);

    await onLabel(f.deps, labelled(), RECEIVED_AT, 'delivery-1');
    const second = labelled({ issue: { ...labelled().issue, number: 13 } });
    await onLabel(f.deps, second, RECEIVED_AT, 'delivery-2');

    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(
      /^`\.github\/agent\.yml` is not valid: `maxConcurrent`: .+\. I'm using the defaults until it is fixed\.$/,
    );
    const created = f.callsTo('create').map(([input]) => input.context?.config);
    expect(created).toEqual([
      expect.objectContaining({ label: 'agent', maxConcurrent: 5 }),
      expect.objectContaining({ label: 'agent', maxConcurrent: 5 }),
    ]);
  });

  it('a repository at its maxConcurrent gets the limit reply and no session', async () => {
    const f = fakeLifecycle({
      rows: [
        session({ issueNumber: 3, status: 'working' }),
        session({ issueNumber: 4, status: 'waiting' }),
        session({ issueNumber: 5, status: 'merged' }),
      ],
    });
    repoConfig('maxConcurrent: 2\n');
    permission('alice', 'write');
    const replies = captureReplies(12);

    const result = await onLabel(f.deps, labelled(), RECEIVED_AT, 'delivery-1');

    expect(result).toBe('not-created');
    expect(replies).toEqual([
      'This repository already has 2 agent sessions running, its limit (`maxConcurrent` in `.github/agent.yml`). Try again when one finishes.',
    ]);
    expect(f.callsTo('create')).toEqual([]);
  });
});

describe('a label on a repository whose daily budget is used up', () => {
  useNock();

  it.each([
    [
      'turns',
      { perRepositoryPerDay: { turns: 3 } },
      { costUsd: 0.5, turns: 3 },
      "this repository's daily budget of 3 agent turns is used up",
    ],
    [
      'cost',
      { perRepositoryPerDay: { costUsd: 2 } },
      { costUsd: 2.25, turns: 1 },
      "this repository's daily budget of $2.00 is used up ($2.25 on",
    ],
  ] as const)('(%s) starts nothing and says why on the issue', async (_, limits, spent, reason) => {
    const f = fakeLifecycle({
      operatorConfig: { limits },
      spentToday: { repositoryToday: spent, installationToday: spent },
    });
    repoConfig(null);
    permission('alice', 'write');
    const replies = captureReplies(12);

    expect(await onLabel(f.deps, labelled(), RECEIVED_AT, 'delivery-1')).toBe('not-created');
    expect(f.callsTo('create')).toEqual([]);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain(`I can't start a session: ${reason}`);
    expect(replies[0]).toContain('UTC');
  });

  it("a repository's own lower budget counts; a higher one does not raise the operator's", async () => {
    const spent = { costUsd: 0, turns: 2 };
    const lower = fakeLifecycle({
      operatorConfig: { limits: { perRepositoryPerDay: { turns: 10 } } },
      spentToday: { repositoryToday: spent, installationToday: spent },
    });
    repoConfig('limits:\n  perDay:\n    turns: 2\n');
    permission('alice', 'write');
    captureReplies(12);
    expect(await onLabel(lower.deps, labelled(), RECEIVED_AT, 'delivery-1')).toBe('not-created');

    const higher = fakeLifecycle({
      operatorConfig: { limits: { perRepositoryPerDay: { turns: 2 } } },
      spentToday: { repositoryToday: spent, installationToday: spent },
    });
    repoConfig('limits:\n  perDay:\n    turns: 50\n');
    permission('alice', 'write');
    captureReplies(12);
    expect(await onLabel(higher.deps, labelled(), RECEIVED_AT, 'delivery-1')).toBe('not-created');
    expect(higher.callsTo('create')).toEqual([]);
  });
});

describe('an issue event through the intent job', () => {
  useNock();

  const runIntent = (f: FakeLifecycle, intent: Intent) =>
    intentJob(f.deps)(
      job(JOB_KINDS.intent, { intent, deliveryId: 'delivery-1', receivedAt: RECEIVED_AT }),
      { signal: new AbortController().signal, log: pino({ level: 'silent' }) },
    );
  const issueClosed: Intent = {
    kind: 'issue-closed',
    installationId: INSTALLATION_ID,
    repo: REPO,
    sender: { login: 'alice', type: 'User' },
    issueNumber: 12,
    issueAuthor: 'alice',
  };

  it('closing the issue stops its session that has no pull request yet', async () => {
    const running = session({ issueNumber: 12, status: 'working' });
    const f = fakeLifecycle({ rows: [running] });

    await runIntent(f, issueClosed);

    expect(f.callsTo('apply')).toEqual([
      [
        running.id,
        {
          type: 'stop-requested',
          status: 'closed',
          reason: 'issue closed by @alice',
          cleanup: true,
          by: 'alice',
        },
      ],
    ]);
  });

  it('closing the issue keeps its session that has a pull request', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12, prNumber: 7 })] });

    await runIntent(f, issueClosed);

    expect(f.calls).toEqual([]);
  });

  it('an intent from an installation outside allowedInstallations is dropped unread', async () => {
    const f = fakeLifecycle({ operatorConfig: { allowedInstallations: [1] } });

    await runIntent(f, labelled());

    expect(f.octokits).toEqual([]);
    expect(f.calls).toEqual([]);
  });
});
