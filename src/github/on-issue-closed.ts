import type { IntentOf } from '../sessions/intents.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { checkSender, isBot } from './permissions.js';
import { stopWithoutPr } from './stop-without-pr.js';

/**
 * An issue closed ends its session (one with no pull request yet) when the person who closed it
 * may: the issue's author, or a writer (GitHub itself closes an issue when a pull request that
 * closes it is merged, in the merger's name). Anyone else's close is recorded on the session and
 * changes nothing.
 */
export async function onIssueClosed(
  deps: LifecycleDeps,
  intent: IntentOf<'issue-closed'>,
  deliveryId: string,
): Promise<string> {
  const session = await deps.store.liveOnIssue(intent.repo.id, intent.issueNumber);
  if (!session) return 'no-session';
  const { sender } = intent;
  const author = !isBot(sender) && sender.login === intent.issueAuthor;
  if (!author) {
    const octokit = await deps.octokitFor(intent.installationId);
    const gate = await checkSender(
      octokit,
      intent.repo.fullName,
      sender,
      deps.operatorConfig.allowedBots,
      deps.roles,
    );
    if (!gate.allowed) {
      const reason = `closed by @${sender.login} (${gate.reason}), who may not end the session`;
      await deps.sessions.record(
        session.id,
        'ignored',
        { key: 'issue-closed', reason },
        { deliveryId },
      );
      return `ignored: ${gate.reason}`;
    }
  }
  return stopWithoutPr(deps, intent.repo.id, intent.issueNumber, {
    reason: `issue closed by @${sender.login}`,
    by: sender.login,
  });
}
