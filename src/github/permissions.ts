import type { Actor } from '../sessions/intents.js';
import type { Octokit } from './octokit.js';
import { splitRepo } from './octokit.js';

const WRITERS = new Set(['write', 'maintain', 'admin']);

export type Gate =
  | { allowed: true }
  /** Bots that are not allow-listed (the app itself among them) get no reply at all. */
  | { allowed: false; silent: true; reason: string }
  | { allowed: false; silent: false; reason: string };

/** Only people who may write to the repository, and allow-listed bots, may drive agents. */
export async function checkSender(
  octokit: Octokit,
  fullName: string,
  sender: Actor,
  allowedBots: readonly string[],
): Promise<Gate> {
  if (sender.type === 'Bot' || sender.login.endsWith('[bot]')) {
    return allowedBots.includes(sender.login)
      ? { allowed: true }
      : { allowed: false, silent: true, reason: `bot ${sender.login} is not allow-listed` };
  }
  const { owner, repo } = splitRepo(fullName);
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
      owner,
      repo,
      username: sender.login,
    });
    const role = (data as { role_name?: string }).role_name ?? data.permission;
    if (WRITERS.has(role)) return { allowed: true };
    return { allowed: false, silent: false, reason: `role ${role}` };
  } catch (error) {
    if ((error as { status?: number }).status === 404) {
      return { allowed: false, silent: false, reason: 'not a collaborator' };
    }
    throw error;
  }
}
