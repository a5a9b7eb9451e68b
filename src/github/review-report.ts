import type { Octokit } from './octokit.js';
import { type Block, dropHtmlComments, fenceFor, fitBlock } from './truncate.js';

type ReviewComment = Awaited<
  ReturnType<Octokit['rest']['pulls']['listCommentsForReview']>
>['data'][number];

// 3 pages of 100 inline comments: more than any review a person writes.
const MAX_COMMENT_PAGES = 3;

export interface ReviewReportOptions {
  owner: string;
  repo: string;
  prNumber: number;
  reviewId: number;
  /** The size limit of the whole text, in characters (20,000). */
  maxChars?: number;
  /** How many lines of each comment's diff hunk to keep, besides its @@ header (20). */
  hunkLines?: number;
}

export interface ReviewReport {
  /** Markdown for the agent: the review's body, then each inline comment with where it points. */
  text: string;
}

/**
 * What a coding agent is told about a pull request review: its author, state and body, and each of
 * its inline comments with file, line, author, body and the end of the diff hunk it is attached
 * to, within maxChars.
 */
export async function buildReviewReport(
  octokit: Octokit,
  { owner, repo, prNumber, reviewId, maxChars = 20_000, hunkLines = 20 }: ReviewReportOptions,
): Promise<ReviewReport> {
  let pages = 0;
  const [{ data: review }, comments] = await Promise.all([
    octokit.rest.pulls.getReview({ owner, repo, pull_number: prNumber, review_id: reviewId }),
    octokit.paginate(
      octokit.rest.pulls.listCommentsForReview,
      { owner, repo, pull_number: prNumber, review_id: reviewId, per_page: 100 },
      (response, done) => {
        if (++pages >= MAX_COMMENT_PAGES) done();
        return response.data;
      },
    ),
  ]);

  const state = review.state.toLowerCase().replace(/_/g, ' ');
  const commit = review.commit_id ? ` on commit ${review.commit_id.slice(0, 7)}` : '';
  const count = comments.length
    ? `, with ${comments.length} inline comment${comments.length === 1 ? '' : 's'}`
    : '';
  const body = dropHtmlComments(review.body ?? '');
  const blocks: Block[] = [
    { fixed: `Review by @${review.user?.login ?? 'ghost'} (${state})${commit}${count}:` },
    body ? { head: body } : { fixed: '(The review has no summary comment.)' },
    ...comments.map((comment) => commentBlock(comment, hunkLines)),
  ];
  return { text: fitBlock({ join: '\n\n', blocks }, maxChars) };
}

function commentBlock(comment: ReviewComment, hunkLines: number): Block {
  const blocks: Block[] = [
    { fixed: `### ${location(comment)} (@${comment.user?.login ?? 'ghost'})` },
    { head: dropHtmlComments(comment.body) || '(empty comment)' },
  ];
  if (comment.diff_hunk) blocks.push(hunkBlock(comment.diff_hunk, hunkLines));
  return { join: '\n\n', blocks };
}

/** `path:line` or `path:start-end`, saying when the line is outdated or on the old side. */
function location(comment: ReviewComment): string {
  if (comment.subject_type === 'file') return `${comment.path} (the whole file)`;
  // GitHub sets line to null once a later push moved the code away; original_line stays.
  const outdated = comment.line == null;
  const line = comment.line ?? comment.original_line;
  const start = outdated ? comment.original_start_line : comment.start_line;
  if (!line) return comment.path;
  const range = start && start !== line ? `${start}-${line}` : `${line}`;
  const notes = [
    outdated ? 'outdated' : '',
    comment.side === 'LEFT' ? 'on the old side of the diff' : '',
  ].filter(Boolean);
  return `${comment.path}:${range}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}

/** The hunk's @@ header and its last lines (the commented line is the hunk's last), fenced. */
function hunkBlock(hunk: string, keep: number): Block {
  const lines = hunk.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  const header = lines[0]?.startsWith('@@') ? lines.slice(0, 1) : [];
  const body = lines.slice(header.length);
  const kept = body.slice(-keep).join('\n');
  const fence = fenceFor(lines.join('\n'));
  return {
    join: '\n',
    blocks: [
      { fixed: [`${fence}diff`, ...header].join('\n') },
      { tail: kept, cutBefore: Math.max(0, body.length - keep) },
      { fixed: fence },
    ],
  };
}
