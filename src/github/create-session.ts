import type { Session } from '../db/schema.js';
import { dailyBreach, effectiveLimits } from '../sessions/budget.js';
import type { Actor, RepoRef } from '../sessions/intents.js';
import type { RepoConfig } from '../sessions/repo-config.js';
import { type SnapshotRequest, takeIssueSnapshot } from './issue-snapshot.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import type { Octokit } from './octokit.js';
import { reply } from './replies.js';
import { REPO_CONFIG_PATH } from './repo-config-loader.js';

/** Who `triggeredBy` names for a session started through the API: not a login, so never mentioned. */
export const API_TRIGGER = 'operator (API)';

export interface NewSessionRequest {
  installationId: number;
  repo: RepoRef;
  sender: Actor;
  config: RepoConfig;
  /** As of the trigger, with who opened it. */
  issue: SnapshotRequest['issue'];
  /** When the trigger reached the app: comments after its second are not the task. */
  receivedAt: string;
  /** The `/agent` comment that started the session, as the webhook had it. */
  trigger?: SnapshotRequest['trigger'];
  deliveryId: string;
  profile?: string | undefined;
  /** On a pull request no session made: its branch, base and number. */
  pullRequest?: { branch: string; baseBranch: string; number: number };
  /** The operator's choice over the repository's `agent`. */
  agent?: string | undefined;
  /** Started through the API: the operator's message joins the issue in the first prompt. */
  api?: { message?: string | undefined };
}

/** The repository's or installation's daily budget, if today's spend (UTC) has reached one. */
async function dailyBudgetReached(
  deps: Pick<LifecycleDeps, 'store' | 'operatorConfig'>,
  { repo, installationId, config }: NewSessionRequest,
) {
  const now = new Date();
  const limits = effectiveLimits(deps.operatorConfig.limits, config.limits);
  const spent = await deps.store.spentToday({ repositoryId: repo.id, installationId }, now);
  return (
    dailyBreach('repository', spent.repositoryToday, limits.perRepositoryPerDay, now) ??
    dailyBreach('installation', spent.installationToday, limits.perInstallationPerDay, now)
  );
}

/**
 * Creates a session for an issue, with the issue as of the trigger and the provenance of its
 * texts (takeIssueSnapshot). Null when the repository is at its `maxConcurrent` (the issue is
 * told) or the issue has a live session.
 */
export async function createSession(
  deps: Pick<LifecycleDeps, 'sessions' | 'store' | 'operatorConfig' | 'roles'>,
  octokit: Octokit,
  request: NewSessionRequest,
): Promise<Session | null> {
  const { repo, config, issue } = request;
  const breach = await dailyBudgetReached(deps, request);
  if (breach) {
    await reply(
      octokit,
      repo.fullName,
      issue.number,
      `I can't start a session: ${breach.reason}. It starts over at midnight UTC, or an operator can raise the limit (\`limits\` in the operator config, or \`limits.perDay\` in \`${REPO_CONFIG_PATH}\`).`,
    );
    return null;
  }
  const live = await deps.store.liveCount(repo.id);
  if (live >= config.maxConcurrent) {
    await reply(
      octokit,
      repo.fullName,
      issue.number,
      `This repository already has ${live} agent sessions running, its limit (\`maxConcurrent\` in \`${REPO_CONFIG_PATH}\`). Try again when one finishes.`,
    );
    return null;
  }
  const snapshot = await takeIssueSnapshot(deps, octokit, {
    repoFullName: repo.fullName,
    issue,
    receivedAt: request.receivedAt,
    sender: request.sender,
    trigger: request.trigger,
    apiMessage: request.api?.message
      ? { author: API_TRIGGER, body: request.api.message }
      : undefined,
  });
  const profileName = request.profile ?? config.profile;
  const profile = profileName ? deps.operatorConfig.profiles[profileName] : undefined;
  const pr = request.pullRequest;
  return deps.sessions.create(
    {
      installationId: request.installationId,
      repositoryId: repo.id,
      repositoryFullName: repo.fullName,
      cloneUrl: repo.cloneUrl,
      issueNumber: issue.number,
      prNumber: pr?.number ?? null,
      branch: pr?.branch ?? null,
      baseBranch: pr?.baseBranch ?? config.baseBranch ?? repo.defaultBranch,
      agent: profile?.agent ?? request.agent ?? config.agent,
      profile: profile ? profileName! : null,
      triggeredBy: request.sender.login,
      context: {
        issue: snapshot,
        config,
        ...(request.api ? { startedThrough: 'api' } : {}),
      },
    },
    { deliveryId: request.deliveryId },
  );
}
