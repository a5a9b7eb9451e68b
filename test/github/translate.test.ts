import { describe, expect, it } from 'vitest';
import { translate } from '../../src/github/translate.js';
import type { Intent, IntentKind } from '../../src/sessions/intents.js';
import { exampleGroups, examplePayload } from '../helpers/webhooks.js';

// biome-ignore lint/suspicious/noExplicitAny: payloads are edited freely, as GitHub's JSON
type Payload = Record<string, any>;

/** A real example, delivered to installation 42 (most examples carry no installation). */
function delivery(event: string, action?: string): Payload {
  return { ...examplePayload(event, action), installation: { id: 42 } };
}

/** The first example of an event that matches, as `delivery` gives it. */
function deliveryWhere(event: string, matches: (example: Payload) => boolean): Payload {
  const example = exampleGroups.find((g) => g.name === event)?.examples.find(matches);
  if (!example) throw new Error(`no matching example of ${event}`);
  return { ...structuredClone(example), installation: { id: 42 } };
}

const base = {
  installationId: 42,
  repo: {
    id: 186853002,
    fullName: 'Codertocat/Hello-World',
    cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
    defaultBranch: 'master',
  },
  sender: { login: 'Codertocat', type: 'User' },
};

const SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
const OTHER_SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

/** The kinds each event may become; every other event becomes nothing. */
const KINDS_BY_EVENT: Record<string, IntentKind[]> = {
  issues: ['label-added', 'label-removed', 'issue-closed'],
  issue_comment: ['comment'],
  pull_request: ['label-added', 'label-removed', 'pr-opened', 'pr-updated', 'pr-closed'],
  pull_request_review: ['review'],
  check_suite: ['ci'],
  workflow_run: ['ci'],
  status: ['ci'],
  push: ['push'],
};

describe('translate: labels', () => {
  it('issues.labeled is label-added with the issue', () => {
    expect(translate('issues', delivery('issues', 'labeled'))).toEqual({
      ...base,
      kind: 'label-added',
      label: 'bug',
      issue: {
        number: 1,
        title: 'Spelling error in the README file',
        body: "It looks like you accidently spelled 'commit' with two 't's.",
        url: 'https://github.com/Codertocat/Hello-World/issues/1',
        isPullRequest: false,
        author: { login: 'Codertocat', type: 'User' },
      },
    });
  });

  it('issues.unlabeled is label-removed', () => {
    const intent = translate('issues', delivery('issues', 'unlabeled'));
    expect(intent).toMatchObject({ kind: 'label-removed', label: 'bug', issue: { number: 1 } });
  });

  it('a label on an issue that is a pull request says so, and an empty body is an empty string', () => {
    const payload = delivery('issues', 'labeled');
    payload.issue.pull_request = {
      url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/1',
    };
    payload.issue.body = null;
    const intent = translate('issues', payload);
    expect(intent).toMatchObject({ kind: 'label-added', issue: { isPullRequest: true, body: '' } });
  });

  it('pull_request.labeled and unlabeled take the issue fields from the pull request', () => {
    const issue = {
      number: 2,
      title: 'Update the README with new information.',
      body: 'This is a pretty simple change that we need to pull into master.',
      url: 'https://github.com/Codertocat/Hello-World/pull/2',
      isPullRequest: true,
      author: { login: 'Codertocat', type: 'User' },
    };
    expect(translate('pull_request', delivery('pull_request', 'labeled'))).toEqual({
      ...base,
      kind: 'label-added',
      label: 'bug',
      issue,
    });
    expect(translate('pull_request', delivery('pull_request', 'unlabeled'))).toEqual({
      ...base,
      kind: 'label-removed',
      label: 'bug',
      issue,
    });
  });

  it('a label event without a label is nothing', () => {
    const payload = delivery('issues', 'unlabeled');
    delete payload.label;
    expect(translate('issues', payload)).toBeNull();
  });
});

