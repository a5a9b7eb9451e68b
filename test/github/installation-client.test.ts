import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubApp } from '../../src/github/app.js';
import { createInstallationClient } from '../../src/github/installation-client.js';
import type { RunnerGitHub } from '../../src/sessions/runner-github.js';
import { loadSettings } from '../../src/settings.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';
import { generatePrivateKey } from '../helpers/processes.js';

describe('the installation client: git tokens', () => {
  let github: LocalGitHub;
  let client: RunnerGitHub;
  beforeAll(async () => {
    github = await startLocalGitHub();
    for (const [fullName, id] of [
      ['octo/widgets', 11],
      ['octo/gadgets', 12],
    ] as const) {
      github.addRepository({ fullName, id, installationId: 7, defaultBranch: 'main' });
    }
    const settings = loadSettings(
      { APP_ID: '1', PRIVATE_KEY: generatePrivateKey(), ...github.env },
      { receivesWebhooks: false },
    );
    client = createInstallationClient(createGitHubApp(settings, pino({ level: 'silent' })).probot!);
  });
  afterAll(() => github?.close());

  it.each(['read', 'write'] as const)(
    'mints a %s token as the app for the one repository, with its full name from GitHub',
    async (access) => {
      const minted = await client.gitToken({ installationId: 7, repositoryId: 12, access });
      expect(minted.fullName).toBe('octo/gadgets');
      const call = github.calls.at(-1)!;
      expect(call).toMatchObject({
        method: 'POST',
        path: '/api/v3/app/installations/7/access_tokens',
        body: { repository_ids: [12], permissions: { contents: access } },
        status: 201,
      });
      expect(call.authorization).toMatch(/^bearer ey/i);
      expect(github.tokens.at(-1)).toMatchObject({
        token: minted.token,
        repositoryIds: [12],
        permissions: { contents: access, metadata: 'read' },
        revokedAt: null,
      });
    },
  );

  it('revokes the token with the token itself, so it authenticates nothing after', async () => {
    const minted = await client.gitToken({ installationId: 7, repositoryId: 11, access: 'write' });
    await minted.revoke();
    expect(github.calls.at(-1)).toMatchObject({
      method: 'DELETE',
      path: '/api/v3/installation/token',
      authorization: `token ${minted.token}`,
      status: 204,
    });
    expect(github.tokens.find((t) => t.token === minted.token)?.revokedAt).toBeInstanceOf(Date);
    // A second revocation finds no live token: GitHub answers 401.
    await expect(minted.revoke()).rejects.toMatchObject({ status: 401 });
  });

  it('fails for a repository the installation does not have', async () => {
    await expect(
      client.gitToken({ installationId: 7, repositoryId: 99, access: 'read' }),
    ).rejects.toMatchObject({ status: 422 });
  });
});
