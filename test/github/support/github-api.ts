/**
 * GitHub's REST API as the handlers see it, through nock: every request must be mocked, every
 * mock used, and the answers keep the documented shapes. Bodies the app sends are captured for
 * the test to read.
 */
import nock from 'nock';
import { afterEach, beforeEach, expect } from 'vitest';
import { HEAD_SHA, REPO } from './fake-lifecycle.js';

export const API = 'https://api.github.com';
const [OWNER] = REPO.fullName.split('/') as [string];

/**
 * nock for the file's tests: no real connection, and after each test no request nock could not
 * answer (a handler may swallow the error) and no mock left unused.
 */
export function useNock(): void {
  let unmatched: string[] = [];
  const onNoMatch = (req: { method?: string; href?: string; path?: string }) =>
    unmatched.push(`${req.method} ${req.href ?? req.path}`);
  beforeEach(() => {
    nock.disableNetConnect();
    unmatched = [];
    nock.emitter.on('no match', onNoMatch);
  });
  afterEach(() => {
    nock.emitter.removeListener('no match', onNoMatch);
    const pending = nock.pendingMocks();
    nock.cleanAll();
    nock.enableNetConnect();
    expect(unmatched, 'requests nobody expected').toEqual([]);
    expect(pending, 'mocks never used').toEqual([]);
  });
}

export const repoPath = (fullName = REPO.fullName) => `/repos/${fullName}`;

export function user(login: string, type: 'User' | 'Bot' = 'User') {
  const id = [...login].reduce((n, c) => n * 31 + c.charCodeAt(0), 7) % 10_000_000;
  return {
    login,
    id,
    node_id: `U_kgDO${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `${API}/users/${encodeURIComponent(login)}`,
    html_url: `https://github.com/${login}`,
    type,
    site_admin: false,
  };
}

/**
 * `GET /repos/{o}/{r}/collaborators/{u}/permission`: `permission` is the legacy level (maintain
 * reads as write, triage as read), `role_name` the role. Null: not a collaborator (404).
 */
export function permission(
  login: string,
  role: 'admin' | 'maintain' | 'write' | 'triage' | 'read' | null,
) {
  const scope = nock(API).get(`${repoPath()}/collaborators/${login}/permission`);
  if (role === null) return scope.reply(404, notFound());
  const legacy = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
  return scope.reply(200, { permission: legacy, role_name: role, user: user(login) });
}

export const notFound = () => ({
  message: 'Not Found',
  documentation_url: 'https://docs.github.com/rest',
  status: '404',
});

/**
 * `.github/agent.yml` as Probot's config plugin reads it: the raw file from the repository, and
 * when it has none, from the owner's `.github` repository. Null: neither has the file.
 */
export function repoConfig(yaml: string | null, where: 'repository' | 'owner' = 'repository') {
  const contents = (fullName: string) =>
    nock(API, { reqheaders: { accept: 'application/vnd.github.v3.raw' } }).get(
      `${repoPath(fullName)}/contents/.github%2Fagent.yml`,
    );
  const raw = (body: string) =>
    [200, body, { 'content-type': 'text/plain; charset=utf-8' }] as const;
  if (yaml !== null && where === 'repository') return contents(REPO.fullName).reply(...raw(yaml));
  contents(REPO.fullName).reply(404, notFound());
  const orgWide = contents(`${OWNER}/.github`);
  return yaml === null ? orgWide.reply(404, notFound()) : orgWide.reply(...raw(yaml));
}

export function issueComment(
  id: number,
  issueNumber: number,
  login: string,
  body: string,
  createdAt = '2024-05-02T09:00:00Z',
  type: 'User' | 'Bot' = 'User',
) {
  return {
    id,
    node_id: `IC_kwDO${id}`,
    url: `${API}${repoPath()}/issues/comments/${id}`,
    html_url: `https://github.com/${REPO.fullName}/issues/${issueNumber}#issuecomment-${id}`,
    issue_url: `${API}${repoPath()}/issues/${issueNumber}`,
    body,
    user: user(login, type),
    created_at: createdAt,
    updated_at: createdAt,
    author_association: type === 'Bot' ? 'NONE' : 'MEMBER',
  };
}

