import type { Session } from '../db/schema.js';
import type { IntentOf } from '../sessions/intents.js';
import type { RepoConfig } from '../sessions/repo-config.js';
import type { NewSessionRequest } from './create-session.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import type { Octokit } from './octokit.js';
import { NO_SESSION, reply } from './replies.js';

export type CommentIntent = IntentOf<'comment'>;

/** What every `/agent` command is handled with. */
export interface CommandContext {
  deps: LifecycleDeps;
  octokit: Octokit;
  intent: CommentIntent;
  config: RepoConfig;
  /** The live session of the pull request or issue, if there is one. */
  session: Session | undefined;
  receivedAt: string;
  deliveryId: string;
}

/** A new session on the comment's issue or pull request, started by the commenter. */
export function sessionRequest(
  c: CommandContext,
  extra: Partial<Pick<NewSessionRequest, 'profile' | 'pullRequest'>> = {},
): NewSessionRequest {
  const { intent } = c;
  return {
    installationId: intent.installationId,
    repo: intent.repo,
    sender: intent.sender,
    config: c.config,
    issue: { number: intent.issueNumber, ...intent.issue },
    receivedAt: c.receivedAt,
    trigger: { commentId: intent.commentId, body: intent.body },
    deliveryId: c.deliveryId,
    ...extra,
  };
}

/** Says so on the issue when a command needs a session and there is none. */
export async function replyNoSession(c: CommandContext): Promise<string> {
  await reply(c.octokit, c.intent.repo.fullName, c.intent.issueNumber, NO_SESSION);
  return 'no-session';
}
