import type { Actor } from '../sessions/intents.js';
import type { Octokit } from './octokit.js';
import { isWriterRole, type Roles, uncachedRoles } from './roles.js';

export type Gate =
  | { allowed: true }
  /** Bots that are not allow-listed (the app itself among them) get no reply at all. */
  | { allowed: false; silent: true; reason: string }
  | { allowed: false; silent: false; reason: string };

export function isBot(actor: Actor): boolean {
  return actor.type === 'Bot' || actor.login.endsWith('[bot]');
}

/** Only people who may write to the repository, and allow-listed bots, may drive agents. */
export async function checkSender(
  octokit: Octokit,
  fullName: string,
  sender: Actor,
  allowedBots: readonly string[],
  roles: Roles = uncachedRoles,
): Promise<Gate> {
  if (isBot(sender)) {
    return allowedBots.includes(sender.login)
      ? { allowed: true }
      : { allowed: false, silent: true, reason: `bot ${sender.login} is not allow-listed` };
  }
  const role = await roles.roleOf(octokit, fullName, sender.login);
  if (isWriterRole(role)) return { allowed: true };
  return {
    allowed: false,
    silent: false,
    reason: role === 'none' ? 'not a collaborator' : `role ${role}`,
  };
}
