import { type CommandContext, sessionRequest } from './command-context.js';
import { createSession } from './create-session.js';
import { splitRepo } from './octokit.js';
import { reply } from './replies.js';

/**
 * `/agent <text>` on a pull request no session made: a session on its branch, if the branch is
 * in this repository. Fork pull requests are never checked out.
 */
export async function startOnPullRequest(c: CommandContext): Promise<string> {
  const { deps, octokit, intent } = c;
  const { owner, repo } = splitRepo(intent.repo.fullName);
  const { data: pr } = await octokit.rest.pulls.get({
    owner,
    repo,
    pull_number: intent.issueNumber,
  });
  if (!pr.head.repo || pr.head.repo.full_name !== pr.base.repo.full_name) {
    await reply(
      octokit,
      intent.repo.fullName,
      intent.issueNumber,
      'I only work on pull requests whose branch is in this repository, not on forks.',
    );
    return 'refused: fork';
  }
  const created = await createSession(
    deps,
    octokit,
    sessionRequest(c, {
      pullRequest: { branch: pr.head.ref, baseBranch: pr.base.ref, number: pr.number },
    }),
  );
  return created ? 'session-created-on-pr' : 'not-created';
}
