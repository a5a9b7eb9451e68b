/**
 * What a webhook means to the app, independent of GitHub's payload shapes. The webhook route
 * translates a delivery into at most one intent (pure, no API calls) and queues it as a job;
 * everything that needs GitHub happens in that job.
 */

export interface RepoRef {
  id: number;
  /** owner/name */
  fullName: string;
  cloneUrl: string;
  defaultBranch: string;
}

export interface Actor {
  login: string;
  /** GitHub's account type: User, Bot, Organization. */
  type: string;
}

interface Base {
  installationId: number;
  repo: RepoRef;
  sender: Actor;
}

export type Intent =
  | (Base & {
      kind: 'label-added' | 'label-removed';
      label: string;
      issue: { number: number; title: string; body: string; url: string; isPullRequest: boolean };
    })
  | (Base & { kind: 'issue-closed'; issueNumber: number })
  | (Base & {
      /** An issue or pull request comment holding a command line (`/agent ...`). */
      kind: 'comment';
      issueNumber: number;
      isPullRequest: boolean;
      commentId: number;
      body: string;
      issue: { title: string; body: string; url: string };
    })
  | (Base & {
      kind: 'review';
      prNumber: number;
      reviewId: number;
      state: 'approved' | 'changes_requested' | 'commented' | 'dismissed';
      body: string;
      headSha: string;
    })
  | (Base & {
      /** A finished CI signal for a commit: a check suite, a workflow run or a commit status. */
      kind: 'ci';
      headSha: string;
      conclusion:
        | 'success'
        | 'failure'
        | 'neutral'
        | 'cancelled'
        | 'skipped'
        | 'timed_out'
        | 'action_required'
        | 'stale'
        | 'error';
      source: 'check_suite' | 'workflow_run' | 'status';
      /** Check suite id, workflow run id, or status id. */
      sourceId: number;
      /** Workflow re-runs count as new events. */
      runAttempt: number;
      name: string;
      /** Pull requests GitHub links to the commit, when the payload says. */
      prNumbers: number[];
    })
  | (Base & {
      kind: 'pr-opened' | 'pr-updated';
      prNumber: number;
      branch: string;
      baseBranch: string;
      headSha: string;
      fromFork: boolean;
    })
  | (Base & { kind: 'pr-closed'; prNumber: number; branch: string; merged: boolean })
  | (Base & { kind: 'push'; branch: string; headSha: string });

export type IntentKind = Intent['kind'];

/**
 * A session the operator asked for through the API (`POST /api/sessions`). The caller holds the
 * API token, so it is trusted as a writer; it knows only the repository's name, so the intent's
 * job finds the installation (as the app) and reads the repository and the issue itself.
 */
export interface OperatorStart {
  kind: 'operator-start';
  /** owner/name */
  repository: string;
  issueNumber: number;
  /** Given to the agent with the issue, in its first prompt. */
  message?: string | undefined;
  agent?: string | undefined;
  profile?: string | undefined;
}
