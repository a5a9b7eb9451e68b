import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildReviewReport } from '../../src/github/review-report.js';

const API = 'https://api.github.com';
const PULL = '/repos/octo/widgets/pulls/17';
const REVIEW_ID = 80;
const HEAD = 'ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091';

const octokit = () =>
  new ProbotOctokit({
    auth: { token: 'test' },
    retry: { enabled: false },
    throttle: { enabled: false },
  });

const user = (login: string) => ({
  login,
  id: login.length,
  node_id: 'MDQ6VXNlcjE=',
  avatar_url: `https://github.com/images/${login}.gif`,
  html_url: `https://github.com/${login}`,
  type: 'User',
  site_admin: false,
});

/** A review as `GET /repos/{o}/{r}/pulls/{n}/reviews/{id}` returns it. */
function review(body: string | null, state = 'CHANGES_REQUESTED', login = 'wes') {
  return {
    id: REVIEW_ID,
    node_id: 'MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=',
    user: user(login),
    body,
    state,
    html_url: `https://github.com/octo/widgets/pull/17#pullrequestreview-${REVIEW_ID}`,
    pull_request_url: `${API}${PULL}`,
    author_association: 'COLLABORATOR',
    _links: { html: { href: '' }, pull_request: { href: '' } },
    submitted_at: '2024-05-02T11:00:00Z',
    commit_id: HEAD,
  };
}

interface CommentShape {
  path: string;
  body: string;
  diff_hunk: string;
  line?: number | null;
  original_line?: number | null;
  start_line?: number | null;
  original_start_line?: number | null;
  side?: 'LEFT' | 'RIGHT';
  subject_type?: 'line' | 'file';
  login?: string;
}

let nextId = 1000;
/** An inline comment as `GET /repos/{o}/{r}/pulls/{n}/reviews/{id}/comments` lists it. */
function comment(c: CommentShape) {
  const id = nextId++;
  const line = c.line === undefined ? 12 : c.line;
  return {
    url: `${API}/repos/octo/widgets/pulls/comments/${id}`,
    pull_request_review_id: REVIEW_ID,
    id,
    node_id: 'MDI0OlB1bGxSZXF1ZXN0UmV2aWV3Q29tbWVudDEw',
    diff_hunk: c.diff_hunk,
    path: c.path,
    position: line === null ? null : 4,
    original_position: 4,
    commit_id: HEAD,
    original_commit_id: '9c48853fa3dc5c1c3d6f1f1cd1f2743e72652840',
    user: user(c.login ?? 'wes'),
    body: c.body,
    created_at: '2024-05-02T10:59:00Z',
    updated_at: '2024-05-02T10:59:00Z',
    html_url: `https://github.com/octo/widgets/pull/17#discussion_r${id}`,
    pull_request_url: `${API}${PULL}`,
    author_association: 'COLLABORATOR',
    _links: { self: { href: '' }, html: { href: '' }, pull_request: { href: '' } },
    start_line: c.start_line ?? null,
    original_start_line: c.original_start_line ?? null,
    start_side: c.start_line ? (c.side ?? 'RIGHT') : null,
    line,
    original_line: c.original_line ?? line ?? 12,
    side: c.side ?? 'RIGHT',
    subject_type: c.subject_type ?? 'line',
  };
}

const HUNK =
  '@@ -10,3 +10,4 @@ export function save(file: File | null) {\n   const path = file.path;\n-  write(path);\n+  write(path, { flush: true });';

function mockReview(body: ReturnType<typeof review>, comments: ReturnType<typeof comment>[]) {
  nock(API).get(`${PULL}/reviews/${REVIEW_ID}`).reply(200, body);
  nock(API)
    .get(`${PULL}/reviews/${REVIEW_ID}/comments`)
    .query({ per_page: '100' })
    .reply(200, comments);
}

const report = (maxChars?: number) =>
  buildReviewReport(octokit(), {
    owner: 'octo',
    repo: 'widgets',
    prNumber: 17,
    reviewId: REVIEW_ID,
    ...(maxChars ? { maxChars } : {}),
  });

