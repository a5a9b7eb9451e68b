import type { ProbotOctokit } from 'probot';

/** An installation's authenticated Octokit (Probot's, with throttling and retries). */
export type Octokit = InstanceType<typeof ProbotOctokit>;

export function splitRepo(fullName: string): { owner: string; repo: string } {
  const [owner, repo] = fullName.split('/');
  if (!owner || !repo) throw new Error(`not an owner/name repository: ${fullName}`);
  return { owner, repo };
}
