import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/db/schema.js';
import { onReview } from '../../src/github/on-review.js';
import { IllegalTransitionError } from '../../src/sessions/illegal-transition.js';
import type { IntentOf } from '../../src/sessions/intents.js';
import {
  fakeLifecycle,
  HEAD_SHA,
  INSTALLATION_ID,
  REPO,
  session,
} from './support/fake-lifecycle.js';
import {
  API,
  approvalState,
  checkRun,
  combinedStatus,
  getPullRequest,
  permission,
  pullRequest,
  repoPath,
  review,
  useNock,
  user,
} from './support/github-api.js';

const REVIEW_ID = 8080;
const OLDER_SHA = '0000000111111122222223333333444444455555';

function reviewed(
  state: IntentOf<'review'>['state'],
  overrides: Partial<IntentOf<'review'>> = {},
): IntentOf<'review'> {
  return {
    kind: 'review',
    installationId: INSTALLATION_ID,
    repo: REPO,
    sender: { login: 'bob', type: 'User' },
    prNumber: 7,
    reviewId: REVIEW_ID,
    state,
    body: 'Please handle the empty widget.',
    headSha: HEAD_SHA,
    ...overrides,
  };
}

const onPullRequest = (overrides: Partial<Session> = {}) =>
  session({
    issueNumber: 12,
    prNumber: 7,
    branch: 'agent/12-saving-crashes',
    headSha: HEAD_SHA,
    status: 'waiting',
    ...overrides,
  });

/** The review and its inline comments, as buildReviewReport asks for them. */
function reviewWithComments() {
  nock(API)
    .get(`${repoPath()}/pulls/7/reviews/${REVIEW_ID}`)
    .reply(
      200,
      review(REVIEW_ID, 'bob', 'CHANGES_REQUESTED', 'Please handle the empty widget.', HEAD_SHA),
    );
  nock(API)
    .get(`${repoPath()}/pulls/7/reviews/${REVIEW_ID}/comments`)
    .query({ per_page: '100' })
    .reply(200, [
      {
        id: 9101,
        node_id: 'PRRC_kwDO9101',
        pull_request_review_id: REVIEW_ID,
        url: `${API}${repoPath()}/pulls/comments/9101`,
        html_url: `https://github.com/${REPO.fullName}/pull/7#discussion_r9101`,
        pull_request_url: `${API}${repoPath()}/pulls/7`,
        diff_hunk:
          '@@ -40,3 +40,4 @@ export function save(widget) {\n   const path = widget.path;\n+  write(path);',
        path: 'src/save.ts',
        position: 3,
        original_position: 3,
        commit_id: HEAD_SHA,
        original_commit_id: HEAD_SHA,
        user: user('bob'),
        body: 'widget can be null here.',
        created_at: '2024-05-02T10:00:00Z',
        updated_at: '2024-05-02T10:00:00Z',
        author_association: 'MEMBER',
        start_line: null,
        original_start_line: null,
        start_side: null,
        line: 42,
        original_line: 42,
        side: 'RIGHT',
        subject_type: 'line',
      },
    ]);
}

const green = () => ({
  runs: [checkRun(1, 'build', 'success'), checkRun(2, 'lint', 'skipped')],
  status: combinedStatus('success', 1),
});

