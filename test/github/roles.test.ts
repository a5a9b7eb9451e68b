import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Octokit } from '../../src/github/octokit.js';
import { createRoles, isWriterRole } from '../../src/github/roles.js';

const octokit = new ProbotOctokit({
  auth: { token: 'test' },
  retry: { enabled: false },
  throttle: { enabled: false },
}) as Octokit;

const permission = (login: string, role: string, times = 1) =>
  nock('https://api.github.com')
    .get(`/repos/octo/widgets/collaborators/${login}/permission`)
    .times(times)
    .reply(200, { permission: role, role_name: role, user: { login } });

describe('collaborator roles', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });
  afterAll(() => nock.enableNetConnect());

  it.each([
    ['admin', true],
    ['maintain', true],
    ['write', true],
    ['triage', false],
    ['read', false],
    ['none', false],
  ])('%s may drive agents: %s', (role, writer) => {
    expect(isWriterRole(role)).toBe(writer);
  });

  it('asks GitHub once per person and repository while the answer is fresh', async () => {
    let clock = 0;
    const roles = createRoles({ ttlMs: 1_000, now: () => clock });
    permission('wes', 'write');
    expect(await roles.roleOf(octokit, 'octo/widgets', 'wes')).toBe('write');
    expect(await roles.roleOf(octokit, 'Octo/Widgets', 'WES')).toBe('write');
    // A role taken away counts once the remembered answer is old.
    clock = 1_001;
    permission('wes', 'read');
    expect(await roles.roleOf(octokit, 'octo/widgets', 'wes')).toBe('read');
  });

  it('says none for someone who is not a collaborator, and remembers that too', async () => {
    const roles = createRoles();
    nock('https://api.github.com')
      .get('/repos/octo/widgets/collaborators/stranger/permission')
      .reply(404, { message: 'Not Found' });
    expect(await roles.roleOf(octokit, 'octo/widgets', 'stranger')).toBe('none');
    expect(await roles.roleOf(octokit, 'octo/widgets', 'stranger')).toBe('none');
  });
});
