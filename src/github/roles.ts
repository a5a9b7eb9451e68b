import type { Octokit } from './octokit.js';
import { splitRepo } from './octokit.js';

/** The roles that may drive agents: trigger, steer, approve for auto-merge, stop. */
const WRITERS = new Set(['write', 'maintain', 'admin']);

/** A collaborator's role on a repository, or `none` for someone who is not one. */
export type Role = string;

export function isWriterRole(role: Role): boolean {
  return WRITERS.has(role);
}

export interface Roles {
  /** The user's role on the repository (`role_name`, e.g. admin, maintain, write, triage, read). */
  roleOf(octokit: Octokit, fullName: string, login: string): Promise<Role>;
}

/**
 * Roles asked of GitHub (`GET /repos/{o}/{r}/collaborators/{u}/permission`), remembered per
 * repository and user for a short while: a review check or a prompt with many commenters asks
 * once per person. A role taken away takes effect within the time it is remembered.
 */
export function createRoles({
  ttlMs = 60_000,
  maxEntries = 10_000,
  now = Date.now,
}: {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
} = {}): Roles {
  const known = new Map<string, { role: Role; until: number }>();
  return {
    async roleOf(octokit, fullName, login) {
      const key = `${fullName.toLowerCase()}\n${login.toLowerCase()}`;
      const hit = known.get(key);
      if (hit && hit.until > now()) return hit.role;
      const role = await askRole(octokit, fullName, login);
      if (known.size >= maxEntries) known.delete(known.keys().next().value!);
      known.set(key, { role, until: now() + ttlMs });
      return role;
    },
  };
}

/** Asks GitHub every time: for one-off checks and tests. */
export const uncachedRoles: Roles = { roleOf: askRole };

async function askRole(octokit: Octokit, fullName: string, login: string): Promise<Role> {
  const { owner, repo } = splitRepo(fullName);
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
      owner,
      repo,
      username: login,
    });
    return (data as { role_name?: string }).role_name ?? data.permission;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return 'none';
    throw error;
  }
}
