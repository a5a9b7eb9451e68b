import { DEFAULT_REPO_CONFIG, type RepoConfig, repoConfigSchema } from '../sessions/repo-config.js';
import type { Octokit } from './octokit.js';
import { splitRepo } from './octokit.js';

export const REPO_CONFIG_PATH = '.github/agent.yml';

export interface LoadedRepoConfig {
  config: RepoConfig;
  /** Set when the file is invalid: what is wrong, naming the field; the defaults apply. */
  problem?: string;
}

/**
 * `.github/agent.yml` from the default branch, through Probot's config plugin (the same reader as
 * `context.config`, with `_extends` support), validated with zod. A bad file never throws; GitHub
 * failing to answer does.
 */
export async function loadRepoConfig(
  octokit: Octokit,
  fullName: string,
): Promise<LoadedRepoConfig> {
  const { owner, repo } = splitRepo(fullName);
  let raw: unknown;
  try {
    const { config } = await octokit.config.get({ owner, repo, path: REPO_CONFIG_PATH });
    raw = config;
  } catch (error) {
    // GitHub failing (5xx, or no answer at all: Octokit says 500) is no fault of the file, and
    // the defaults would act on a config the repository may not have: the job tries again.
    if (((error as { status?: number }).status ?? 0) >= 500) throw error;
    return {
      config: DEFAULT_REPO_CONFIG,
      problem: `could not be read: ${(error as Error).message}`,
    };
  }
  const parsed = repoConfigSchema.safeParse(raw ?? {});
  if (parsed.success) return { config: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || '(top level)';
  return { config: DEFAULT_REPO_CONFIG, problem: `\`${field}\`: ${issue.message}` };
}
