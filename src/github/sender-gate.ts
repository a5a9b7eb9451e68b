import type { Actor, RepoRef } from '../sessions/intents.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import type { Octokit } from './octokit.js';
import { checkSender } from './permissions.js';
import { refusal, reply } from './replies.js';

/**
 * The permission gate: only writers and allow-listed bots drive agents. A refused person gets one
 * short reply (a bot nothing). Returns the refusal as an outcome, or null when allowed.
 */
export async function gateOrRefuse(
  deps: Pick<LifecycleDeps, 'operatorConfig' | 'roles'>,
  octokit: Octokit,
  intent: { repo: RepoRef; sender: Actor },
  issueNumber: number,
): Promise<string | null> {
  const gate = await checkSender(
    octokit,
    intent.repo.fullName,
    intent.sender,
    deps.operatorConfig.allowedBots,
    deps.roles,
  );
  if (gate.allowed) return null;
  if (!gate.silent)
    await reply(octokit, intent.repo.fullName, issueNumber, refusal(intent.sender.login));
  return `refused: ${gate.reason}`;
}
