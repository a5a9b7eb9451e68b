import type { RepoRef } from '../sessions/intents.js';
import type { RepoConfig } from '../sessions/repo-config.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import type { Octokit } from './octokit.js';
import { reply } from './replies.js';
import { loadRepoConfig, REPO_CONFIG_PATH } from './repo-config-loader.js';

/**
 * The repository's `.github/agent.yml`. A broken file is said once per repository and problem,
 * on the issue of the first delivery to see it, and the defaults apply.
 */
export async function configWithNotice(
  deps: Pick<LifecycleDeps, 'firstNotice' | 'log'>,
  octokit: Octokit,
  repo: RepoRef,
  issueNumber: number | null,
): Promise<RepoConfig> {
  const { config, problem } = await loadRepoConfig(octokit, repo.fullName);
  if (problem && issueNumber && (await deps.firstNotice(`config-problem:${repo.id}:${problem}`))) {
    await reply(
      octokit,
      repo.fullName,
      issueNumber,
      `\`${REPO_CONFIG_PATH}\` is not valid: ${problem}. I'm using the defaults until it is fixed.`,
    );
    deps.log.warn({ repository: repo.fullName, problem }, 'invalid repository config');
  }
  return config;
}