describe('translate: issues', () => {
  it('issues.closed is issue-closed (the examples have none: a reopened one, edited)', () => {
    const payload = { ...delivery('issues', 'reopened'), action: 'closed' };
    expect(translate('issues', payload)).toEqual({
      ...base,
      kind: 'issue-closed',
      issueNumber: 1,
      issueAuthor: 'Codertocat',
    });
  });

  it('other issue actions are nothing', () => {
    for (const action of ['opened', 'edited', 'assigned', 'reopened', 'transferred']) {
      expect(translate('issues', delivery('issues', action))).toBeNull();
    }
  });
});

describe('translate: comments', () => {
  it('issue_comment.created with a slash line is a comment with the issue', () => {
    const payload = delivery('issue_comment', 'created');
    payload.comment.body = 'Thanks!\r\n/agent please fix the typo';
    expect(translate('issue_comment', payload)).toEqual({
      ...base,
      kind: 'comment',
      issueNumber: 1,
      isPullRequest: false,
      commentId: 492700400,
      body: 'Thanks!\r\n/agent please fix the typo',
      issue: {
        title: 'Spelling error in the README file',
        body: "It looks like you accidently spelled 'commit' with two 't's.",
        url: 'https://github.com/Codertocat/Hello-World/issues/1',
        author: { login: 'Codertocat', type: 'User' },
      },
    });
  });

  it('an issue whose author is gone, or odd, still gives the comment, without an author', () => {
    for (const user of [null, { login: 'ghost' }]) {
      const payload = delivery('issue_comment', 'created');
      payload.comment.body = '/agent fix it';
      payload.issue.user = user;
      const intent = translate('issue_comment', payload);
      expect(intent).toMatchObject({ kind: 'comment', body: '/agent fix it' });
      expect(intent).not.toHaveProperty('issue.author');
    }
  });

  it('keeps any slash line, whatever the prefix, since the prefix is per-repository config', () => {
    const payload = delivery('issue_comment', 'created');
    payload.comment.body = '/bot do it';
    expect(translate('issue_comment', payload)).toMatchObject({
      kind: 'comment',
      body: '/bot do it',
    });
  });

  it('a comment on a pull request says so', () => {
    const payload = delivery('issue_comment', 'created');
    payload.issue.pull_request = {
      url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/1',
    };
    payload.comment.body = '/agent stop';
    expect(translate('issue_comment', payload)).toMatchObject({
      kind: 'comment',
      isPullRequest: true,
    });
  });

  it('a comment without a line starting with a slash is nothing (the example is one)', () => {
    const payload = delivery('issue_comment', 'created');
    expect(translate('issue_comment', payload)).toBeNull();
    payload.comment.body = 'run it with a/agent path, or `/agent` mid-line';
    expect(translate('issue_comment', payload)).toBeNull();
  });

  it('edited and deleted comments are nothing, even with a command', () => {
    for (const action of ['edited', 'deleted']) {
      const payload = delivery('issue_comment', action);
      payload.comment.body = '/agent stop';
      expect(translate('issue_comment', payload)).toBeNull();
    }
  });
});

describe('translate: reviews', () => {
  it('pull_request_review.submitted is a review with the pull request head', () => {
    const payload = delivery('pull_request_review', 'submitted');
    payload.review.state = 'CHANGES_REQUESTED';
    payload.review.body = 'Please add a test.';
    payload.pull_request.head.sha = OTHER_SHA;
    expect(translate('pull_request_review', payload)).toEqual({
      ...base,
      kind: 'review',
      prNumber: 2,
      reviewId: 237895671,
      state: 'changes_requested',
      body: 'Please add a test.',
      headSha: OTHER_SHA,
    });
  });

  it('an approval without a body (as in the examples) has an empty body', () => {
    const payload = delivery('pull_request_review', 'submitted');
    payload.review.state = 'approved';
    expect(translate('pull_request_review', payload)).toMatchObject({
      state: 'approved',
      body: '',
    });
  });

  it('a plain comment review is a review in state commented', () => {
    const intent = translate('pull_request_review', delivery('pull_request_review', 'submitted'));
    expect(intent).toMatchObject({ kind: 'review', state: 'commented', headSha: SHA });
  });

  it('a dismissed review, an unknown state and review comments are nothing', () => {
    expect(
      translate('pull_request_review', delivery('pull_request_review', 'dismissed')),
    ).toBeNull();
    const odd = delivery('pull_request_review', 'submitted');
    odd.review.state = 'pending';
    expect(translate('pull_request_review', odd)).toBeNull();
    for (const action of ['created', 'edited', 'deleted']) {
      const payload = delivery('pull_request_review_comment', action);
      payload.comment.body = '/agent fix this';
      expect(translate('pull_request_review_comment', payload)).toBeNull();
    }
  });
});