describe('a review of a session pull request', () => {
  useNock();

  it("a writer's change request goes to the agent with the review's text and inline comments", async () => {
    const s = onPullRequest();
    const f = fakeLifecycle({ rows: [s] });
    permission('bob', 'write');
    reviewWithComments();

    const outcome = await onReview(f.deps, reviewed('changes_requested'), 'delivery-1');

    expect(outcome).toBe('changes-requested');
    expect(f.callsTo('apply')).toEqual([
      [
        s.id,
        { type: 'reaction', key: 'changes-requested', headSha: HEAD_SHA, body: expect.any(String) },
        { deliveryId: 'delivery-1' },
      ],
    ]);
    const [event] = f.applied();
    const body = event?.type === 'reaction' ? (event.body ?? '') : '';
    expect(body.split('\n\n').slice(0, 3)).toEqual([
      '@bob requested changes on the pull request:',
      'Review by @bob (changes requested) on commit abc1234, with 1 inline comment:',
      'Please handle the empty widget.',
    ]);
    expect(body).toContain('### src/save.ts:42 (@bob)\n\nwidget can be null here.');
    expect(body).toContain('+  write(path);');
  });

  it.each([
    ['read', 'ignored: reviewer role read'],
    ['triage', 'ignored: reviewer role triage'],
    [null, 'ignored: reviewer not a collaborator'],
  ] as const)(
    'a change request by a %s reviewer is recorded and applies nothing',
    async (role, outcome) => {
      const s = onPullRequest();
      const f = fakeLifecycle({ rows: [s] });
      permission('bob', role);

      expect(await onReview(f.deps, reviewed('changes_requested'), 'delivery-1')).toBe(outcome);
      expect(f.callsTo('apply')).toEqual([]);
      expect(f.callsTo('record')).toEqual([
        [
          s.id,
          'ignored',
          {
            key: 'changes-requested',
            reason: `review by @bob, who may not steer the agent (${outcome.replace('ignored: reviewer ', '')})`,
          },
          { deliveryId: 'delivery-1' },
        ],
      ]);
    },
  );

  it('a change request by a bot that is not allow-listed applies nothing, asking GitHub nothing', async () => {
    const f = fakeLifecycle({ rows: [onPullRequest()] });

    const outcome = await onReview(
      f.deps,
      reviewed('changes_requested', { sender: { login: 'lint-bot[bot]', type: 'Bot' } }),
      'delivery-1',
    );

    expect(outcome).toBe('ignored: reviewer bot lint-bot[bot] is not allow-listed');
    expect(f.calls.map((c) => c.method)).toEqual(['record']);
    expect(f.octokits).toEqual([INSTALLATION_ID]); // the gate itself asks GitHub nothing
  });

  it('a review of a pull request no session made asks GitHub nothing', async () => {
    const f = fakeLifecycle({ rows: [onPullRequest({ prNumber: 8 })] });

    expect(await onReview(f.deps, reviewed('changes_requested'), 'delivery-1')).toBe('no-session');
    expect(f.octokits).toEqual([]);
    expect(f.calls).toEqual([]);
  });

  it.each(['commented', 'dismissed'] as const)(
    'a %s review is not acted on and asks GitHub nothing',
    async (state) => {
      const f = fakeLifecycle({ rows: [onPullRequest()] });

      expect(await onReview(f.deps, reviewed(state), 'delivery-1')).toBe('not-acted-on');
      expect(f.octokits).toEqual([]);
      expect(f.calls).toEqual([]);
    },
  );

  it.each([
    ['of an older commit', { headSha: HEAD_SHA }, OLDER_SHA],
    ['while the session needs a human', { status: 'needs_human' as const }, HEAD_SHA],
  ])(
    'a change request %s fetches no report: the reaction is applied without a body',
    async (_, overrides, reviewedSha) => {
      const s = onPullRequest(overrides);
      const f = fakeLifecycle({ rows: [s] });
      permission('bob', 'write');

      await onReview(f.deps, reviewed('changes_requested', { headSha: reviewedSha }), 'd-1');

      expect(f.callsTo('apply')).toEqual([
        [
          s.id,
          { type: 'reaction', key: 'changes-requested', headSha: reviewedSha },
          { deliveryId: 'd-1' },
        ],
      ]);
    },
  );

  it('an approval with green checks applies approved-and-green at the session head', async () => {
    const s = onPullRequest();
    const f = fakeLifecycle({ rows: [s] });
    permission('bob', 'write');
    approvalState(7, [review(1, 'bob', 'APPROVED')], green());

    expect(await onReview(f.deps, reviewed('approved'), 'delivery-1')).toBe('approved-and-green');
    expect(f.callsTo('apply')).toEqual([
      [
        s.id,
        { type: 'reaction', key: 'approved-and-green', headSha: HEAD_SHA },
        { deliveryId: 'delivery-1' },
      ],
    ]);
  });

  it.each([
    ["a writer's approval of an older commit", [review(1, 'bob', 'APPROVED', '', OLDER_SHA)], {}],
    [
      "a reader's approval, whatever commit it is on",
      [review(1, 'bob', 'APPROVED'), review(2, 'rita', 'APPROVED')],
      { bob: 'read', rita: 'read' },
    ],
    [
      "a triage user's approval beside a writer's dismissed one",
      [review(1, 'wes', 'DISMISSED'), review(2, 'trina', 'APPROVED')],
      { trina: 'triage' },
    ],
  ] as const)(
    '%s is no approval: no checks asked for, nothing applied',
    async (_, reviews, roles) => {
      const f = fakeLifecycle({ rows: [onPullRequest()] });
      permission('bob', 'write'); // the gate: the reviewer of this delivery may review
      approvalState(7, [...reviews], undefined, HEAD_SHA, roles);

      const outcome = await onReview(f.deps, reviewed('approved'), 'delivery-1');

      expect(outcome).toBe('not-yet-approved-and-green');
      expect(f.calls).toEqual([]);
    },
  );

  it("a reader's change request does not hold up a writer's approval", async () => {
    const s = onPullRequest();
    const f = fakeLifecycle({ rows: [s] });
    permission('bob', 'write');
    approvalState(
      7,
      [review(1, 'rita', 'CHANGES_REQUESTED'), review(2, 'bob', 'APPROVED')],
      green(),
      HEAD_SHA,
      { rita: 'read' },
    );

    expect(await onReview(f.deps, reviewed('approved'), 'delivery-1')).toBe('approved-and-green');
    expect(f.applied().map((e) => e.type)).toEqual(['reaction']);
  });

  it('an approval while a check still runs applies nothing yet', async () => {
    const f = fakeLifecycle({ rows: [onPullRequest()] });
    permission('bob', 'write');
    approvalState(7, [review(1, 'bob', 'APPROVED')], {
      runs: [checkRun(1, 'build', 'success'), checkRun(2, 'e2e', null)],
      status: combinedStatus('success', 0),
    });

    const outcome = await onReview(f.deps, reviewed('approved'), 'delivery-1');

    expect(outcome).toBe('not-yet-approved-and-green');
    expect(f.calls).toEqual([]);
  });

  it("an approval while another reviewer's change request stands asks for no checks", async () => {
    const f = fakeLifecycle({ rows: [onPullRequest()] });
    permission('bob', 'write');
    approvalState(7, [review(1, 'carol', 'CHANGES_REQUESTED'), review(2, 'bob', 'APPROVED')]);

    const outcome = await onReview(f.deps, reviewed('approved'), 'delivery-1');

    expect(outcome).toBe('not-yet-approved-and-green');
    expect(f.calls).toEqual([]);
  });

  describe('when the transition says auto-merge', () => {
    const autoMerging = () => {
      const s = onPullRequest({
        context: {
          config: {
            reactions: { 'approved-and-green': { action: 'auto-merge', mergeMethod: 'rebase' } },
          },
        },
      });
      const f = fakeLifecycle({ rows: [s] });
      f.answerApply(() => ({
        record: [{ kind: 'reaction', data: { key: 'approved-and-green', action: 'auto-merge' } }],
      }));
      permission('bob', 'write');
      approvalState(7, [review(1, 'bob', 'APPROVED')], green());
      return { s, f };
    };
    const mergeable = () => getPullRequest(7, { branch: 'agent/12-saving-crashes' });

    it('merges the pull request at the head the checks were green on, with the configured method', async () => {
      const { s, f } = autoMerging();
      mergeable();
      const sent: unknown[] = [];
      nock(API)
        .put(`${repoPath()}/pulls/7/merge`, (body) => {
          sent.push(body);
          return true;
        })
        .reply(200, { sha: 'f00dfeed', merged: true, message: 'Pull Request successfully merged' });

      await onReview(f.deps, reviewed('approved'), 'delivery-1');

      expect(sent).toEqual([{ merge_method: 'rebase', sha: HEAD_SHA }]);
      expect(f.callsTo('record')).toEqual([
        [s.id, 'merge-requested', { method: 'rebase', sha: HEAD_SHA }],
      ]);
      expect(f.callsTo('notify')).toEqual([]);
    });

    it("a refused merge becomes a notification with GitHub's reason", async () => {
      const { s, f } = autoMerging();
      mergeable();
      nock(API).put(`${repoPath()}/pulls/7/merge`).reply(405, {
        message: 'Required status check "deploy-preview" is expected.',
        documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request',
        status: '405',
      });

      await onReview(f.deps, reviewed('approved'), 'delivery-1');

      expect(f.callsTo('notify')).toEqual([
        [
          {
            sessionId: s.id,
            reason: 'merge-refused',
            text: 'The pull request is approved and green, but GitHub refused to merge it: Required status check "deploy-preview" is expected.',
          },
        ],
      ]);
      expect(f.callsTo('record')).toEqual([]);
    });

    it.each([
      ['a merge conflict', false, 'dirty'],
      ['a rule GitHub enforces (branch protection)', true, 'blocked'],
      ['mergeability not computed yet', null, 'unknown'],
    ] as const)('does not merge when GitHub does not allow it: %s', async (_, allowed, state) => {
      const { f } = autoMerging();
      nock(API)
        .get(`${repoPath()}/pulls/7`)
        .reply(200, {
          ...pullRequest(7, { branch: 'agent/12-saving-crashes', mergeable: allowed }),
          mergeable_state: state,
        });

      await onReview(f.deps, reviewed('approved'), 'delivery-1');

      const notices = f.callsTo('notify').map(([notice]) => [notice].flat()[0]!);
      expect(notices).toHaveLength(1);
      const notice = notices[0]!;
      expect(notice.text).toContain('GitHub does not allow merging it');
      expect(notice.text).toContain(allowed === null ? 'not computed yet' : state);
      expect(f.callsTo('record')).toEqual([]);
    });
  });

  it('an approved-and-green reaction the rules answer with a notification merges nothing', async () => {
    const f = fakeLifecycle({ rows: [onPullRequest()] });
    f.answerApply(() => ({
      record: [{ kind: 'reaction', data: { key: 'approved-and-green', action: 'notify' } }],
    }));
    permission('bob', 'write');
    approvalState(7, [review(1, 'bob', 'APPROVED')], green());

    await onReview(f.deps, reviewed('approved'), 'delivery-1');

    expect(f.calls.map((c) => c.method)).toEqual(['apply']);
  });

  it('an approval that reaches a session after it ended is dropped without an error', async () => {
    const f = fakeLifecycle({ rows: [onPullRequest()] });
    f.answerApply((s, event) => {
      throw new IllegalTransitionError('merged', event.type, s.id);
    });
    permission('bob', 'write');
    approvalState(7, [review(1, 'bob', 'APPROVED')], green());

    await expect(onReview(f.deps, reviewed('approved'), 'delivery-1')).resolves.toBe(
      'approved-and-green',
    );
    expect(f.calls.map((c) => c.method)).toEqual(['apply']);
  });

  it('an illegal transition on a live session is not swallowed', async () => {
    const f = fakeLifecycle({ rows: [onPullRequest()] });
    f.answerApply((s, event) => {
      throw new IllegalTransitionError('spawning', event.type, s.id);
    });
    permission('bob', 'write');
    approvalState(7, [review(1, 'bob', 'APPROVED')], green());

    await expect(onReview(f.deps, reviewed('approved'), 'delivery-1')).rejects.toThrow(
      IllegalTransitionError,
    );
  });
});