/** `GET /repos/{o}/{r}/issues/{n}/comments`, one page. */
export function listComments(issueNumber: number, comments: ReturnType<typeof issueComment>[]) {
  return nock(API)
    .get(`${repoPath()}/issues/${issueNumber}/comments`)
    .query({ per_page: '100' })
    .reply(200, comments);
}

/**
 * `POST /repos/{o}/{r}/issues/{n}/comments`, answered 201 with the new comment; the bodies the
 * app posted are pushed to the array returned.
 */
export function captureReplies(issueNumber: number, times = 1, id = 9001): string[] {
  const bodies: string[] = [];
  nock(API)
    .post(`${repoPath()}/issues/${issueNumber}/comments`)
    .times(times)
    .reply(201, (_uri, body) => {
      const { body: text } = body as { body: string };
      bodies.push(text);
      return issueComment(id, issueNumber, 'agent-orchestrator[bot]', text, undefined, 'Bot');
    });
  return bodies;
}

/** `POST /repos/{o}/{r}/issues/comments/{id}/reactions`; the contents sent are captured. */
export function captureReactions(commentId: number): string[] {
  const contents: string[] = [];
  nock(API)
    .post(`${repoPath()}/issues/comments/${commentId}/reactions`)
    .reply(201, (_uri, body) => {
      const { content } = body as { content: string };
      contents.push(content);
      return {
        id: 31,
        node_id: 'REA_lADO',
        user: user('agent-orchestrator[bot]', 'Bot'),
        content,
        created_at: '2024-05-02T10:00:01Z',
      };
    });
  return contents;
}

/** A pull request as `GET /repos/{o}/{r}/pulls/{n}` answers it. */
export function pullRequest(
  number: number,
  {
    branch = 'feature',
    baseBranch = 'main',
    headRepo = REPO.fullName as string | null,
    mergeable = true as boolean | null,
    headSha = HEAD_SHA,
  } = {},
) {
  const repo = (fullName: string) => ({
    id: fullName === REPO.fullName ? REPO.id : 5151,
    node_id: 'R_kgDO',
    name: fullName.split('/')[1],
    full_name: fullName,
    private: false,
    owner: user(fullName.split('/')[0]!),
    html_url: `https://github.com/${fullName}`,
    clone_url: `https://github.com/${fullName}.git`,
    default_branch: 'main',
    fork: fullName !== REPO.fullName,
  });
  return {
    url: `${API}${repoPath()}/pulls/${number}`,
    id: 880_000 + number,
    node_id: `PR_kwDO${number}`,
    html_url: `https://github.com/${REPO.fullName}/pull/${number}`,
    number,
    state: 'open',
    locked: false,
    title: 'A change',
    body: null,
    user: user('alice'),
    draft: false,
    merged: false,
    mergeable,
    mergeable_state: mergeable === false ? 'dirty' : mergeable === null ? 'unknown' : 'clean',
    head: {
      label: `${headRepo?.split('/')[0] ?? 'ghost'}:${branch}`,
      ref: branch,
      sha: headSha,
      user: user(headRepo?.split('/')[0] ?? 'ghost'),
      repo: headRepo ? repo(headRepo) : null,
    },
    base: {
      label: `${OWNER}:${baseBranch}`,
      ref: baseBranch,
      sha: 'fedcba9876543210fedcba9876543210fedcba98',
      user: user(OWNER),
      repo: repo(REPO.fullName),
    },
    created_at: '2024-05-01T08:00:00Z',
    updated_at: '2024-05-02T10:00:00Z',
  };
}

export function getPullRequest(number: number, options: Parameters<typeof pullRequest>[1] = {}) {
  return nock(API).get(`${repoPath()}/pulls/${number}`).reply(200, pullRequest(number, options));
}

/** A review as `GET /repos/{o}/{r}/pulls/{n}/reviews` lists it. */
export function review(id: number, login: string, state: string, body = '', commitId = HEAD_SHA) {
  return {
    id,
    node_id: `PRR_kwDO${id}`,
    user: user(login),
    body,
    state,
    html_url: `https://github.com/${REPO.fullName}/pull/7#pullrequestreview-${id}`,
    pull_request_url: `${API}${repoPath()}/pulls/7`,
    author_association: 'MEMBER',
    submitted_at: '2024-05-02T10:00:00Z',
    commit_id: commitId,
  };
}

