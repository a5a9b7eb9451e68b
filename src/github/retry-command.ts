import { type CommandContext, replyNoSession, sessionRequest } from './command-context.js';
import { createSession } from './create-session.js';
import { reply } from './replies.js';

/**
 * `/agent retry`: a session that needs a human runs again (spawned anew, or asked to carry on);
 * an issue whose session ended gets a new one with the same profile.
 */
export async function retryCommand(c: CommandContext): Promise<string> {
  const { deps, octokit, intent, session } = c;
  if (!session) {
    const last = await deps.store.latestOnIssue(intent.repo.id, intent.issueNumber);
    if (!last) return replyNoSession(c);
    const created = await createSession(
      deps,
      octokit,
      sessionRequest(c, { profile: last.profile ?? undefined }),
    );
    return created ? 'respawned' : 'not-created';
  }
  if (session.status !== 'needs_human') {
    await reply(
      octokit,
      intent.repo.fullName,
      intent.issueNumber,
      `The session is ${session.status}; there is nothing to retry.`,
    );
    return 'nothing-to-retry';
  }
  await deps.sessions.apply(
    session.id,
    { type: 'retry', by: intent.sender.login },
    { deliveryId: c.deliveryId },
  );
  return 'retrying';
}
