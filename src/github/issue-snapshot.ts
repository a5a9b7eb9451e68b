import type { Actor } from '../sessions/intents.js';
import type { IssueSnapshot, SnapshotComment } from '../sessions/session-context.js';
import { visibleMarkdown } from '../shared/visible-text.js';
import { COMMENT_CAP, withinCap } from './comment-cap.js';
import type { Octokit } from './octokit.js';
import { splitRepo } from './octokit.js';
import { isBot } from './permissions.js';
import { isWriterRole, type Role, type Roles } from './roles.js';

/** At most this many commenters are asked for their role; the rest are read as not writers. */
const MAX_ROLE_LOOKUPS = 100;

export interface SnapshotRequest {
  repoFullName: string;
  issue: { number: number; title: string; body: string; url: string; author?: Actor | undefined };
  /** When the trigger reached the app: comments made after its second are not the task. */
  receivedAt: string;
  /** Who triggered the session. */
  sender: Actor;
  /** The `/agent` comment that triggered it, as the webhook had it (a later edit is not the task). */
  trigger?: { commentId: number; body: string } | undefined;
  /** An operator's message through the API: trusted, like a writer's. */
  apiMessage?: { author: string; body: string } | undefined;
}

type Candidate = SnapshotComment & { createdAt: string; trusted: boolean; pinned: boolean };

/**
 * The issue as of the trigger, with the provenance of every text: the comments made by then (the
 * trigger's own second included) that nobody edited since, each with its author's role and
 * whether it is the task (a writer's) or material to quote; bots' comments left out, hidden
 * markdown removed; within COMMENT_CAP. What was left out, and why, is recorded for the prompt.
 */
export async function takeIssueSnapshot(
  deps: { roles: Roles },
  octokit: Octokit,
  request: SnapshotRequest,
): Promise<IssueSnapshot> {
  const { owner, repo } = splitRepo(request.repoFullName);
  const listed = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: request.issue.number,
    per_page: 100,
  });
  // GitHub's timestamps are whole seconds; receivedAt has milliseconds.
  const cutoff = Math.floor(Date.parse(request.receivedAt) / 1000) * 1000 + 999;
  const { trigger } = request;
  const taken: { author: Actor; body: string; createdAt: string; pinned: boolean }[] = [];
  const edited: { author: string; createdAt: string }[] = [];
  for (const c of listed) {
    const author = { login: c.user?.login ?? 'ghost', type: c.user?.type ?? 'User' };
    if (c.id === trigger?.commentId) {
      taken.push({ author, body: trigger.body, createdAt: c.created_at, pinned: true });
    } else if (Date.parse(c.created_at) > cutoff || isBot(author)) {
      // Not yet written at the trigger, or a bot's (the app's own among them).
    } else if (Date.parse(c.updated_at) > cutoff) {
      edited.push({ author: author.login, createdAt: c.created_at });
    } else {
      taken.push({ author, body: c.body ?? '', createdAt: c.created_at, pinned: false });
    }
  }
  if (trigger && !listed.some((c) => c.id === trigger.commentId))
    taken.push({
      author: request.sender,
      body: trigger.body,
      createdAt: request.receivedAt,
      pinned: true,
    });

  const roleOf = await rolesOf(deps.roles, octokit, request.repoFullName, [
    ...taken.filter((c) => c.pinned).map((c) => c.author),
    ...(request.issue.author ? [request.issue.author] : []),
    ...taken.map((c) => c.author).reverse(),
  ]);
  const candidates: Candidate[] = [];
  for (const c of taken) {
    const body = visibleMarkdown(c.body);
    if (!body) continue;
    const role = roleOf(c.author);
    candidates.push({
      author: c.author.login,
      body,
      createdAt: c.createdAt,
      role,
      trusted: isTrustedRole(c.author, role),
      pinned: c.pinned,
    });
  }
  if (request.apiMessage) {
    const { author, body } = request.apiMessage;
    const visible = visibleMarkdown(body);
    if (visible) {
      const at = request.receivedAt;
      candidates.push({
        author,
        body: visible,
        createdAt: at,
        role: 'operator',
        trusted: true,
        pinned: true,
      });
    }
  }
  const { kept, overCap } = withinCap(candidates);
  const { author: issueAuthor, ...issue } = request.issue;
  let author: IssueSnapshot['author'];
  if (issueAuthor) {
    const role = roleOf(issueAuthor);
    author = { login: issueAuthor.login, role, trusted: isTrustedRole(issueAuthor, role) };
  }
  return {
    repository: request.repoFullName,
    ...issue,
    ...(author ? { author } : {}),
    comments: kept.map(({ pinned: _, ...c }) => c),
    omitted: { edited, overCap, cap: { ...COMMENT_CAP } },
  };
}

/** Bots are never the task, whoever allow-listed them; people are when they may write. */
const isTrustedRole = (actor: Actor, role: Role) => !isBot(actor) && isWriterRole(role);

/**
 * Each person's role, asked once per snapshot (`roles` remembers them for a while too), for the
 * first MAX_ROLE_LOOKUPS people in the order given; bots are `bot` without asking, and anyone
 * past the limit is `unknown`, so not a writer.
 */
async function rolesOf(roles: Roles, octokit: Octokit, fullName: string, people: Actor[]) {
  const logins = [...new Set(people.filter((p) => !isBot(p)).map((p) => p.login))];
  const known = new Map<string, Role>();
  for (const login of logins.slice(0, MAX_ROLE_LOOKUPS))
    known.set(login, await roles.roleOf(octokit, fullName, login));
  return (actor: Actor): Role => (isBot(actor) ? 'bot' : (known.get(actor.login) ?? 'unknown'));
}
