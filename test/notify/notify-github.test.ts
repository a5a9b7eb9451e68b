import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notifyGitHub } from '../../src/notify/index.js';

const API = 'https://api.github.com';

const octokit = () =>
  new ProbotOctokit({
    auth: { token: 'test' },
    retry: { enabled: false },
    throttle: { enabled: false },
  });

/** An issue comment as `POST /repos/{o}/{r}/issues/{n}/comments` returns it. */
const created = (body: string) => ({
  id: 1_146_825,
  node_id: 'IC_kwDOAAABc84AEYBJ',
  url: `${API}/repos/octo/widgets/issues/comments/1146825`,
  html_url: 'https://github.com/octo/widgets/pull/57#issuecomment-1146825',
  issue_url: `${API}/repos/octo/widgets/issues/57`,
  body,
  user: { login: 'agent-orchestrator[bot]', id: 41898282, type: 'Bot' },
  created_at: '2024-05-02T12:00:00Z',
  updated_at: '2024-05-02T12:00:00Z',
  author_association: 'NONE',
});

describe('notifyGitHub', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    nock.enableNetConnect();
    expect(pending).toEqual([]);
  });

  it('posts one comment that mentions each person and team once, with or without @', async () => {
    const posted: string[] = [];
    nock(API)
      .post(
        '/repos/octo/widgets/issues/57/comments',
        (body: { body: string }) => posted.push(body.body) > 0,
      )
      .reply(201, (_uri, body) => created((body as { body: string }).body));

    const result = await notifyGitHub(octokit(), {
      owner: 'octo',
      repo: 'widgets',
      issueNumber: 57,
      mentions: ['alice', '@alice', 'Alice', '@octo/reviewers', 'octo/Reviewers', ' bob '],
      text: 'The pull request is approved and every check is green.',
    });

    expect(posted).toEqual([
      '@alice @octo/reviewers @bob\n\nThe pull request is approved and every check is green.',
    ]);
    expect(result).toEqual({
      commentId: 1_146_825,
      url: 'https://github.com/octo/widgets/pull/57#issuecomment-1146825',
    });
  });

  it('leaves out what is not a login or a team, and posts the bare text when nobody is left', async () => {
    const posted: string[] = [];
    nock(API)
      .post(
        '/repos/octo/widgets/issues/42/comments',
        (body: { body: string }) => posted.push(body.body) > 0,
      )
      .reply(201, (_uri, body) => created((body as { body: string }).body));

    await notifyGitHub(octokit(), {
      owner: 'octo',
      repo: 'widgets',
      issueNumber: 42,
      mentions: ['renovate[bot]', '', '@', 'two words', '-leading', 'trailing-', 'a--b', '@@alice'],
      text: 'The agent needs a human.',
    });

    expect(posted).toEqual(['The agent needs a human.']);
  });

  it('throws when GitHub refuses the comment, so the job retries', async () => {
    nock(API).post('/repos/octo/widgets/issues/42/comments').reply(403, {
      message: 'Resource not accessible by integration',
      documentation_url: 'https://docs.github.com/rest/issues/comments',
    });

    await expect(
      notifyGitHub(octokit(), {
        owner: 'octo',
        repo: 'widgets',
        issueNumber: 42,
        mentions: ['alice'],
        text: 'hello',
      }),
    ).rejects.toMatchObject({ status: 403 });
  });
});
