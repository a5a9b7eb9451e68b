import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { withGitToken } from '../../src/runner/with-git-token.js';
import type { GitToken, RunnerGitHub } from '../../src/sessions/runner-github.js';

const HOST = { protocol: 'https', host: 'ghe.example.com' } as const;
const SESSION = {
  id: 's-abc123',
  installationId: 7,
  repositoryId: 42,
  // What a row rewritten by someone with the database would say.
  cloneUrl: 'https://evil.example/octo/widgets.git',
};

/** GitHub at the network edge: mints tokens, records what was asked and revoked. */
function fakeGitHub(options: { fullName?: string; revokeFails?: boolean } = {}) {
  const minted: { input: unknown; revoked: boolean }[] = [];
  const github = {
    async gitToken(input) {
      const entry = { input, revoked: false };
      minted.push(entry);
      return {
        token: `ghs_${minted.length}`,
        fullName: options.fullName ?? 'octo/widgets',
        async revoke() {
          if (options.revokeFails) throw new Error('GitHub is down');
          entry.revoked = true;
        },
      } satisfies GitToken;
    },
  } as Pick<RunnerGitHub, 'gitToken'> as RunnerGitHub;
  return { github, minted };
}

function logged() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe('withGitToken', () => {
  it('mints for the repository, builds the URL from the configured host, revokes after', async () => {
    const { github, minted } = fakeGitHub();
    const { log } = logged();
    const seen = await withGitToken(
      { github, githubHost: HOST, log },
      SESSION,
      'write',
      async (repo, auth) => {
        expect(minted[0]?.revoked).toBe(false);
        return { repo, auth };
      },
    );
    expect(minted).toEqual([
      { input: { installationId: 7, repositoryId: 42, access: 'write' }, revoked: true },
    ]);
    expect(seen).toEqual({
      repo: {
        id: 42,
        fullName: 'octo/widgets',
        cloneUrl: 'https://ghe.example.com/octo/widgets.git',
      },
      auth: { token: 'ghs_1' },
    });
  });

  it('revokes when the operation fails, and passes its error on', async () => {
    const { github, minted } = fakeGitHub();
    const { log } = logged();
    await expect(
      withGitToken({ github, githubHost: HOST, log }, SESSION, 'read', async () => {
        throw new Error('push rejected');
      }),
    ).rejects.toThrow('push rejected');
    expect(minted[0]?.revoked).toBe(true);
  });

  it('refuses, and revokes, when GitHub names the repository strangely', async () => {
    const { github, minted } = fakeGitHub({ fullName: 'octo/../../evil' });
    const { log } = logged();
    let ran = false;
    await expect(
      withGitToken({ github, githubHost: HOST, log }, SESSION, 'read', async () => {
        ran = true;
      }),
    ).rejects.toThrow(/invalid repository full name/);
    expect(ran).toBe(false);
    expect(minted[0]?.revoked).toBe(true);
  });

  it('logs a failed revocation at warn, without the token, and keeps the result', async () => {
    const { github } = fakeGitHub({ revokeFails: true });
    const { log, lines } = logged();
    const result = await withGitToken(
      { github, githubHost: HOST, log },
      SESSION,
      'write',
      async () => 'pushed',
    );
    expect(result).toBe('pushed');
    expect(lines).toMatchObject([
      { level: 40, msg: 'could not revoke the git token', sessionId: 's-abc123', access: 'write' },
    ]);
    expect(JSON.stringify(lines)).not.toContain('ghs_1');
  });

  it('gives a session without an installation its stored URL and no token', async () => {
    const { github, minted } = fakeGitHub();
    const { log } = logged();
    const local = { ...SESSION, installationId: null, cloneUrl: 'file:///tmp/origin.git' };
    const seen = await withGitToken(
      { github, githubHost: HOST, log },
      local,
      'write',
      async (repo, auth) => ({ repo, auth }),
    );
    expect(seen).toEqual({ repo: { id: 42, cloneUrl: 'file:///tmp/origin.git' }, auth: null });
    expect(minted).toEqual([]);
  });
});
