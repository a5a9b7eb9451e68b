import type { Octokit } from './octokit.js';
import { splitRepo } from './octokit.js';

/** A comment from the app on an issue or pull request. */
export async function reply(
  octokit: Octokit,
  fullName: string,
  issueNumber: number,
  body: string,
): Promise<void> {
  const { owner, repo } = splitRepo(fullName);
  await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
}

/** The 👀 reaction that says a command was accepted. */
export async function eyes(octokit: Octokit, fullName: string, commentId: number): Promise<void> {
  const { owner, repo } = splitRepo(fullName);
  await octokit.rest.reactions.createForIssueComment({
    owner,
    repo,
    comment_id: commentId,
    content: 'eyes',
  });
}

export const NO_SESSION = 'There is no agent session running here.';

export function refusal(login: string): string {
  return `Sorry @${login}, only people with write access to this repository can start or instruct the agent.`;
}
