/** What a git token may do: `read` fetches, `write` pushes too (GitHub's `contents` permission). */
export type GitAccess = 'read' | 'write';

/** An installation token for one git operation on one repository; never given to the agent. */
export interface GitToken {
  token: string;
  /** `owner/name` as GitHub answered when minting the token: the remote URL is built from it. */
  fullName: string;
  /** Ends the token on GitHub (`DELETE /installation/token`); it authenticates nothing after. */
  revoke(): Promise<void>;
}

/**
 * What the runner asks of GitHub: the contract between runner/ (which calls it) and github/
 * (whose installation client implements it with Probot); tests use a local GitHub.
 */
export interface RunnerGitHub {
  /** A token minted as the app for this repository alone, with `contents` at this access. */
  gitToken(input: {
    installationId: number;
    repositoryId: number;
    access: GitAccess;
  }): Promise<GitToken>;
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
