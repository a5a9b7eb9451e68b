import { CHECK_CONCLUSIONS, type Intent } from '../sessions/intents.js';
import {
  checkSuite,
  comment,
  commitStatus,
  envelope,
  type Issue,
  issueEvent,
  labeled,
  pullRequestEvent,
  push,
  review,
  workflowRun,
} from './webhook-payloads.js';

type Ci = Extract<Intent, { kind: 'ci' }>;
type Base = Pick<Intent, 'installationId' | 'repo' | 'sender'>;

const isCheckConclusion = (value: string): value is (typeof CHECK_CONCLUSIONS)[number] =>
  (CHECK_CONCLUSIONS as readonly string[]).includes(value);

/**
 * Turns a webhook delivery (the `X-GitHub-Event` name and the parsed JSON payload) into at most
 * one intent, without any API call. Pure and total: an unknown event, an action the app does not
 * act on, or a payload of the wrong shape gives null, never an exception.
 */
export function translate(name: string, payload: unknown): Intent | null {
  const parsed = envelope.safeParse(payload);
  if (!parsed.success) return null;
  const { installation, repository, sender } = parsed.data;
  const base: Base = {
    installationId: installation.id,
    repo: {
      id: repository.id,
      fullName: repository.full_name,
      cloneUrl: repository.clone_url,
      defaultBranch: repository.default_branch,
    },
    sender: { login: sender.login, type: sender.type },
  };
  switch (name) {
    case 'issues':
      return fromIssues(payload, base);
    case 'issue_comment':
      return fromComment(payload, base);
    case 'pull_request':
      return fromPullRequest(payload, base);
    case 'pull_request_review':
      return fromReview(payload, base);
    case 'check_suite':
      return fromCheckSuite(payload, base);
    case 'workflow_run':
      return fromWorkflowRun(payload, base);
    case 'status':
      return fromStatus(payload, base);
    case 'push':
      return fromPush(payload, base);
    default:
      return null;
  }
}

function fromLabel(
  payload: unknown,
  base: Base,
  issue: Omit<Issue, 'pull_request'>,
  isPullRequest: boolean,
): Intent | null {
  const event = labeled.safeParse(payload);
  if (!event.success) return null;
  return {
    ...base,
    kind: event.data.action === 'labeled' ? 'label-added' : 'label-removed',
    label: event.data.label.name,
    issue: {
      number: issue.number,
      title: issue.title,
      body: issue.body,
      url: issue.html_url,
      isPullRequest,
      ...authorOf(issue),
    },
  };
}

function fromIssues(payload: unknown, base: Base): Intent | null {
  const event = issueEvent.safeParse(payload);
  if (!event.success) return null;
  const { action, issue } = event.data;
  if (action === 'closed')
    return {
      ...base,
      kind: 'issue-closed',
      issueNumber: issue.number,
      issueAuthor: issue.user?.login ?? null,
    };
  if (action === 'labeled' || action === 'unlabeled')
    return fromLabel(payload, base, issue, issue.pull_request != null);
  return null;
}

