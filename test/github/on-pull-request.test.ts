import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/db/schema.js';
import { onPullRequest } from '../../src/github/on-pull-request.js';
import { IllegalTransitionError } from '../../src/sessions/illegal-transition.js';
import type { IntentOf } from '../../src/sessions/intents.js';
import {
  fakeLifecycle,
  HEAD_SHA,
  INSTALLATION_ID,
  REPO,
  session,
} from './support/fake-lifecycle.js';
import { useNock } from './support/github-api.js';

const BRANCH = 'agent/12-saving-crashes';
const NEW_HEAD = 'feedface00112233445566778899aabbccddeeff';

const base = {
  installationId: INSTALLATION_ID,
  repo: REPO,
  sender: { login: 'alice', type: 'User' },
  prNumber: 7,
  branch: BRANCH,
};

function opened(
  kind: 'pr-opened' | 'pr-updated',
  overrides: Partial<IntentOf<'pr-opened' | 'pr-updated'>> = {},
): IntentOf<'pr-opened' | 'pr-updated'> {
  return { ...base, kind, baseBranch: 'main', headSha: HEAD_SHA, fromFork: false, ...overrides };
}

function closed(merged: boolean, overrides: Partial<IntentOf<'pr-closed'>> = {}) {
  return { ...base, kind: 'pr-closed' as const, merged, fromFork: false, ...overrides };
}

const onBranch = (overrides: Partial<Session> = {}) =>
  session({ issueNumber: 12, branch: BRANCH, status: 'working', ...overrides });

describe('a pull request event', () => {
  useNock();

  it.each([
    ['merged', true, 'merged'],
    ['closed without merging', false, 'pr-closed'],
  ] as const)('the session pull request %s applies the %s reaction', async (_, merged, key) => {
    const s = onBranch({ prNumber: 7, headSha: HEAD_SHA, status: 'waiting' });
    const f = fakeLifecycle({ rows: [s] });

    expect(await onPullRequest(f.deps, closed(merged), 'delivery-1')).toBe(key);
    expect(f.callsTo('apply')).toEqual([
      [s.id, { type: 'reaction', key, by: 'alice' }, { deliveryId: 'delivery-1' }],
    ]);
    expect(f.octokits).toEqual([]);
  });

  it.each([
    ['closed', false],
    ['merged', true],
  ] as const)(
    'a fork pull request on the session branch, %s, leaves the session alone',
    async (_, merged) => {
      const s = onBranch({ prNumber: 7, status: 'waiting' });
      const f = fakeLifecycle({ rows: [s] });

      const outcome = await onPullRequest(
        f.deps,
        closed(merged, { prNumber: 9, fromFork: true }),
        'delivery-1',
      );

      expect(outcome).toBe('fork');
      expect(f.calls).toEqual([]);
    },
  );

  it('a merge that reaches a session after it ended is dropped without an error', async () => {
    const f = fakeLifecycle({ rows: [onBranch({ prNumber: 7 })] });
    f.answerApply((s, event) => {
      throw new IllegalTransitionError('stopped', event.type, s.id);
    });

    await expect(onPullRequest(f.deps, closed(true), 'delivery-1')).resolves.toBe('merged');
  });

  it('a pull request opened on the session branch is linked to the session', async () => {
    const s = onBranch();
    const f = fakeLifecycle({ rows: [s] });

    expect(await onPullRequest(f.deps, opened('pr-opened'), 'delivery-1')).toBe('linked');
    expect(f.callsTo('apply')).toEqual([
      [
        s.id,
        { type: 'pr-linked', kind: 'pr-opened', prNumber: 7, headSha: HEAD_SHA },
        { deliveryId: 'delivery-1' },
      ],
    ]);
  });

  it('a push to the session pull request links its new head', async () => {
    const s = onBranch({ prNumber: 7, headSha: HEAD_SHA, status: 'waiting' });
    const f = fakeLifecycle({ rows: [s] });

    await onPullRequest(f.deps, opened('pr-updated', { headSha: NEW_HEAD }), 'delivery-1');

    expect(f.applied()).toEqual([
      { type: 'pr-linked', kind: 'pr-updated', prNumber: 7, headSha: NEW_HEAD },
    ]);
  });

  it('a pull request opened from a fork on a branch of the same name applies nothing', async () => {
    const f = fakeLifecycle({ rows: [onBranch()] });

    const outcome = await onPullRequest(
      f.deps,
      opened('pr-opened', { prNumber: 9, fromFork: true }),
      'delivery-1',
    );

    expect(outcome).toBe('fork');
    expect(f.calls).toEqual([]);
  });

  it.each([
    ['opened', opened('pr-opened', { prNumber: 9, branch: 'someone-else' })],
    ['closed', closed(true, { prNumber: 9, branch: 'someone-else' })],
  ])('a pull request %s on a branch no session has applies nothing', async (_, intent) => {
    const f = fakeLifecycle({
      rows: [onBranch(), onBranch({ branch: 'old', status: 'merged', prNumber: 9 })],
    });

    expect(await onPullRequest(f.deps, intent, 'delivery-1')).toBe('no-session');
    expect(f.calls).toEqual([]);
  });
});