describe('buildReviewReport', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    nock.enableNetConnect();
    expect(pending).toEqual([]);
  });

  it("tells the review's author, state and body, then each inline comment with its file, line, author, body and diff hunk", async () => {
    mockReview(review('Please handle the null case before merging.'), [
      comment({ path: 'src/save.ts', line: 13, body: 'file can be null here', diff_hunk: HUNK }),
      comment({
        path: 'src/load.ts',
        line: 4,
        body: 'Same here, please.',
        diff_hunk: '@@ -1,4 +1,4 @@\n import fs from "node:fs";\n-const x = 1;\n+const x = null;',
        login: 'maya',
      }),
    ]);

    const { text } = await report();

    expect(text).toBe(
      [
        'Review by @wes (changes requested) on commit ecdd80b, with 2 inline comments:',
        'Please handle the null case before merging.',
        '### src/save.ts:13 (@wes)',
        'file can be null here',
        `\`\`\`diff\n${HUNK}\n\`\`\``,
        '### src/load.ts:4 (@maya)',
        'Same here, please.',
        '```diff\n@@ -1,4 +1,4 @@\n import fs from "node:fs";\n-const x = 1;\n+const x = null;\n```',
      ].join('\n\n'),
    );
  });

  it('marks an outdated comment, a line range, a comment on the old side and one on the whole file', async () => {
    mockReview(review('A few things.'), [
      comment({
        path: 'src/a.ts',
        line: null,
        original_line: 30,
        body: 'outdated one',
        diff_hunk: HUNK,
      }),
      comment({
        path: 'src/b.ts',
        line: 22,
        start_line: 18,
        body: 'this whole block',
        diff_hunk: HUNK,
      }),
      comment({
        path: 'src/c.ts',
        line: 7,
        side: 'LEFT',
        body: 'why was this removed?',
        diff_hunk: HUNK,
      }),
      comment({
        path: 'docs/README.md',
        line: null,
        original_line: null,
        subject_type: 'file',
        body: 'document the flag',
        diff_hunk: '',
      }),
    ]);

    const { text } = await report();

    expect(text).toContain('### src/a.ts:30 (outdated) (@wes)');
    expect(text).toContain('### src/b.ts:18-22 (@wes)');
    expect(text).toContain('### src/c.ts:7 (on the old side of the diff) (@wes)');
    expect(text).toContain('### docs/README.md (the whole file) (@wes)\n\ndocument the flag');
    expect(text).not.toContain('document the flag\n\n```');
  });

  it('keeps the @@ header and the last 20 lines of a long diff hunk, in a fence longer than any backticks in it', async () => {
    const body = Array.from({ length: 40 }, (_, i) => `+line ${i + 1}`);
    body[39] = '+const fence = "```";';
    mockReview(review('See inline.'), [
      comment({
        path: 'src/long.ts',
        line: 50,
        body: 'here',
        diff_hunk: ['@@ -1,0 +11,40 @@', ...body].join('\n'),
      }),
    ]);

    const { text } = await report();

    expect(text).toContain(
      ['````diff', '@@ -1,0 +11,40 @@', '[… 20 lines truncated]', '+line 21', '+line 22'].join(
        '\n',
      ),
    );
    expect(text).toContain('+line 39\n+const fence = "```";\n````');
    expect(text).not.toContain('+line 20\n');
  });

  it("reads every page of the review's comments", async () => {
    const first = Array.from({ length: 100 }, (_, i) =>
      comment({
        path: `src/f${i}.ts`,
        line: 1,
        body: `comment ${i}`,
        diff_hunk: '@@ -1 +1 @@\n+x',
      }),
    );
    const second = [
      comment({
        path: 'src/last.ts',
        line: 9,
        body: 'the last comment',
        diff_hunk: '@@ -9 +9 @@\n+y',
      }),
    ];
    const next = `<${API}/repositories/1296269/pulls/17/reviews/${REVIEW_ID}/comments?per_page=100&page=2>`;
    nock(API).get(`${PULL}/reviews/${REVIEW_ID}`).reply(200, review('Many nits.'));
    nock(API)
      .get(`${PULL}/reviews/${REVIEW_ID}/comments`)
      .query({ per_page: '100' })
      .reply(200, first, { Link: `${next}; rel="next", ${next}; rel="last"` });
    nock(API)
      .get(`/repositories/1296269/pulls/17/reviews/${REVIEW_ID}/comments`)
      .query({ per_page: '100', page: '2' })
      .reply(200, second);

    const { text } = await report(200_000);

    expect(text).toContain('with 101 inline comments:');
    expect(text).toContain('### src/f99.ts:1 (@wes)\n\ncomment 99');
    expect(text).toContain('### src/last.ts:9 (@wes)\n\nthe last comment');
  });

  it('says when the review has no body, and leaves out what GitHub hides', async () => {
    mockReview(review('', 'COMMENTED'), [
      comment({
        path: 'src/x.ts',
        line: 2,
        body: 'rename this<!-- internal: bot state {"v":1} -->',
        diff_hunk: '@@ -2 +2 @@\n+let y',
      }),
    ]);

    const { text } = await report();

    expect(text).toContain(
      'Review by @wes (commented) on commit ecdd80b, with 1 inline comment:\n\n(The review has no summary comment.)',
    );
    expect(text).toContain('### src/x.ts:2 (@wes)\n\nrename this\n\n```diff');
    expect(text).not.toContain('internal');
  });

  it("never exceeds maxChars, keeps every comment's location and marks what it cut", async () => {
    const essay = Array.from(
      { length: 200 },
      (_, i) => `Paragraph ${i}: ${'the error handling here needs another look. '.repeat(3)}`,
    ).join('\n');
    const hunk = [
      '@@ -1,30 +1,30 @@',
      ...Array.from(
        { length: 30 },
        (_, i) => `+  const value${i} = compute(${i}); // ${'-'.repeat(60)}`,
      ),
    ].join('\n');
    mockReview(
      review(essay),
      Array.from({ length: 6 }, (_, i) =>
        comment({
          path: `src/m${i}.ts`,
          line: 10 + i,
          body: i === 0 ? essay : `short note ${i}`,
          diff_hunk: hunk,
        }),
      ),
    );

    const { text } = await report(5_000);

    expect(text.length).toBeLessThanOrEqual(5_000);
    expect(text.length).toBeGreaterThan(4_500);
    for (let i = 0; i < 6; i++) expect(text).toContain(`### src/m${i}.ts:${10 + i} (@wes)`);
    for (let i = 1; i < 6; i++) expect(text).toContain(`short note ${i}`);
    expect(text).toMatch(/^Paragraph 0: /m);
    expect(text).toMatch(/\[… \d+ lines truncated\]/);
    // A hunk cut to fit keeps its header, and one marker counts every line left out.
    expect(text.match(/^```diff\n@@ -1,30 \+1,30 @@\n\[… \d+ lines truncated\]\n/gm)).toHaveLength(
      6,
    );
  });

  it('throws when the review cannot be read, so the job retries', async () => {
    nock(API).get(`${PULL}/reviews/${REVIEW_ID}`).reply(502, 'Bad Gateway');
    nock(API).get(`${PULL}/reviews/${REVIEW_ID}/comments`).query(true).reply(200, []);

    await expect(report()).rejects.toMatchObject({ status: 502 });
  });
});
