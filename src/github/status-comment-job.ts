import { defineJob } from '../jobs/define-job.js';
import { RetryLaterError } from '../jobs/worker.js';
import { sessionJobPayload } from '../sessions/job-kinds.js';
import { configOf } from '../sessions/session-context.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { splitRepo } from './octokit.js';
import { renderStatusComment } from './status-comment.js';

/** Brings the session's one status comment up to date: created once, then edited in place. */
export function statusCommentJob(deps: LifecycleDeps) {
  return defineJob(sessionJobPayload, async ({ sessionId }) => {
    const session = await deps.store.find(sessionId);
    if (!session?.installationId) return;
    const octokit = await deps.octokitFor(session.installationId);
    const { owner, repo } = splitRepo(session.repositoryFullName);
    const body = renderStatusComment(session, {
      config: configOf(session),
      lastReaction: await deps.store.lastReaction(sessionId),
      dashboardUrl: deps.publicUrl,
      deadJob: await deps.store.deadJobSince(session),
    });
    if (session.statusCommentId && session.statusCommentId > 0) {
      await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: session.statusCommentId,
        body,
      });
      return;
    }
    if (!(await deps.sessions.claimStatusComment(sessionId)))
      throw new RetryLaterError('the status comment is being created by another job');
    try {
      const { data } = await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: session.issueNumber,
        body,
      });
      await deps.sessions.setStatusComment(sessionId, data.id);
    } catch (error) {
      await deps.sessions.setStatusComment(sessionId, null);
      throw error;
    }
  });
}
