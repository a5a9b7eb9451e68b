import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionMessages, sessions } from '../../src/db/schema.js';
import type { TurnHandle } from '../../src/runner/runtimes/runtime.js';
import { createTmuxRuntime } from '../../src/runner/runtimes/tmux-runtime.js';
import { ENGINES } from '../helpers/databases.js';
import { git, refSha } from '../helpers/git.js';
import { APP_SECRETS, groupAlive, type Harness, REPOSITORY, startHarness } from './harness.js';

/** A file's content on a branch of the bare origin. */
function show(h: Harness, branch: string, file: string): Promise<string> {
  return git(h.origin.path, ['show', `refs/heads/${branch}:${file}`]);
}

describe.each(ENGINES)('a session on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ engine });
  });
  afterAll(() => h?.cleanup());

  it('spawns a worktree, runs the agent, pushes its commit and opens the pull request', async () => {
    const created = await h.createSession({ title: 'Crash when saving' });
    const s = await h.waitFor(created.id, ['waiting']);

    expect(s.branch).toMatch(/^agent\/\d+-crash-when-saving$/);
    expect(s.runnerId).toBe(h.host.runnerId);
    // The agent's own commit reached the origin, and the session records it as the head.
    const pushed = await refSha(h.origin.path, `refs/heads/${s.branch}`);
    expect(pushed).toBe(s.headSha);
    expect(await git(h.origin.path, ['log', '-1', '--format=%s', s.branch!])).toBe(
      'Fake agent: first turn',
    );
    expect(await show(h, s.branch!, 'agent-first.md')).toContain('Crash when saving');

    const [pr] = h.github.pullsOf(REPOSITORY);
    expect(pr).toMatchObject({
      title: 'Crash when saving',
      head: { ref: s.branch },
      base: { ref: 'main' },
      draft: false,
    });
    expect(pr?.body).toContain(`Closes #${s.issueNumber}`);
    expect(pr?.body).toContain('Fake agent finished the first turn.');
    expect(s.prNumber).toBe(pr?.number);

    expect(s.costUsd).toBeCloseTo(0.0125);
    expect(s.inputTokens).toBe(1200);
    expect(s.outputTokens).toBe(340);
    expect(s.agentSessionRef).toMatch(/^[0-9a-f-]{36}$/);
    const [turn] = await h.turnsOf(s.id);
    expect(turn).toMatchObject({ number: 1, status: 'finished', exitCode: 0, outcome: 'ok' });
    const kinds = (await h.eventsOf(s.id)).map((e) => e.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'created',
        'spawning',
        'workspace-ready',
        'turn-started',
        'agent.session',
        'agent.tool_use',
        'agent.result',
        'turn-finished',
        'pushed',
        'pr-opened',
      ]),
    );
    // git had a token of its own for each operation: read to fetch, write to push, each for this
    // one repository, each revoked once done.
    const gitTokens = h.github.tokens.filter((t) => t.repositoryIds !== null);
    expect(
      gitTokens.map((t) => [t.repositoryIds, t.permissions.contents, t.revokedAt !== null]),
    ).toEqual([
      [[1], 'read', true],
      [[1], 'write', true],
    ]);
    expect(
      h.github.gitRequests.filter((r) => r.service === 'git-receive-pack').map((r) => r.token),
    ).toEqual([gitTokens[1]!.token, gitTokens[1]!.token]);
  });

  it('delivers messages sent during a turn as the next turn, in order, each exactly once', async () => {
    const created = await h.createSession({ body: 'Take your time. FAKE: slow 1500' });
    await h.waitFor(created.id, ['working'], {
      until: async () => (await h.turnsOf(created.id))[0]?.status === 'running',
    });
    await h.queueMessage(created.id, 'first message', 'alice');
    await h.queueMessage(created.id, 'second message', 'ci');
    const afterTwo = await h.waitFor(created.id, ['waiting'], {
      until: () => h.turnsDone(created.id, 2),
    });
    let next = await show(h, afterTwo.branch!, 'agent-next.md');
    expect(next.indexOf('Message 1 of 2 (from alice)')).toBeGreaterThan(-1);
    expect(next.indexOf('first message')).toBeLessThan(next.indexOf('second message'));

    await h.queueMessage(created.id, 'third message', 'bob');
    await h.waitFor(created.id, ['waiting'], {
      until: () => h.turnsDone(created.id, 3),
    });
    next = await show(h, afterTwo.branch!, 'agent-next.md');
    expect(next.split('first message')).toHaveLength(2); // once, not repeated in turn 3
    expect(next.split('third message')).toHaveLength(2);

    const turns = await h.turnsOf(created.id);
    const messages = await h.db
      .select()
      .from(sessionMessages)
      .where(eq(sessionMessages.sessionId, created.id));
    expect(messages.map((m) => [m.body, m.turnId])).toEqual([
      ['first message', turns[1]?.id],
      ['second message', turns[1]?.id],
      ['third message', turns[2]?.id],
    ]);
    // Next turns resume the agent's own session: every turn reports the first turn's ref.
    const refs = (await h.eventsOf(created.id))
      .filter((e) => e.kind === 'agent.session')
      .map((e) => [e.data.turn, e.data.ref]);
    const first = (await h.session(created.id)).agentSessionRef;
    expect(refs).toEqual([
      [1, first],
      [2, first],
      [3, first],
    ]);
  });

  it('commits what the agent left uncommitted, with a message saying so', async () => {
    const created = await h.createSession({ body: 'FAKE: no-commit' });
    const s = await h.waitFor(created.id, ['waiting']);
    expect(await git(h.origin.path, ['log', '-1', '--format=%s', s.branch!])).toBe(
      'Agent Orchestrator: changes left uncommitted after turn 1',
    );
    expect(await show(h, s.branch!, 'agent-first.md')).toContain('FAKE: no-commit');
  });

  it('needs a human when the agent fails, and opens no pull request for no changes', async () => {
    const before = h.github.pullsOf(REPOSITORY).length;
    const created = await h.createSession({ body: 'FAKE: fail' });
    const s = await h.waitFor(created.id, ['needs_human']);
    expect(s.statusReason).toBe('turn 1 exited with status 3');
    const kinds = (await h.eventsOf(s.id)).map((e) => e.kind);
    expect(kinds).toContain('agent-failed');
    expect(kinds).toContain('no-changes');
    expect(h.github.pullsOf(REPOSITORY)).toHaveLength(before);
  });

  it("gives the agent none of the app's secrets and not the installation token", async () => {
    const created = await h.createSession({ body: 'FAKE: dump-env' });
    const s = await h.waitFor(created.id, ['waiting']);
    const env = JSON.parse(await show(h, s.branch!, 'env.json')) as Record<string, string>;
    expect(env.PATH).toBe(process.env.PATH);
    const dump = JSON.stringify(env);
    for (const [name, value] of Object.entries(APP_SECRETS)) {
      expect(env).not.toHaveProperty(name);
      expect(dump).not.toContain(value);
    }
    expect(dump).not.toContain('ghs_local_installation_token');
    expect(env.HOME).not.toBe(process.env.HOME);
  });

  it('reports a missing agent program on the issue in plain words', async () => {
    const created = await h.createSession({ agent: 'claude-code-missing' });
    const s = await h.waitFor(created.id, ['needs_human']);
    expect(s.statusReason).toBe('unknown agent "claude-code-missing"');
    const comment = h.github.comments.find((c) => c.issue === s.issueNumber);
    expect(comment?.body).toContain('no agent named `claude-code-missing`');
  });

  it('reports a failing setup command and does not start the agent', async () => {
    const created = await h.createSession({ config: { setup: ['echo preparing', 'exit 4'] } });
    const s = await h.waitFor(created.id, ['needs_human']);
    expect(s.statusReason).toBe('setup command failed: exit 4');
    expect(await h.turnsOf(s.id)).toEqual([]);
    const comment = h.github.comments.find((c) => c.issue === s.issueNumber);
    expect(comment?.body).toContain('The setup command `exit 4` exited with status 4');
  });
});

