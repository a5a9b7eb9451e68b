import type { Session } from '../db/schema.js';
import { configOf, contextOf } from '../sessions/session-context.js';
import { pullRequestBody } from './pull-request-body.js';
import type { RunnerDeps } from './runner-deps.js';
import { withGitToken } from './with-git-token.js';

export interface PushedWork {
  headSha?: string | undefined;
  /** The pull request opened (or found) for a session that had none. */
  prNumber?: number | undefined;
  /** Why the work could not be pushed; the session then needs a human. */
  failure?: string | undefined;
}

/**
 * After a turn: commits what the agent left uncommitted, pushes the branch with a token minted
 * for that push and revoked after it, and opens the pull request the first time there is something to show.
 */
export async function pushTurnWork(
  deps: Pick<RunnerDeps, 'workspaces' | 'github' | 'githubHost' | 'sessions' | 'log'>,
  session: Session,
  turn: { number: number; summary?: string | undefined },
): Promise<PushedWork> {
  const { workspaces, github, sessions } = deps;
  const work: PushedWork = {};
  try {
    const committed = await workspaces.commitAll({
      sessionId: session.id,
      message: `Agent Orchestrator: changes left uncommitted after turn ${turn.number}\n\nSession ${session.id}, issue #${session.issueNumber}.`,
    });
    if (committed) await sessions.record(session.id, 'committed-leftovers', { sha: committed });
    const context = contextOf(session);
    work.headSha = await workspaces.headSha(session.id);
    if (work.headSha === context.baseSha) {
      await sessions.record(session.id, 'no-changes', { turn: turn.number });
      return work;
    }
    const pushed = await withGitToken(deps, session, 'write', (repo, auth) =>
      workspaces.push({ sessionId: session.id, repo, branch: session.branch!, auth }),
    );
    if (pushed.pushed)
      await sessions.record(session.id, 'pushed', { sha: pushed.headSha, branch: session.branch });
    if (session.prNumber || !session.installationId) return work;
    const where = {
      installationId: session.installationId,
      repository: session.repositoryFullName,
      branch: session.branch!,
    };
    const pr =
      (await github.findPullRequest(where)) ??
      (await github.openPullRequest({
        ...where,
        base: session.baseBranch!,
        title: context.issue?.title ?? `Agent work on #${session.issueNumber}`,
        body: pullRequestBody(session, turn.summary),
        draft: configOf(session).draft,
      }));
    work.prNumber = pr.number;
    await sessions.record(session.id, 'pr-opened', { number: pr.number, url: pr.url });
  } catch (error) {
    deps.log.error({ err: error, sessionId: session.id }, 'pushing the turn failed');
    work.failure = `pushing turn ${turn.number} failed: ${(error as Error).message}`;
  }
  return work;
}
