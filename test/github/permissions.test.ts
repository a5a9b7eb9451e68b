import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Octokit } from '../../src/github/octokit.js';
import { checkSender } from '../../src/github/permissions.js';

const octokit = new ProbotOctokit({
  auth: { token: 'test' },
  retry: { enabled: false },
  throttle: { enabled: false },
}) as Octokit;

function permission(login: string, role: string | null) {
  const scope = nock('https://api.github.com').get(
    `/repos/octo/widgets/collaborators/${login}/permission`,
  );
  if (role === null) return scope.reply(404, { message: 'Not Found' });
  const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
  return scope.reply(200, { permission, role_name: role, user: { login } });
}

describe('the permission gate', () => {
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
  ])('a %s collaborator is allowed: %s', async (role, allowed) => {
    permission(`user-${role}`, role);
    const gate = await checkSender(
      octokit,
      'octo/widgets',
      { login: `user-${role}`, type: 'User' },
      [],
    );
    expect(gate.allowed).toBe(allowed);
    if (!gate.allowed) expect(gate).toMatchObject({ silent: false, reason: `role ${role}` });
  });

  it('refuses, with a reply, someone who is not a collaborator at all', async () => {
    permission('stranger', null);
    const gate = await checkSender(
      octokit,
      'octo/widgets',
      { login: 'stranger', type: 'User' },
      [],
    );
    expect(gate).toEqual({ allowed: false, silent: false, reason: 'not a collaborator' });
  });

  it('ignores a bot silently without asking GitHub, unless it is allow-listed', async () => {
    const bot = { login: 'renovate[bot]', type: 'Bot' };
    expect(await checkSender(octokit, 'octo/widgets', bot, [])).toEqual({
      allowed: false,
      silent: true,
      reason: 'bot renovate[bot] is not allow-listed',
    });
    expect(await checkSender(octokit, 'octo/widgets', bot, ['renovate[bot]'])).toEqual({
      allowed: true,
    });
  });

  it('never lets the app act on its own comments', async () => {
    const gate = await checkSender(
      octokit,
      'octo/widgets',
      { login: 'agent-orchestrator[bot]', type: 'Bot' },
      [],
    );
    expect(gate.allowed).toBe(false);
  });

  it('lets an API failure surface, so the job is retried rather than the user refused', async () => {
    nock('https://api.github.com')
      .get('/repos/octo/widgets/collaborators/alice/permission')
      .reply(502, {});
    await expect(
      checkSender(octokit, 'octo/widgets', { login: 'alice', type: 'User' }, []),
    ).rejects.toThrow();
  });
});