describe('translate: CI', () => {
  it('check_suite.completed is ci named after the app, with the linked pull requests', () => {
    const payload = delivery('check_suite', 'completed');
    payload.check_suite.conclusion = 'failure';
    payload.check_suite.app.slug = 'circleci-checks';
    expect(translate('check_suite', payload)).toEqual({
      ...base,
      kind: 'ci',
      source: 'check_suite',
      sourceId: 118578147,
      headSha: SHA,
      conclusion: 'failure',
      runAttempt: 1,
      name: 'circleci-checks',
      prNumbers: [2],
    });
  });

  it('a check suite without an app slug (most examples) is named "check suite"', () => {
    const intent = translate('check_suite', delivery('check_suite', 'completed'));
    expect(intent).toMatchObject({ kind: 'ci', name: 'check suite', conclusion: 'success' });
  });

  it('requested and rerequested check suites, and unfinished ones, are nothing', () => {
    expect(translate('check_suite', delivery('check_suite', 'requested'))).toBeNull();
    expect(translate('check_suite', delivery('check_suite', 'rerequested'))).toBeNull();
    const unfinished = delivery('check_suite', 'completed');
    unfinished.check_suite.conclusion = null;
    expect(translate('check_suite', unfinished)).toBeNull();
  });

  it('workflow_run.completed is ci with the run attempt and the linked pull requests', () => {
    const payload = deliveryWhere('workflow_run', (e) => e.workflow_run.pull_requests.length > 0);
    payload.workflow_run.conclusion = 'failure';
    payload.workflow_run.run_attempt = 2;
    payload.workflow_run.name = 'CI';
    expect(translate('workflow_run', payload)).toEqual({
      ...base,
      repo: {
        id: 300029405,
        fullName: 'octo-org/octo-repo',
        cloneUrl: 'https://github.com/octo-org/octo-repo.git',
        defaultBranch: 'master',
      },
      kind: 'ci',
      source: 'workflow_run',
      sourceId: 289782451,
      headSha: '3484a3fb816e0859fd6e1cea078d76385ff50625',
      conclusion: 'failure',
      runAttempt: 2,
      name: 'CI',
      prNumbers: [2],
    });
  });

  it('a "completed" workflow run without a conclusion (the first example, still queued) is nothing', () => {
    const payload = delivery('workflow_run', 'completed');
    expect(payload.workflow_run.conclusion).toBeNull();
    expect(translate('workflow_run', payload)).toBeNull();
  });

  it('a workflow run with an empty name takes the workflow name; startup_failure is a failure', () => {
    const payload = deliveryWhere('workflow_run', (e) => e.workflow_run.conclusion === 'success');
    expect(payload.workflow_run.name).toBe('');
    expect(translate('workflow_run', payload)).toMatchObject({
      name: 'test',
      conclusion: 'success',
      runAttempt: 1,
    });
    payload.workflow_run.conclusion = 'startup_failure';
    expect(translate('workflow_run', payload)).toMatchObject({ conclusion: 'failure' });
  });

  it('requested workflow runs are nothing', () => {
    const payload = delivery('workflow_run', 'requested');
    payload.workflow_run.conclusion = 'action_required';
    expect(translate('workflow_run', payload)).toBeNull();
  });

  it('a commit status is ci when it has finished: success, failure and error', () => {
    const payload = delivery('status');
    expect(translate('status', payload)).toEqual({
      ...base,
      kind: 'ci',
      source: 'status',
      sourceId: 6805126730,
      headSha: OTHER_SHA,
      conclusion: 'success',
      runAttempt: 1,
      name: 'default',
      prNumbers: [],
    });
    for (const state of ['failure', 'error'] as const) {
      expect(translate('status', { ...payload, state })).toMatchObject({
        kind: 'ci',
        conclusion: state,
      });
    }
  });

  it('a pending commit status is nothing', () => {
    expect(translate('status', { ...delivery('status'), state: 'pending' })).toBeNull();
  });
});

