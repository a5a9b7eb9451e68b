import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { onOperatorStart } from '../../src/github/on-operator-start.js';
import type { OperatorStart } from '../../src/sessions/intents.js';
import { fakeLifecycle, INSTALLATION_ID, REPO, session } from './support/fake-lifecycle.js';
import {
  API,
  captureReplies,
  issueComment,
  listComments,
  notFound,
  permission,
  repoConfig,
  repoPath,
  useNock,
  user,
} from './support/github-api.js';

const RECEIVED_AT = '2024-05-02T10:00:00Z';
const START_ID = 'start-1';

const start = (overrides: Partial<OperatorStart> = {}): OperatorStart => ({
  kind: 'operator-start',
  repository: REPO.fullName,
  issueNumber: 12,
  ...overrides,
});

/** `GET /repos/{o}/{r}/installation`, asked as the app: the installation, or 404. */
function installation(id: number | null) {
  const scope = nock(API).get(`${repoPath()}/installation`);
  if (id === null) return scope.reply(404, notFound());
  return scope.reply(200, {
    id,
    account: user('octo'),
    repository_selection: 'selected',
    access_tokens_url: `${API}/app/installations/${id}/access_tokens`,
    repositories_url: `${API}/installation/repositories`,
    html_url: `https://github.com/organizations/octo/settings/installations/${id}`,
    app_id: 1001,
    app_slug: 'agent-orchestrator',
    target_id: 9100,
    target_type: 'Organization',
    permissions: { issues: 'write', pull_requests: 'write', contents: 'write', checks: 'read' },
    events: ['issues', 'issue_comment', 'pull_request', 'check_suite'],
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    single_file_name: null,
  });
}

/** `GET /repos/{o}/{r}`, asked as the installation. */
function repository(found = true) {
  const scope = nock(API).get(repoPath());
  if (!found) return scope.reply(404, notFound());
  return scope.reply(200, {
    id: REPO.id,
    node_id: 'R_kgDOwidgets',
    name: 'widgets',
    full_name: REPO.fullName,
    private: false,
    owner: user('octo'),
    html_url: `https://github.com/${REPO.fullName}`,
    url: `${API}${repoPath()}`,
    clone_url: REPO.cloneUrl,
    default_branch: REPO.defaultBranch,
    fork: false,
    archived: false,
  });
}

/** `GET /repos/{o}/{r}/issues/{n}`: an issue, or a pull request as the issues API shows one. */
function issue({ state = 'open', pullRequest = false } = {}) {
  return nock(API)
    .get(`${repoPath()}/issues/12`)
    .reply(200, {
      id: 2_000_012,
      node_id: 'I_kwDO12',
      url: `${API}${repoPath()}/issues/12`,
      html_url: `https://github.com/${REPO.fullName}/issues/12`,
      number: 12,
      state,
      state_reason: state === 'closed' ? 'completed' : null,
      title: 'Saving a widget crashes',
      body: 'Steps: open a widget, press save.',
      user: user('bob'),
      labels: [],
      assignees: [],
      locked: false,
      comments: 1,
      created_at: '2024-05-01T08:00:00Z',
      updated_at: '2024-05-02T09:00:00Z',
      closed_at: state === 'closed' ? '2024-05-02T09:30:00Z' : null,
      author_association: 'MEMBER',
      ...(pullRequest
        ? {
            pull_request: {
              url: `${API}${repoPath()}/pulls/12`,
              html_url: `https://github.com/${REPO.fullName}/pull/12`,
              diff_url: `https://github.com/${REPO.fullName}/pull/12.diff`,
              patch_url: `https://github.com/${REPO.fullName}/pull/12.patch`,
              merged_at: null,
            },
          }
        : {}),
    });
}

/** Everything a start reads before it creates the session. */
function readable() {
  installation(INSTALLATION_ID);
  repository();
  issue();
  repoConfig(null);
}