describe('runner limits and stops', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      maxSessions: 2,
      operator: {
        agents: {
          fake: (await import('./harness.js')).fakeAgentConfig,
          ghost: {
            firstTurn: ['definitely-not-installed-agent', '{promptFile}'],
            nextTurn: ['definitely-not-installed-agent'],
          },
        },
        profiles: {
          careful: { agent: 'fake', model: 'model-x', instructions: 'Profile says: be careful.' },
        },
        limits: { turnMinutes: 0.05 },
      },
    });
  });
  afterAll(() => h?.cleanup());

  it('runs at most MAX_SESSIONS sessions at once and starts the rest first in, first out', async () => {
    const created = [];
    // No changes, so no pull requests: Probot spaces those out as GitHub asks, which is slow here.
    for (let i = 0; i < 5; i++)
      created.push(await h.createSession({ body: 'FAKE: slow 700\nFAKE: no-change' }));
    let most = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const all = await Promise.all(created.map((c) => h.session(c.id)));
      most = Math.max(
        most,
        all.filter((s) => s.status === 'spawning' || s.status === 'working').length,
      );
      if (all.every((s) => s.status === 'waiting') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(most).toBe(2);
    const started = await Promise.all(
      created.map(async (c) =>
        (await h.eventsOf(c.id)).find((e) => e.kind === 'spawning')!.createdAt.getTime(),
      ),
    );
    expect([...started].sort((a, b) => a - b)).toEqual(started);
  }, 60_000);

  it('runs the agent a profile names, with its instructions after the repository’s', async () => {
    const created = await h.createSession({
      agent: 'ghost', // the profile's agent wins
      profile: 'careful',
      config: { instructions: 'Repository says: run the tests.' },
    });
    const s = await h.waitFor(created.id, ['waiting']);
    const prompt = await show(h, s.branch!, 'agent-first.md');
    expect(prompt.indexOf('Repository says: run the tests.')).toBeGreaterThan(-1);
    expect(prompt.indexOf('Repository says')).toBeLessThan(
      prompt.indexOf('Profile says: be careful.'),
    );
  });

  it('reports an agent program that is not installed', async () => {
    const created = await h.createSession({ agent: 'ghost' });
    const s = await h.waitFor(created.id, ['needs_human']);
    expect(s.statusReason).toBe('agent program "definitely-not-installed-agent" not found');
    const comment = h.github.comments.find((c) => c.issue === s.issueNumber);
    expect(comment?.body).toContain(
      'its program `definitely-not-installed-agent` is not installed on the runner',
    );
  });

  it('kills an agent that hangs past its time limit, whole process group, and needs a human', async () => {
    const created = await h.createSession({ body: 'FAKE: hang' });
    const s = await h.waitFor(created.id, ['needs_human'], { timeoutMs: 30_000 });
    expect(s.statusReason).toBe('turn 1 exceeded its time limit');
    const [turn] = await h.turnsOf(s.id);
    expect(groupAlive((turn!.handle as unknown as TurnHandle).pid)).toBe(false);
    expect((await h.eventsOf(s.id)).map((e) => e.kind)).toContain('agent-stuck');
  });

  it('stops a running turn, leaves no process of it alive and removes the worktree', async () => {
    const created = await h.createSession({ body: 'FAKE: hang' });
    await h.waitFor(created.id, ['working'], {
      until: async () => Boolean((await h.turnsOf(created.id))[0]?.handle),
    });
    const [turn] = await h.turnsOf(created.id);
    const pgid = (turn!.handle as unknown as TurnHandle).pid;
    expect(groupAlive(pgid)).toBe(true);
    const path = (await h.session(created.id)).workspacePath!;
    expect(existsSync(path)).toBe(true);

    await h.requestStop(created.id);
    const s = await h.waitFor(created.id, ['stopped']);
    expect(s.statusReason).toBe('stopped by alice');
    expect(groupAlive(pgid)).toBe(false);
    expect(existsSync(path)).toBe(false);
    const [finished] = await h.turnsOf(created.id);
    expect(finished).toMatchObject({ status: 'finished', outcome: 'stopped' });
    expect((await h.eventsOf(s.id)).at(-1)).toMatchObject({
      kind: 'ended',
      data: { status: 'stopped', cleanedUp: true },
    });
  });
});