/** Only comments with a line starting with `/`: the repository's prefix is checked with its config. */
function fromComment(payload: unknown, base: Base): Intent | null {
  const event = comment.safeParse(payload);
  if (!event.success || !/^ {0,3}\//m.test(event.data.comment.body)) return null;
  const { issue } = event.data;
  return {
    ...base,
    kind: 'comment',
    issueNumber: issue.number,
    isPullRequest: issue.pull_request != null,
    commentId: event.data.comment.id,
    body: event.data.comment.body,
    issue: { title: issue.title, body: issue.body, url: issue.html_url, ...authorOf(issue) },
  };
}

/** The issue's author, for the prompt's provenance; nothing for a deleted account. */
const authorOf = ({ user }: Pick<Issue, 'user'>) =>
  user ? { author: { login: user.login, type: user.type } } : {};

function fromPullRequest(payload: unknown, base: Base): Intent | null {
  const event = pullRequestEvent.safeParse(payload);
  if (!event.success) return null;
  const { action, pull_request: pr } = event.data;
  switch (action) {
    case 'labeled':
    case 'unlabeled':
      return fromLabel(payload, base, pr, true);
    case 'opened':
    case 'reopened':
    case 'ready_for_review':
    case 'synchronize':
      return {
        ...base,
        kind: action === 'synchronize' ? 'pr-updated' : 'pr-opened',
        prNumber: pr.number,
        branch: pr.head.ref,
        baseBranch: pr.base.ref,
        headSha: pr.head.sha,
        fromFork: isFork(pr),
      };
    case 'closed':
      return {
        ...base,
        kind: 'pr-closed',
        prNumber: pr.number,
        branch: pr.head.ref,
        merged: pr.merged === true,
        fromFork: isFork(pr),
      };
    default:
      return null;
  }
}

/** A pull request whose head is not in the base repository; a deleted fork leaves head.repo null. */
function isFork(pr: {
  head: { repo: { full_name: string } | null };
  base: { repo: { full_name: string } | null };
}): boolean {
  return pr.head.repo === null || pr.head.repo.full_name !== pr.base.repo?.full_name;
}

function fromReview(payload: unknown, base: Base): Intent | null {
  const event = review.safeParse(payload);
  if (!event.success) return null;
  const { review: r, pull_request: pr } = event.data;
  return {
    ...base,
    kind: 'review',
    prNumber: pr.number,
    reviewId: r.id,
    state: r.state,
    body: r.body,
    headSha: pr.head.sha,
  };
}

function fromCheckSuite(payload: unknown, base: Base): Intent | null {
  const event = checkSuite.safeParse(payload);
  if (!event.success) return null;
  const suite = event.data.check_suite;
  const conclusion = conclusionOf(suite.conclusion);
  if (!conclusion) return null;
  return {
    ...base,
    kind: 'ci',
    source: 'check_suite',
    sourceId: suite.id,
    headSha: suite.head_sha,
    conclusion,
    runAttempt: 1,
    name: suite.app?.slug || 'check suite',
    prNumbers: suite.pull_requests,
  };
}

function fromWorkflowRun(payload: unknown, base: Base): Intent | null {
  const event = workflowRun.safeParse(payload);
  if (!event.success) return null;
  const run = event.data.workflow_run;
  const conclusion = conclusionOf(run.conclusion);
  if (!conclusion) return null;
  return {
    ...base,
    kind: 'ci',
    source: 'workflow_run',
    sourceId: run.id,
    headSha: run.head_sha,
    conclusion,
    runAttempt: run.run_attempt ?? 1,
    name: run.name || event.data.workflow?.name || 'workflow run',
    prNumbers: run.pull_requests,
  };
}

function fromStatus(payload: unknown, base: Base): Intent | null {
  const event = commitStatus.safeParse(payload);
  if (!event.success) return null;
  const status = event.data;
  const state = status.state;
  if (state === 'pending') return null;
  return {
    ...base,
    kind: 'ci',
    source: 'status',
    sourceId: status.id,
    headSha: status.sha,
    conclusion: state,
    runAttempt: 1,
    name: status.context,
    prNumbers: [],
  };
}

/** Branch pushes only: tags and deleted branches give null. */
function fromPush(payload: unknown, base: Base): Intent | null {
  const event = push.safeParse(payload);
  if (!event.success || event.data.deleted || /^0+$/.test(event.data.after)) return null;
  const branch = /^refs\/heads\/(.+)$/.exec(event.data.ref)?.[1];
  return branch ? { ...base, kind: 'push', branch, headSha: event.data.after } : null;
}

/** A finished run's conclusion; null (no finished signal) for a missing or unknown one. */
function conclusionOf(value: string | null): Ci['conclusion'] | null {
  // Actions reports a workflow file that failed to start as startup_failure.
  if (value === 'startup_failure') return 'failure';
  return value !== null && isCheckConclusion(value) ? value : null;
}
