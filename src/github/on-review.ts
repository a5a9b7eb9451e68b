import type { IntentOf } from '../sessions/intents.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { splitRepo } from './octokit.js';
import { checkSender } from './permissions.js';
import { react } from './react.js';
import { reactWhenApprovedAndGreen } from './react-when-approved.js';
import { buildReviewReport } from './review-report.js';

/**
 * A writer's review of a session's pull request: changes requested go to the agent with the
 * inline comments; an approval may make it approved-and-green. Anyone else's review is recorded
 * on the session and changes nothing.
 */
export async function onReview(
  deps: LifecycleDeps,
  intent: IntentOf<'review'>,
  deliveryId: string,
): Promise<string> {
  const session = await deps.store.liveOnPullRequest(intent.repo.id, intent.prNumber);
  if (!session) return 'no-session';
  if (intent.state !== 'changes_requested' && intent.state !== 'approved') return 'not-acted-on';
  const octokit = await deps.octokitFor(intent.installationId);
  const gate = await checkSender(
    octokit,
    intent.repo.fullName,
    intent.sender,
    deps.operatorConfig.allowedBots,
    deps.roles,
  );
  if (!gate.allowed) {
    // Recorded on the session's timeline, so a maintainer sees whose review did not count.
    await deps.sessions.record(
      session.id,
      'ignored',
      {
        key: intent.state === 'approved' ? 'approved-and-green' : 'changes-requested',
        reason: `review by @${intent.sender.login}, who may not steer the agent (${gate.reason})`,
      },
      { deliveryId },
    );
    return `ignored: reviewer ${gate.reason}`;
  }
  if (intent.state === 'approved')
    return reactWhenApprovedAndGreen(deps, octokit, session, deliveryId);
  const { owner, repo } = splitRepo(intent.repo.fullName);
  await react(deps, session, {
    key: 'changes-requested',
    headSha: intent.headSha,
    deliveryId,
    message: async () => {
      const report = await buildReviewReport(octokit, {
        owner,
        repo,
        prNumber: intent.prNumber,
        reviewId: intent.reviewId,
      });
      return `@${intent.sender.login} requested changes on the pull request:\n\n${report.text}`;
    },
  });
  return 'changes-requested';
}
