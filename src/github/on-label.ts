import type { IntentOf } from '../sessions/intents.js';
import { configWithNotice } from './config-with-notice.js';
import { createSession } from './create-session.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { reply } from './replies.js';
import { gateOrRefuse } from './sender-gate.js';
import { stopWithoutPr } from './stop-without-pr.js';

const PROFILE_LABEL = 'agent:';

/**
 * The trigger label (or `agent:<profile>`) added by a writer starts a session on the issue;
 * removed by a writer, it stops one that has no pull request yet.
 */
export async function onLabel(
  deps: LifecycleDeps,
  intent: IntentOf<'label-added' | 'label-removed'>,
  receivedAt: string,
  deliveryId: string,
): Promise<string> {
  const octokit = await deps.octokitFor(intent.installationId);
  const config = await configWithNotice(deps, octokit, intent.repo, intent.issue.number);
  const profile = intent.label.startsWith(PROFILE_LABEL)
    ? intent.label.slice(PROFILE_LABEL.length)
    : undefined;
  if (intent.label !== config.label && !profile) return 'ignored';
  // Adding the label starts a session and removing it stops one: either needs a writer.
  const refused = await gateOrRefuse(deps, octokit, intent, intent.issue.number);
  if (refused) return refused;
  if (intent.kind === 'label-removed') {
    return stopWithoutPr(deps, intent.repo.id, intent.issue.number, {
      reason: `trigger label removed by @${intent.sender.login}`,
      by: intent.sender.login,
    });
  }
  if (profile && !deps.operatorConfig.profiles[profile]) {
    await reply(
      octokit,
      intent.repo.fullName,
      intent.issue.number,
      `There is no agent profile named \`${profile}\` on this installation.`,
    );
    return 'unknown-profile';
  }
  if (await deps.store.liveOnIssue(intent.repo.id, intent.issue.number)) return 'already-running';
  const session = await createSession(deps, octokit, {
    installationId: intent.installationId,
    repo: intent.repo,
    sender: intent.sender,
    config,
    issue: intent.issue,
    receivedAt,
    deliveryId,
    profile,
  });
  return session ? 'session-created' : 'not-created';
}
