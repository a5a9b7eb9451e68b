import { configOf } from '../sessions/session-context.js';
import {
  type CommandContext,
  type CommentIntent,
  replyNoSession,
  sessionRequest,
} from './command-context.js';
import { type Command, helpText, parseCommand } from './commands.js';
import { configWithNotice } from './config-with-notice.js';
import { createSession } from './create-session.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { isBot } from './permissions.js';
import { eyes, reply } from './replies.js';
import { retryCommand } from './retry-command.js';
import { gateOrRefuse } from './sender-gate.js';
import { startOnPullRequest } from './start-on-pull-request.js';
import { renderStatusComment } from './status-comment.js';

/**
 * `/agent ...` in an issue or pull request comment, from a writer: an 👀 on the comment, then the
 * command. Anything else is not a command; a refused sender gets one reply.
 */
export async function onComment(
  deps: LifecycleDeps,
  intent: CommentIntent,
  receivedAt: string,
  deliveryId: string,
): Promise<string> {
  const octokit = await deps.octokitFor(intent.installationId);
  const config = await configWithNotice(deps, octokit, intent.repo, intent.issueNumber);
  const command = parseCommand(intent.body, config.command);
  if (!command) return 'not-a-command';
  const refused = await gateOrRefuse(deps, octokit, intent, intent.issueNumber);
  if (refused) return refused;
  const say = (body: string) => reply(octokit, intent.repo.fullName, intent.issueNumber, body);
  if (command.name === 'unknown') {
    await say(`I don't know the command \`${command.word}\`.\n\n${helpText(config.command)}`);
    return 'unknown-command';
  }
  await eyes(octokit, intent.repo.fullName, intent.commentId);
  let session =
    (intent.isPullRequest
      ? await deps.store.liveOnPullRequest(intent.repo.id, intent.issueNumber)
      : undefined) ?? (await deps.store.liveOnIssue(intent.repo.id, intent.issueNumber));
  // A human's command starts the reaction counts over.
  if (session && Object.keys(session.reactionAttempts).length > 0) {
    session = (
      await deps.sessions.apply(session.id, { type: 'human-command', by: intent.sender.login })
    ).session;
  }
  return runCommand(command, { deps, octokit, intent, config, session, receivedAt, deliveryId });
}

async function runCommand(
  command: Exclude<Command, { name: 'unknown' }>,
  c: CommandContext,
): Promise<string> {
  const { deps, octokit, intent, session } = c;
  const say = (body: string) => reply(octokit, intent.repo.fullName, intent.issueNumber, body);
  switch (command.name) {
    case 'help':
      await say(helpText(c.config.command));
      return 'help';
    case 'send':
      return send(c, command.text);
    case 'stop': {
      if (!session) return replyNoSession(c);
      await deps.sessions.apply(session.id, {
        type: 'stop-requested',
        status: 'stopped',
        reason: `stopped by @${intent.sender.login}`,
        cleanup: true,
        by: intent.sender.login,
      });
      return 'stop-requested';
    }
    case 'status': {
      if (!session) return replyNoSession(c);
      const status = renderStatusComment(session, {
        config: configOf(session),
        dashboardUrl: deps.publicUrl,
      });
      await say(status.replace(/^<!--.*-->\n/, ''));
      return 'status';
    }
    case 'retry':
      return retryCommand(c);
  }
}

/** The text goes to the running agent, or starts a session on the issue or pull request. */
async function send(c: CommandContext, text: string): Promise<string> {
  const { deps, intent, session } = c;
  if (session) {
    await deps.sessions.apply(
      session.id,
      // An allow-listed bot's message counts against the session's automated messages.
      { type: 'message', body: text, source: intent.sender.login, automated: isBot(intent.sender) },
      { deliveryId: c.deliveryId },
    );
    return 'message-queued';
  }
  if (intent.isPullRequest) return startOnPullRequest(c);
  const created = await createSession(deps, c.octokit, sessionRequest(c));
  return created ? 'session-created' : 'not-created';
}
