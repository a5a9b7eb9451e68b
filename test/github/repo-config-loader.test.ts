import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from '../../src/github/repo-config-loader.js';
import { DEFAULT_REPO_CONFIG } from '../../src/sessions/repo-config.js';
import { octokit, REPO } from './support/fake-lifecycle.js';
import { API, repoPath, useNock } from './support/github-api.js';

const contents = () => nock(API).get(`${repoPath()}/contents/.github%2Fagent.yml`);

describe('reading .github/agent.yml', () => {
  useNock();

  it('GitHub failing to answer fails the read, so the job tries again rather than act on defaults', async () => {
    contents().reply(502, { message: 'Bad Gateway' });
    await expect(loadRepoConfig(octokit(), REPO.fullName)).rejects.toMatchObject({ status: 502 });
  });

  it('no answer at all fails the read too', async () => {
    contents().replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    await expect(loadRepoConfig(octokit(), REPO.fullName)).rejects.toMatchObject({ status: 500 });
  });

  it('a file the app may not read is a problem to say, and the defaults apply', async () => {
    contents().reply(403, { message: 'Resource not accessible by integration' });
    const loaded = await loadRepoConfig(octokit(), REPO.fullName);
    expect(loaded.config).toEqual(DEFAULT_REPO_CONFIG);
    expect(loaded.problem).toContain('could not be read: Resource not accessible by integration');
  });
});
