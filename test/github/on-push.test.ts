import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Session } from '../../src/db/schema.js';
import { onPush } from '../../src/github/on-push.js';
import type { IntentOf } from '../../src/sessions/intents.js';
import { fakeLifecycle, INSTALLATION_ID, REPO, session } from './support/fake-lifecycle.js';
import { getPullRequest, useNock } from './support/github-api.js';

const PUSHED = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';
const NOW = new Date('2024-05-02T10:00:00.000Z');

const push: IntentOf<'push'> = {
  kind: 'push',
  installationId: INSTALLATION_ID,
  repo: REPO,
  sender: { login: 'alice', type: 'User' },
  branch: 'main',
  headSha: PUSHED,
};

const withPullRequest = (prNumber: number, overrides: Partial<Session> = {}) =>
  session({
    issueNumber: prNumber + 100,
    prNumber,
    branch: `agent/${prNumber}`,
    baseBranch: 'main',
    status: 'waiting',
    ...overrides,
  });

const CONFLICT =
  '`main` moved on (now 9f8e7d6) and this pull request no longer merges cleanly. Merge or rebase onto `origin/main` (run `git fetch` first), resolve the conflicts, run the tests and commit.';

describe('a push to a base branch', () => {
  useNock();
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a pull request that no longer merges gets a merge-conflict reaction with what to do', async () => {
    const s = withPullRequest(7);
    const f = fakeLifecycle({ rows: [s] });
    getPullRequest(7, { mergeable: false });

    expect(await onPush(f.deps, push, 'delivery-1', 0)).toBe('checked 1');
    expect(f.callsTo('apply')).toEqual([
      [
        s.id,
        { type: 'reaction', key: 'merge-conflict', body: CONFLICT },
        { deliveryId: 'delivery-1' },
      ],
    ]);
    expect(f.callsTo('enqueueIntent')).toEqual([]);
  });

  it('a pull request that still merges is left alone', async () => {
    const f = fakeLifecycle({ rows: [withPullRequest(7)] });
    getPullRequest(7, { mergeable: true });

    expect(await onPush(f.deps, push, 'delivery-1', 0)).toBe('checked 1');
    expect(f.calls).toEqual([]);
  });

  it('a conflict while the session needs a human sends the agent nothing', async () => {
    const s = withPullRequest(7, { status: 'needs_human' });
    const f = fakeLifecycle({ rows: [s] });
    getPullRequest(7, { mergeable: false });

    await onPush(f.deps, push, 'delivery-1', 0);

    expect(f.applied()).toEqual([{ type: 'reaction', key: 'merge-conflict' }]);
  });

  it.each([0, 1, 2])(
    'mergeability GitHub has not computed yet (look %i) is looked at again later',
    async (check) => {
      vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
      const f = fakeLifecycle({ rows: [withPullRequest(7)] });
      getPullRequest(7, { mergeable: null });

      await onPush(f.deps, push, 'delivery-1', check);

      expect(f.callsTo('enqueueIntent')).toEqual([
        [
          {
            intent: push,
            deliveryId: 'delivery-1',
            receivedAt: NOW.toISOString(),
            check: check + 1,
          },
          new Date(NOW.getTime() + 15_000 * (check + 1)),
        ],
      ]);
      expect(f.callsTo('apply')).toEqual([]);
    },
  );

  it('no pull request is looked at again past 3 looks', async () => {
    const f = fakeLifecycle({ rows: [withPullRequest(7)] });
    getPullRequest(7, { mergeable: null });

    await onPush(f.deps, push, 'delivery-1', 3);

    expect(f.calls).toEqual([]);
  });

  it('each session pull request is checked: a conflict is sent, an unknown one looked at again', async () => {
    const conflicted = withPullRequest(7);
    const f = fakeLifecycle({
      rows: [
        conflicted,
        withPullRequest(8),
        withPullRequest(9),
        withPullRequest(10, { baseBranch: 'release' }),
        withPullRequest(11, { status: 'merged' }),
        session({ issueNumber: 40, prNumber: null, baseBranch: 'main' }),
      ],
    });
    getPullRequest(7, { mergeable: false });
    getPullRequest(8, { mergeable: true });
    getPullRequest(9, { mergeable: null });

    expect(await onPush(f.deps, push, 'delivery-1', 0)).toBe('checked 3');
    expect(f.callsTo('apply').map(([id, event]) => [id, event.type])).toEqual([
      [conflicted.id, 'reaction'],
    ]);
    expect(f.callsTo('enqueueIntent').map(([payload]) => payload.check)).toEqual([1]);
  });

  it('a push to a branch no session pull request is based on asks GitHub nothing', async () => {
    const f = fakeLifecycle({ rows: [withPullRequest(7, { baseBranch: 'develop' })] });

    expect(await onPush(f.deps, push, 'delivery-1', 0)).toBe('no-session');
    expect(f.octokits).toEqual([]);
    expect(f.calls).toEqual([]);
  });
});
