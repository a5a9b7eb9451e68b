import type { Probot } from 'probot';
import type { RunnerGitHub } from '../sessions/runner-github.js';
import { type Octokit, splitRepo } from './octokit.js';

/**
 * The runner's GitHub calls, made as the app's installation (Probot caches its tokens), except
 * git's tokens: each minted for one repository and one operation, then revoked.
 */
export function createInstallationClient(probot: Probot): RunnerGitHub {
  return {
    async gitToken({ installationId, repositoryId, access }) {
      // Minted as the app (its JWT), so the token is new and has nothing beyond what is asked.
      const app = await probot.auth();
      const { data } = await app.rest.apps.createInstallationAccessToken({
        installation_id: installationId,
        repository_ids: [repositoryId],
        permissions: { contents: access },
      });
      const [repository, ...others] = data.repositories ?? [];
      if (!repository || others.length > 0 || repository.id !== repositoryId) {
        throw new Error(
          `GitHub minted a git token for installation ${installationId} that is not for repository ${repositoryId} alone`,
        );
      }
      return {
        token: data.token,
        fullName: repository.full_name,
        async revoke() {
          // Authenticated with the token itself: DELETE /installation/token ends the one it carries.
          const TokenOctokit = app.constructor as new (options: {
            auth: { token: string; installationId: number };
          }) => Octokit;
          const octokit = new TokenOctokit({ auth: { token: data.token, installationId } });
          await octokit.rest.apps.revokeInstallationAccessToken();
        },
      };
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
