import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from './in-process.js';

// The repository's own .github/agent.yml, read by the app in-process.
describe('an invalid .github/agent.yml', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess({ repoConfig: { draft: 'yes please' } });
  });
  afterAll(() => h?.cleanup());

  // Two sessions at once: their waits get longer than the harness's 30 s default.
  const LONG = 90_000;

  it('gets one comment naming the bad field, and the defaults apply', async () => {
    for (const number of [95, 96]) await h.deliver('issues', h.labelled(number));
    await h.until(
      'both sessions',
      async () => (await h.sessionFor(95)) && (await h.sessionFor(96)),
      LONG,
    );
    await h.settled(LONG);
    const complaints = h.github.comments.filter((c) => c.body.includes('is not valid'));
    expect(complaints).toHaveLength(1);
    expect(complaints[0]!.body).toContain('`draft`');
    // Defaults: the built-in agent, since the file's `agent: fake` was not read either.
    expect((await h.sessionFor(95))?.agent).toBe('claude-code');
  }, 300_000);
});
