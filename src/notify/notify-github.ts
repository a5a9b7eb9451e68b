/** The one GitHub call a notification makes (an installation's Octokit has it). */
export interface IssueCommenter {
  rest: {
    issues: {
      createComment(params: {
        owner: string;
        repo: string;
        issue_number: number;
        body: string;
      }): Promise<{ data: { id: number; html_url: string } }>;
    };
  };
}

export interface GitHubNotification {
  owner: string;
  repo: string;
  /** The issue or pull request to comment on. */
  issueNumber: number;
  /** Logins or `org/team` slugs, with or without `@`. */
  mentions: string[];
  text: string;
}

/**
 * Comments once on the issue or pull request, mentioning each person or team once. Throws the
 * Octokit error on failure, so the delivering job retries.
 */
export async function notifyGitHub(
  octokit: IssueCommenter,
  { owner, repo, issueNumber, mentions, text }: GitHubNotification,
): Promise<{ commentId: number; url: string }> {
  const line = mentionLine(mentions);
  const { data } = await octokit.rest.issues.createComment({
    owner,
    repo,
    issue_number: issueNumber,
    body: line ? `${line}\n\n${text}` : text,
  });
  return { commentId: data.id, url: data.html_url };
}

// A login (GitHub's rules: letters, digits, single inner hyphens) or an org/team slug.
const HANDLE = /^[A-Za-z0-9](?:-?[A-Za-z0-9])*(?:\/[A-Za-z0-9_.-]+)?$/;

/**
 * `@alice @org/team`: each handle once (logins are case-insensitive). Anything else, a bot's
 * `name[bot]` included, is left out rather than put into the comment as text.
 */
export function mentionLine(mentions: string[]): string {
  const handles = new Map<string, string>();
  for (const mention of mentions) {
    const handle = mention.trim().replace(/^@/, '');
    if (HANDLE.test(handle) && !handles.has(handle.toLowerCase())) {
      handles.set(handle.toLowerCase(), `@${handle}`);
    }
  }
  return [...handles.values()].join(' ');
}
