import { describe, expect, it } from 'vitest';
import {
  type ApprovalState,
  isApprovedAndGreen,
  reviewsApprove,
} from '../../src/github/approved-and-green.js';

type Reviews = ApprovalState['reviews'];
const HEAD = 'h2';
/** A writer's review of the head commit, unless said otherwise. */
const r = (
  login: string | null,
  state: string,
  { writer = true, commitId = HEAD }: { writer?: boolean; commitId?: string | null } = {},
) => ({ login, state, writer, commitId });

describe('reviewsApprove', () => {
  it.each<[string, Reviews, boolean]>([
    ['no review at all', [], false],
    ['one approval', [r('bob', 'APPROVED')], true],
    ['only comments', [r('bob', 'COMMENTED'), r('carol', 'COMMENTED')], false],
    [
      'an approval followed by a comment of the same reviewer',
      [r('bob', 'APPROVED'), r('bob', 'COMMENTED')],
      true,
    ],
    [
      'a change request the same reviewer later approved',
      [r('bob', 'CHANGES_REQUESTED'), r('bob', 'APPROVED')],
      true,
    ],
    [
      'an approval the same reviewer later turned into a change request',
      [r('bob', 'APPROVED'), r('bob', 'CHANGES_REQUESTED')],
      false,
    ],
    [
      'an approval while another reviewer requests changes',
      [r('bob', 'APPROVED'), r('carol', 'CHANGES_REQUESTED')],
      false,
    ],
    [
      'an approval after another reviewer’s change request was dismissed',
      [r('carol', 'CHANGES_REQUESTED'), r('carol', 'DISMISSED'), r('bob', 'APPROVED')],
      true,
    ],
    ['an approval that was dismissed', [r('bob', 'APPROVED'), r('bob', 'DISMISSED')], false],
    ['an approval by a deleted account (ghost)', [r(null, 'APPROVED')], false],
    [
      'a change request by a deleted account next to an approval',
      [r(null, 'CHANGES_REQUESTED'), r('bob', 'APPROVED')],
      true,
    ],
    ["a reader's approval", [r('rita', 'APPROVED', { writer: false })], false],
    [
      "a writer's approval next to a reader's change request",
      [r('bob', 'APPROVED'), r('rita', 'CHANGES_REQUESTED', { writer: false })],
      true,
    ],
    ["a writer's approval of an older commit", [r('bob', 'APPROVED', { commitId: 'h1' })], false],
    [
      "a writer's approval of the head after an approval of an older one",
      [r('bob', 'APPROVED', { commitId: 'h1' }), r('bob', 'APPROVED')],
      true,
    ],
    [
      "a writer's change request on an older commit still stands",
      [r('carol', 'CHANGES_REQUESTED', { commitId: 'h1' }), r('bob', 'APPROVED')],
      false,
    ],
  ])('%s approves: %s', (_, reviews, approves) => {
    expect(reviewsApprove(reviews, HEAD)).toBe(approves);
  });
});

describe('isApprovedAndGreen', () => {
  const approved: Reviews = [r('bob', 'APPROVED')];
  const run = (status: string, conclusion: string | null) => ({ status, conclusion });
  const none = { count: 0, state: 'pending' };

  it.each<[string, Omit<ApprovalState, 'headSha'>, boolean]>([
    [
      'approved, no checks and no statuses (GitHub says pending for none)',
      { reviews: approved, checkRuns: [], statuses: none },
      true,
    ],
    [
      'approved, every check passed',
      {
        reviews: approved,
        checkRuns: [run('completed', 'success'), run('completed', 'success')],
        statuses: none,
      },
      true,
    ],
    [
      'approved, checks neutral or skipped',
      {
        reviews: approved,
        checkRuns: [run('completed', 'neutral'), run('completed', 'skipped')],
        statuses: none,
      },
      true,
    ],
    [
      'approved, a check failed',
      {
        reviews: approved,
        checkRuns: [run('completed', 'success'), run('completed', 'failure')],
        statuses: none,
      },
      false,
    ],
    [
      'approved, a check timed out',
      { reviews: approved, checkRuns: [run('completed', 'timed_out')], statuses: none },
      false,
    ],
    [
      'approved, a check was cancelled',
      { reviews: approved, checkRuns: [run('completed', 'cancelled')], statuses: none },
      false,
    ],
    [
      'approved, a check waits for an action',
      { reviews: approved, checkRuns: [run('completed', 'action_required')], statuses: none },
      false,
    ],
    [
      'approved, a check still runs',
      { reviews: approved, checkRuns: [run('in_progress', null)], statuses: none },
      false,
    ],
    [
      'approved, a check is queued',
      { reviews: approved, checkRuns: [run('queued', null)], statuses: none },
      false,
    ],
    [
      'approved, statuses all green',
      {
        reviews: approved,
        checkRuns: [run('completed', 'success')],
        statuses: { count: 2, state: 'success' },
      },
      true,
    ],
    [
      'approved, a status pending',
      {
        reviews: approved,
        checkRuns: [run('completed', 'success')],
        statuses: { count: 2, state: 'pending' },
      },
      false,
    ],
    [
      'approved, a status failed',
      { reviews: approved, checkRuns: [], statuses: { count: 1, state: 'failure' } },
      false,
    ],
    [
      'approved, a status errored',
      { reviews: approved, checkRuns: [], statuses: { count: 1, state: 'error' } },
      false,
    ],
    [
      'green but not approved',
      {
        reviews: [r('bob', 'COMMENTED')],
        checkRuns: [run('completed', 'success')],
        statuses: none,
      },
      false,
    ],
    [
      'green but changes requested',
      {
        reviews: [r('bob', 'APPROVED'), r('carol', 'CHANGES_REQUESTED')],
        checkRuns: [run('completed', 'success')],
        statuses: none,
      },
      false,
    ],
    [
      'green, approved only by a reader',
      {
        reviews: [r('rita', 'APPROVED', { writer: false })],
        checkRuns: [run('completed', 'success')],
        statuses: none,
      },
      false,
    ],
  ])('%s: %s', (_, state, expected) => {
    expect(isApprovedAndGreen({ headSha: HEAD, ...state })).toBe(expected);
  });
});
