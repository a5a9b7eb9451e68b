/**
 * Names that reach the filesystem, git or tmux. Everything derived from an issue goes through
 * here, so no title can escape a folder, inject a git option or confuse tmux.
 */

export class UnsafeNameError extends Error {
  override name = 'UnsafeNameError';
}

const SESSION_ID = /^s-[a-z0-9]{6,40}$/;

/** Session ids are ours: `s-` and lowercase base36. */
export function assertSessionId(id: string): string {
  if (!SESSION_ID.test(id)) throw new UnsafeNameError(`invalid session id: ${JSON.stringify(id)}`);
  return id;
}

/** A short, readable, safe slug of an issue title: lowercase ascii words joined by dashes. */
export function slugify(title: string, maxLength = 40): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLength)
    .replace(/-+$/g, '');
  return slug || 'issue';
}

const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,40}$/;

/** `<prefix><issue>-<slug>`, checked against git's ref rules and our own stricter ones. */
export function branchName(prefix: string, issueNumber: number, title: string): string {
  if (!Number.isSafeInteger(issueNumber) || issueNumber <= 0) {
    throw new UnsafeNameError(`invalid issue number: ${issueNumber}`);
  }
  return assertBranchName(`${prefix}${issueNumber}-${slugify(title)}`, prefix);
}

/** Throws unless the branch is safe to pass to git as an argument and as a ref. */
export function assertBranchName(branch: string, prefix = ''): string {
  if (prefix && !PREFIX.test(prefix))
    throw new UnsafeNameError(`invalid branch prefix: ${JSON.stringify(prefix)}`);
  const bad =
    branch.length === 0 ||
    branch.length > 200 ||
    branch.startsWith('-') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.endsWith('.') ||
    branch.endsWith('.lock') ||
    branch.includes('..') ||
    branch.includes('//') ||
    branch.includes('@{') ||
    branch.split('/').some((part) => part.startsWith('.')) ||
    !/^[A-Za-z0-9._/-]+$/.test(branch);
  if (bad) throw new UnsafeNameError(`invalid branch name: ${JSON.stringify(branch)}`);
  return branch;
}

/** Repository folder name for its mirror: the numeric id, never the (renamable) full name. */
export function mirrorName(repositoryId: number): string {
  if (!Number.isSafeInteger(repositoryId) || repositoryId <= 0) {
    throw new UnsafeNameError(`invalid repository id: ${repositoryId}`);
  }
  return `${repositoryId}.git`;
}

/** tmux window name for a session: the id itself, which is already tmux-safe. */
export function tmuxWindowName(sessionId: string): string {
  return assertSessionId(sessionId);
}