describe('the runner with the tmux runtime', () => {
  let h: Harness;
  const socketName = `ao-test-${process.pid}`;
  beforeAll(async () => {
    const log = pino({ level: 'silent' });
    h = await startHarness({ runtime: createTmuxRuntime({ log, socketName }) });
  });
  afterAll(async () => {
    await h?.cleanup();
    spawnSync('tmux', ['-L', socketName, 'kill-server']);
  });

  it('runs the turn in a tmux window named after the session, which a person can watch', async () => {
    const created = await h.createSession({ body: 'FAKE: slow 1500' });
    await h.waitFor(created.id, ['working'], {
      until: async () => Boolean((await h.turnsOf(created.id))[0]?.handle),
    });
    const windows = spawnSync(
      'tmux',
      ['-L', socketName, 'list-windows', '-a', '-F', '#{window_name}'],
      { encoding: 'utf8' },
    );
    expect(windows.stdout.split('\n')).toContain(created.id);
    const s = await h.waitFor(created.id, ['waiting']);
    expect(await git(h.origin.path, ['log', '-1', '--format=%s', s.branch!])).toBe(
      'Fake agent: first turn',
    );
  });

  it('stops a running turn and leaves no process of its group alive', async () => {
    const created = await h.createSession({ body: 'FAKE: hang' });
    await h.waitFor(created.id, ['working'], {
      until: async () => Boolean((await h.turnsOf(created.id))[0]?.handle),
    });
    const [turn] = await h.turnsOf(created.id);
    const pgid = (turn!.handle as unknown as TurnHandle).pid;
    expect(groupAlive(pgid)).toBe(true);
    await h.requestStop(created.id);
    await h.waitFor(created.id, ['stopped']);
    expect(groupAlive(pgid)).toBe(false);
  });
});