describe('translate: pull requests', () => {
  const opened = {
    ...base,
    kind: 'pr-opened',
    prNumber: 2,
    branch: 'changes',
    baseBranch: 'master',
    headSha: SHA,
    fromFork: false,
  } satisfies Intent;

  it('pull_request.opened, reopened and ready_for_review are pr-opened', () => {
    for (const action of ['opened', 'reopened', 'ready_for_review']) {
      expect(translate('pull_request', delivery('pull_request', action))).toEqual(opened);
    }
  });

  it('pull_request.synchronize is pr-updated', () => {
    expect(translate('pull_request', delivery('pull_request', 'synchronize'))).toEqual({
      ...opened,
      kind: 'pr-updated',
    });
  });

  it('a head in another repository, or in a deleted one, is a fork', () => {
    const fork = delivery('pull_request', 'opened');
    fork.pull_request.head.repo.full_name = 'someone/Hello-World';
    expect(translate('pull_request', fork)).toMatchObject({ fromFork: true });
    const deleted = delivery('pull_request', 'synchronize');
    deleted.pull_request.head.repo = null;
    expect(translate('pull_request', deleted)).toMatchObject({
      kind: 'pr-updated',
      fromFork: true,
    });
  });

  it('pull_request.closed is pr-closed, merged or not', () => {
    const closed = delivery('pull_request', 'closed');
    expect(translate('pull_request', closed)).toEqual({
      ...base,
      kind: 'pr-closed',
      prNumber: 2,
      branch: 'changes',
      merged: false,
      fromFork: false,
    });
    closed.pull_request.merged = true;
    expect(translate('pull_request', closed)).toMatchObject({ kind: 'pr-closed', merged: true });
    closed.pull_request.head.repo = {
      ...closed.pull_request.head.repo,
      full_name: 'mallory/Hello-World',
    };
    expect(translate('pull_request', closed)).toMatchObject({ kind: 'pr-closed', fromFork: true });
  });

  it('other pull request actions are nothing', () => {
    for (const action of [
      'assigned',
      'converted_to_draft',
      'locked',
      'review_requested',
      'unassigned',
    ]) {
      expect(translate('pull_request', delivery('pull_request', action))).toBeNull();
    }
  });
});

describe('translate: pushes', () => {
  const branchPush = () => deliveryWhere('push', (e) => e.ref === 'refs/heads/master');

  it('a branch push is push with the branch and the new head', () => {
    expect(translate('push', branchPush())).toEqual({
      ...base,
      kind: 'push',
      branch: 'master',
      headSha: OTHER_SHA,
    });
  });

  it('a branch name keeps its slashes', () => {
    const payload = branchPush();
    payload.ref = 'refs/heads/agent/12-fix-typo';
    expect(translate('push', payload)).toMatchObject({ branch: 'agent/12-fix-typo' });
  });

  it('tag pushes and branch deletions are nothing', () => {
    expect(translate('push', delivery('push'))).toBeNull();
    const deletion = branchPush();
    deletion.deleted = true;
    deletion.after = '0000000000000000000000000000000000000000';
    expect(translate('push', deletion)).toBeNull();
  });
});

