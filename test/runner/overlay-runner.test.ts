import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git.js';
import { mountsUnder, unmountUnder } from '../helpers/mounts.js';
import { type Harness, REPOSITORY, startHarness } from './harness.js';

/** The runner with WORKSPACE_CHECKOUT=overlay: the same sessions, on a shared checkout. */
describe('a session on an overlay worktree', () => {
  let h: Harness;
  beforeAll(async () => {
    // Overlays are worktrees of the mirror, which only an unsandboxed runner uses.
    h = await startHarness({ workspaceCheckout: 'overlay', sandbox: 'off' });
  });
  afterAll(() => h?.cleanup());

  const show = (branch: string, file: string) =>
    git(h.origin.path, ['show', `refs/heads/${branch}:${file}`]);

  it('runs turns, pushes and opens the pull request, and its next turn runs after a reboot', async () => {
    const created = await h.createSession({ title: 'Crash when saving' });
    let s = await h.waitFor(created.id, ['waiting']);
    expect(await mountsUnder(s.workspacePath!)).toEqual([s.workspacePath]);
    expect(await show(s.branch!, 'agent-first.md')).toContain('Crash when saving');
    expect(h.github.pullsOf(REPOSITORY).map((pr) => pr.head.ref)).toContain(s.branch);
    // Only the agent's own file is in the session's layer; the repository's files are shared.
    const upper = path.join(h.root, 'workspaces', 'overlays', s.id, 'upper');
    expect(existsSync(path.join(upper, 'agent-first.md'))).toBe(true);
    expect(existsSync(path.join(upper, 'README.md'))).toBe(false);

    // The machine restarts: the runner stops, the mount is gone, a message waits.
    await h.host.stop();
    await unmountUnder(s.workspacePath!);
    await h.queueMessage(s.id, 'Please also handle an empty file.');
    await h.restartHost();
    s = await h.waitFor(s.id, ['waiting'], { until: (x) => h.turnsDone(x.id, 2) });
    expect(await show(s.branch!, 'agent-next.md')).toContain('Please also handle an empty file.');
    expect(await show(s.branch!, 'agent-first.md')).toContain('Crash when saving');

    await h.requestStop(s.id);
    await h.waitFor(s.id, ['stopped']);
    expect(await mountsUnder(path.join(h.root, 'workspaces', 'sessions'))).toEqual([]);
    expect(existsSync(path.dirname(upper))).toBe(false);
  }, 60_000);
});