describe('many sessions and restarts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxSessions: 10 });
  });
  afterAll(() => h?.cleanup());

  it('spawns 10 sessions on one repository at once: 10 worktrees on 10 branches, no git lock error', async () => {
    const created = await Promise.all(
      Array.from({ length: 10 }, () => h.createSession({ body: 'FAKE: no-change' })),
    );
    const done = await Promise.all(
      created.map((c) => h.waitFor(c.id, ['waiting'], { timeoutMs: 60_000 })),
    );
    expect(new Set(done.map((s) => s.workspacePath)).size).toBe(10);
    expect(new Set(done.map((s) => s.branch)).size).toBe(10);
    for (const s of done) {
      expect(existsSync(s.workspacePath!)).toBe(true);
      const gitDir = h.gitDirOf(s.id, s.workspacePath!);
      expect(await git(s.workspacePath!, [`--git-dir=${gitDir}`, 'branch', '--show-current'])).toBe(
        s.branch,
      );
    }
  }, 90_000);

  it('prunes worktrees whose session has ended when it starts again', async () => {
    const created = await h.createSession({ body: 'FAKE: no-change' });
    const s = await h.waitFor(created.id, ['waiting']);
    // The session ends while no runner is there to clean up after it.
    await h.host.stop();
    await h.db.update(sessions).set({ status: 'closed' }).where(eq(sessions.id, s.id));
    const mirror = path.join(h.root, 'workspaces', 'mirrors', `${s.repositoryId}.git`);
    // The mirror keeps what it took from the session's own checkout under the session's id.
    const taken = ['for-each-ref', '--format=%(refname)', `refs/orchestrator/sessions/${s.id}`];
    expect(await git(mirror, taken)).toContain(s.id);
    expect(existsSync(s.workspacePath!)).toBe(true);
    await h.restartHost();
    expect(existsSync(s.workspacePath!)).toBe(false);
    expect(await git(mirror, taken)).toBe('');
  });
});
