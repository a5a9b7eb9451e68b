import type { Probot } from 'probot';
import type { RunnerGitHub } from '../sessions/runner-github.js';
import { splitRepo } from './octokit.js';

/** The runner's GitHub calls, made as the app's installation (Probot caches its tokens). */
export function createInstallationClient(probot: Probot): RunnerGitHub {
  return {
    async installationToken(installationId) {
      const octokit = await probot.auth(installationId);
      const { token } = (await octokit.auth({ type: 'installation' })) as { token: string };
      return token;
    },
    async findPullRequest({ installationId, repository, branch }) {
      const octokit = await probot.auth(installationId);
      const { owner, repo } = splitRepo(repository);
      const { data } = await octokit.rest.pulls.list({
        owner,
        repo,
        head: `${owner}:${branch}`,
        state: 'open',
      });
      const pr = data[0];
      return pr ? { number: pr.number, url: pr.html_url } : null;
    },
    async openPullRequest({ installationId, repository, branch, base, title, body, draft }) {
      const octokit = await probot.auth(installationId);
      const { owner, repo } = splitRepo(repository);
      const { data } = await octokit.rest.pulls.create({
        owner,
        repo,
        head: branch,
        base,
        title,
        body,
        draft,
      });
      return { number: data.number, url: data.html_url };
    },
    async commentOnIssue({ installationId, repository, issueNumber, body }) {
      const octokit = await probot.auth(installationId);
      const { owner, repo } = splitRepo(repository);
      await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
    },
  };
}