const APPS = {
  buildkite: { id: 9426, slug: 'buildkite', node_id: 'MDM6QXBwOTQyNg==', name: 'Buildkite' },
  actions: {
    id: 15368,
    slug: 'github-actions',
    node_id: 'MDM6QXBwMTUzNjg=',
    name: 'GitHub Actions',
  },
};

/**
 * A check run as `GET /repos/{o}/{r}/commits/{ref}/check-runs` lists it; a GitHub Actions one
 * links to its job (whose log a CI report downloads).
 */
export function checkRun(
  id: number,
  name: string,
  conclusion: string | null,
  { sha = HEAD_SHA, app = 'buildkite' as keyof typeof APPS } = {},
) {
  const details =
    app === 'actions'
      ? `https://github.com/${REPO.fullName}/actions/runs/9001/job/${id}`
      : `https://buildkite.com/octo/widgets/builds/77#${id}`;
  return {
    id,
    name,
    node_id: `CR_kwDO${id}`,
    head_sha: sha,
    external_id: '',
    url: `${API}${repoPath()}/check-runs/${id}`,
    html_url: `https://github.com/${REPO.fullName}/runs/${id}`,
    details_url: details,
    status: conclusion ? 'completed' : 'in_progress',
    conclusion,
    started_at: '2024-05-02T10:00:00Z',
    completed_at: conclusion ? '2024-05-02T10:03:12Z' : null,
    output: {
      title: null,
      summary: null,
      text: null,
      annotations_count: 0,
      annotations_url: `${API}${repoPath()}/check-runs/${id}/annotations`,
    },
    check_suite: { id: 5500 },
    app: {
      ...APPS[app],
      owner: user(app === 'actions' ? 'github' : 'buildkite'),
      description: '',
      external_url: '',
      html_url: `https://github.com/apps/${APPS[app].slug}`,
      created_at: '2018-01-01T00:00:00Z',
      updated_at: '2018-01-01T00:00:00Z',
      permissions: {},
      events: [],
    },
    pull_requests: [],
  };
}

/** `GET /repos/{o}/{r}/commits/{ref}/status`: the combined status of a commit. */
export function combinedStatus(
  state: 'success' | 'pending' | 'failure',
  count: number,
  sha = HEAD_SHA,
) {
  return {
    state,
    statuses: Array.from({ length: count }, (_, i) => ({
      url: `${API}${repoPath()}/statuses/${sha}`,
      avatar_url: null,
      id: 700 + i,
      node_id: `SC_kwDO${i}`,
      state,
      description: null,
      target_url: null,
      context: `ci/status-${i}`,
      created_at: '2024-05-02T10:00:00Z',
      updated_at: '2024-05-02T10:04:00Z',
    })),
    sha,
    total_count: count,
    commit_url: `${API}${repoPath()}/commits/${sha}`,
    url: `${API}${repoPath()}/commits/${sha}/status`,
  };
}

/**
 * What approved-and-green is read from: the pull request's reviews, and when they approve, its
 * head's check runs and combined status.
 */
export function approvalState(
  prNumber: number,
  reviews: ReturnType<typeof review>[],
  checks?: { runs: ReturnType<typeof checkRun>[]; status: ReturnType<typeof combinedStatus> },
  sha = HEAD_SHA,
  roles: Record<string, Parameters<typeof permission>[1]> = {},
) {
  nock(API)
    .get(`${repoPath()}/pulls/${prNumber}/reviews`)
    .query({ per_page: '100' })
    .reply(200, reviews);
  // The roles of the reviewers whose latest review approves or requests changes (write unless
  // the test says otherwise): only writers' reviews count.
  const latest = new Map<string, string>();
  for (const r of reviews) if (r.state !== 'COMMENTED') latest.set(r.user.login, r.state);
  for (const [login, state] of latest)
    if (state === 'APPROVED' || state === 'CHANGES_REQUESTED')
      permission(login, roles[login] ?? 'write');
  if (!checks) return;
  nock(API)
    .get(`${repoPath()}/commits/${sha}/check-runs`)
    .query({ per_page: '100' })
    .reply(200, { total_count: checks.runs.length, check_runs: checks.runs });
  nock(API).get(`${repoPath()}/commits/${sha}/status`).reply(200, checks.status);
}
