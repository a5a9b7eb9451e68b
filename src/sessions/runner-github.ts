/**
 * What the runner asks of GitHub: the contract between runner/ (which calls it) and github/
 * (whose installation client implements it with Probot); tests use a local GitHub.
 */
export interface RunnerGitHub {
  /** A short-lived token for git over HTTPS; never given to the agent. */
  installationToken(installationId: number): Promise<string>;
  findPullRequest(input: {
    installationId: number;
    repository: string;
    branch: string;
  }): Promise<{ number: number; url: string } | null>;
  openPullRequest(input: {
    installationId: number;
    repository: string;
    branch: string;
    base: string;
    title: string;
    body: string;
    draft: boolean;
  }): Promise<{ number: number; url: string }>;
  commentOnIssue(input: {
    installationId: number;
    repository: string;
    issueNumber: number;
    body: string;
  }): Promise<void>;
}
