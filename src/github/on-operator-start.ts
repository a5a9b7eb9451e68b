import type { OperatorStart, OperatorStartOutcome } from '../sessions/intents.js';
import { configWithNotice } from './config-with-notice.js';
import { API_TRIGGER, createSession } from './create-session.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { splitRepo } from './octokit.js';

/**
 * A start the operator asked for through the API: the label trigger's path without the
 * permission gate (the API token is the permission). The installation is found as the app, the
 * repository and the issue are read, and the outcome is written on the start's record, which
 * `POST /api/sessions` and `GET /api/starts/:id` answer from.
 */
export async function onOperatorStart(
  deps: LifecycleDeps,
  start: OperatorStart,
  receivedAt: string,
  deliveryId: string,
): Promise<OperatorStartOutcome> {
  const result = await startForOperator(deps, start, receivedAt, deliveryId);
  await deps.recordStartOutcome(deliveryId, result.outcome, result.sessionId ?? null);
  return result.outcome;
}

async function startForOperator(
  deps: LifecycleDeps,
  start: OperatorStart,
  receivedAt: string,
  deliveryId: string,
): Promise<{ outcome: OperatorStartOutcome; sessionId?: string }> {
  const { operatorConfig } = deps;
  if (start.profile && !Object.hasOwn(operatorConfig.profiles, start.profile))
    return { outcome: 'unknown-profile' };
  if (start.agent && !deps.isAgent(start.agent)) return { outcome: 'unknown-agent' };
  const { owner, repo } = splitRepo(start.repository);
  const app = await deps.octokitFor();
  const installation = await ifFound(app.rest.apps.getRepoInstallation({ owner, repo }));
  if (!installation) return { outcome: 'not-installed' };
  const allowed = operatorConfig.allowedInstallations;
  if (allowed && !allowed.includes(installation.data.id))
    return { outcome: 'installation-not-allowed' };
  const octokit = await deps.octokitFor(installation.data.id);
  const repository = await ifFound(octokit.rest.repos.get({ owner, repo }));
  if (!repository) return { outcome: 'not-installed' };
  const found = await ifFound(
    octokit.rest.issues.get({ owner, repo, issue_number: start.issueNumber }),
  );
  if (!found) return { outcome: 'no-such-issue' };
  const issue = found.data;
  if (issue.pull_request) return { outcome: 'pull-request' };
  if (issue.state === 'closed') return { outcome: 'issue-closed' };
  const repoRef = {
    id: repository.data.id,
    fullName: repository.data.full_name,
    cloneUrl: repository.data.clone_url,
    defaultBranch: repository.data.default_branch,
  };
  const config = await configWithNotice(deps, octokit, repoRef, issue.number);
  const running = await deps.store.liveOnIssue(repoRef.id, issue.number);
  if (running) {
    // A retried start finds the session it created itself before it could say so.
    const own = await deps.store.createdBy(running.id, deliveryId);
    return { outcome: own ? 'session-created' : 'already-running', sessionId: running.id };
  }
  const session = await createSession(deps, octokit, {
    installationId: installation.data.id,
    repo: repoRef,
    sender: { login: API_TRIGGER, type: 'Operator' },
    config,
    issue: {
      number: issue.number,
      title: issue.title,
      body: issue.body ?? '',
      url: issue.html_url,
      ...(issue.user ? { author: { login: issue.user.login, type: issue.user.type } } : {}),
    },
    receivedAt,
    deliveryId,
    profile: start.profile,
    agent: start.agent,
    api: { message: start.message },
  });
  if (session) return { outcome: 'session-created', sessionId: session.id };
  // Not created: another start won the race for the issue, or the repository is at its limit.
  const raced = await deps.store.liveOnIssue(repoRef.id, issue.number);
  return raced ? { outcome: 'already-running', sessionId: raced.id } : { outcome: 'at-limit' };
}

/** The call's response, or null when GitHub answers 404 (or 410: an issue deleted). */
async function ifFound<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 410) return null;
    throw error;
  }
}