describe('translate: everything else', () => {
  it('ping, installation, check_run and other events are nothing', () => {
    for (const event of ['ping', 'installation', 'check_run', 'workflow_job', 'release', 'label']) {
      for (const example of exampleGroups.find((g) => g.name === event)!.examples) {
        expect(translate(event, { ...example, installation: { id: 42 } })).toBeNull();
      }
    }
  });

  it('a delivery without an installation, repository or sender is nothing', () => {
    const payload = delivery('issues', 'labeled');
    expect(translate('issues', { ...payload, installation: undefined })).toBeNull();
    expect(translate('issues', { ...payload, repository: undefined })).toBeNull();
    expect(translate('issues', { ...payload, sender: undefined })).toBeNull();
    const noCloneUrl = structuredClone(payload);
    delete noCloneUrl.repository.clone_url;
    expect(translate('issues', noCloneUrl)).toBeNull();
  });

  it('every example of every event, with and without an installation, gives null or an intent its event may give', () => {
    const names = exampleGroups.map((g) => g.name);
    const kinds = new Map<string, number>();
    for (const group of exampleGroups) {
      for (const example of group.examples) {
        const installed = { ...example, installation: { id: 42 } };
        for (const payload of [example, installed]) {
          // Under its own name and under every other one: a wrong name must not break anything.
          for (const name of names) {
            const intent = translate(name, structuredClone(payload));
            if (intent === null) continue;
            expect(KINDS_BY_EVENT[name], `${name} gave ${intent.kind}`).toContain(intent.kind);
            expect(intent.installationId).toBe(
              payload === installed ? 42 : (example.installation as Payload).id,
            );
            if (name === group.name) kinds.set(intent.kind, (kinds.get(intent.kind) ?? 0) + 1);
          }
        }
      }
    }
    // The examples reach every kind except the ones they have no example of (issue-closed, comment).
    expect([...kinds.keys()].sort()).toEqual(
      [
        'ci',
        'label-added',
        'label-removed',
        'pr-closed',
        'pr-opened',
        'pr-updated',
        'push',
        'review',
      ].sort(),
    );
  });

  it('garbage is nothing', () => {
    const valid = delivery('issues', 'labeled');
    const garbage: unknown[] = [
      null,
      undefined,
      [],
      {},
      '',
      'issues',
      42,
      true,
      [valid],
      { ...valid, installation: { id: '42' } },
      { ...valid, installation: { id: -1 } },
      { ...valid, installation: { id: 1.5 } },
      { ...valid, installation: null },
      { ...valid, repository: { ...valid.repository, id: '186853002' } },
      { ...valid, repository: { ...valid.repository, full_name: 'no-slash' } },
      { ...valid, sender: null },
      { ...valid, sender: { login: 42, type: 'User' } },
      { ...valid, label: 'agent' },
      { ...valid, label: { name: null } },
      { ...valid, action: 42 },
      { ...valid, issue: null },
      { ...valid, issue: { ...valid.issue, number: '1' } },
      { ...valid, issue: { ...valid.issue, title: null } },
    ];
    for (const payload of garbage) {
      for (const name of [
        ...Object.keys(KINDS_BY_EVENT),
        '',
        '__proto__',
        'constructor',
        'toString',
      ]) {
        expect(
          translate(name, payload),
          `${name} ${JSON.stringify(payload)?.slice(0, 80)}`,
        ).toBeNull();
      }
    }
  });

  it('wrong types in the event-specific fields are nothing', () => {
    const review = delivery('pull_request_review', 'submitted');
    review.pull_request.head.sha = 'not-a-sha';
    expect(translate('pull_request_review', review)).toBeNull();
    const suite = delivery('check_suite', 'completed');
    suite.check_suite.id = '118578147';
    expect(translate('check_suite', suite)).toBeNull();
    const status = delivery('status');
    status.context = '';
    expect(translate('status', status)).toBeNull();
    const pr = delivery('pull_request', 'opened');
    pr.pull_request.head = 'changes';
    expect(translate('pull_request', pr)).toBeNull();
    const comment = delivery('issue_comment', 'created');
    comment.comment.body = ['/agent stop'];
    expect(translate('issue_comment', comment)).toBeNull();
    const push = delivery('push');
    push.ref = 7;
    expect(translate('push', push)).toBeNull();
  });

  it('odd entries in a list of linked pull requests are skipped, not fatal', () => {
    const payload = delivery('check_suite', 'completed');
    payload.check_suite.pull_requests = [{ number: 2 }, null, { number: 'x' }, { number: 5 }];
    expect(translate('check_suite', payload)).toMatchObject({ prNumbers: [2, 5] });
  });
});