describe('a start the operator asked for through the API', () => {
  useNock();

  it.each([
    ['an unknown profile', { profile: 'fast' }, 'unknown-profile'],
    ['an unknown agent', { agent: 'gpt-engineer' }, 'unknown-agent'],
  ] as const)('%s is its outcome, without any GitHub call', async (_, overrides, outcome) => {
    const f = fakeLifecycle({ operatorConfig: { profiles: { careful: { agent: 'codex' } } } });

    expect(await onOperatorStart(f.deps, start(overrides), RECEIVED_AT, START_ID)).toBe(outcome);
    expect(f.starts).toEqual([{ startId: START_ID, outcome, sessionId: null }]);
    expect(f.octokits).toEqual([]);
    expect(f.calls).toEqual([]);
  });

  it('a repository the app is not installed on is not-installed, asked as the app', async () => {
    const f = fakeLifecycle();
    installation(null);

    expect(await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID)).toBe('not-installed');
    expect(f.octokits).toEqual([undefined]);
    expect(f.starts).toEqual([{ startId: START_ID, outcome: 'not-installed', sessionId: null }]);
  });

  it('an installation outside allowedInstallations is refused before its repository is read', async () => {
    const f = fakeLifecycle({ operatorConfig: { allowedInstallations: [1, 2] } });
    installation(INSTALLATION_ID);

    const outcome = await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID);

    expect(outcome).toBe('installation-not-allowed');
    expect(f.octokits).toEqual([undefined]);
  });

  it('a repository the installation cannot see is not-installed', async () => {
    const f = fakeLifecycle();
    installation(INSTALLATION_ID);
    repository(false);

    expect(await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID)).toBe('not-installed');
    expect(f.octokits).toEqual([undefined, INSTALLATION_ID]);
  });

  it.each([
    [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }],
    [410, { message: 'This issue was deleted', documentation_url: 'https://docs.github.com/rest' }],
  ])('an issue GitHub answers %i for is no-such-issue', async (status, body) => {
    const f = fakeLifecycle();
    installation(INSTALLATION_ID);
    repository();
    nock(API).get(`${repoPath()}/issues/12`).reply(status, body);

    expect(await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID)).toBe('no-such-issue');
    expect(f.calls).toEqual([]);
  });

  it.each([
    ['a pull request number', { pullRequest: true }, 'pull-request'],
    ['a closed issue', { state: 'closed' }, 'issue-closed'],
  ] as const)('%s is refused as %s', async (_, shape, outcome) => {
    const f = fakeLifecycle();
    installation(INSTALLATION_ID);
    repository();
    issue(shape);

    expect(await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID)).toBe(outcome);
    expect(f.starts).toEqual([{ startId: START_ID, outcome, sessionId: null }]);
    expect(f.calls).toEqual([]);
  });

  it('a start creates the session with the operator message after the issue comments, and records it', async () => {
    const f = fakeLifecycle();
    readable();
    listComments(12, [
      issueComment(1, 12, 'bob', 'Happens on every save.', '2024-05-02T09:00:00Z'),
    ]);
    permission('bob', 'triage');

    const outcome = await onOperatorStart(
      f.deps,
      start({ message: 'Start with the null check.', agent: 'aider' }),
      RECEIVED_AT,
      START_ID,
    );

    expect(outcome).toBe('session-created');
    expect(f.callsTo('create')).toEqual([
      [
        expect.objectContaining({
          installationId: INSTALLATION_ID,
          repositoryId: REPO.id,
          issueNumber: 12,
          agent: 'aider',
          triggeredBy: 'operator (API)',
          context: expect.objectContaining({
            startedThrough: 'api',
            issue: expect.objectContaining({
              title: 'Saving a widget crashes',
              author: { login: 'bob', role: 'triage', trusted: false },
              comments: [
                {
                  author: 'bob',
                  body: 'Happens on every save.',
                  createdAt: '2024-05-02T09:00:00Z',
                  role: 'triage',
                  trusted: false,
                },
                {
                  author: 'operator (API)',
                  body: 'Start with the null check.',
                  createdAt: RECEIVED_AT,
                  role: 'operator',
                  trusted: true,
                },
              ],
            }),
          }),
        }),
        { deliveryId: START_ID },
      ],
    ]);
    const created = f.rows.at(-1)!;
    expect(f.starts).toEqual([
      { startId: START_ID, outcome: 'session-created', sessionId: created.id },
    ]);
    expect(f.octokits).toEqual([undefined, INSTALLATION_ID]);
  });

  it('a retried start that finds the session it created itself is session-created', async () => {
    const f = fakeLifecycle();
    readable();
    listComments(12, []);
    permission('bob', 'triage');
    await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID);
    readable();

    const outcome = await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID);

    expect(outcome).toBe('session-created');
    const created = f.rows.at(-1)!;
    expect(f.starts).toEqual([
      { startId: START_ID, outcome: 'session-created', sessionId: created.id },
      { startId: START_ID, outcome: 'session-created', sessionId: created.id },
    ]);
    expect(f.callsTo('create')).toHaveLength(1);
  });

  it("an issue with another trigger's live session is already-running, naming it", async () => {
    const running = session({ issueNumber: 12, status: 'working' });
    const f = fakeLifecycle({ rows: [running] });
    readable();

    expect(await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID)).toBe('already-running');
    expect(f.starts).toEqual([
      { startId: START_ID, outcome: 'already-running', sessionId: running.id },
    ]);
    expect(f.calls).toEqual([]);
  });

  it('a start that loses the race for the issue to another start is already-running', async () => {
    const f = fakeLifecycle();
    const winner = session({ issueNumber: 12, status: 'queued' });
    f.answerCreate(() => {
      f.rows.push(winner);
      return null;
    });
    readable();
    listComments(12, []);
    permission('bob', 'triage');

    expect(await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID)).toBe('already-running');
    expect(f.starts).toEqual([
      { startId: START_ID, outcome: 'already-running', sessionId: winner.id },
    ]);
  });

  it('a repository at its maxConcurrent is at-limit, and the issue is told', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 3, status: 'working' })] });
    installation(INSTALLATION_ID);
    repository();
    issue();
    repoConfig('maxConcurrent: 1\n');
    const replies = captureReplies(12);

    expect(await onOperatorStart(f.deps, start(), RECEIVED_AT, START_ID)).toBe('at-limit');
    expect(replies).toEqual([
      'This repository already has 1 agent sessions running, its limit (`maxConcurrent` in `.github/agent.yml`). Try again when one finishes.',
    ]);
    expect(f.starts).toEqual([{ startId: START_ID, outcome: 'at-limit', sessionId: null }]);
    expect(f.callsTo('create')).toEqual([]);
  });

  it('a known profile starts the session with its agent', async () => {
    const f = fakeLifecycle({ operatorConfig: { profiles: { careful: { agent: 'codex' } } } });
    readable();
    listComments(12, []);
    permission('bob', 'triage');

    await onOperatorStart(f.deps, start({ profile: 'careful' }), RECEIVED_AT, START_ID);

    expect(f.callsTo('create').map(([input]) => [input.agent, input.profile])).toEqual([
      ['codex', 'careful'],
    ]);
  });
});
