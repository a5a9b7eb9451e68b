import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  type Session,
  type SessionStatus,
  sessionEvents,
  sessionMessages,
  sessions,
  turns,
} from '../../src/db/schema.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import type { TurnHandle } from '../../src/runner/runtimes/runtime.js';
import { createSessionService } from '../../src/sessions/session-service.js';
import { killProcessesUnder } from '../e2e/process-table.js';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { createOrigin, git, type Origin } from '../helpers/git.js';
import { startLocalGitHub } from '../helpers/local-github.js';
import { type CliProcess, generatePrivateKey, runCli } from '../helpers/processes.js';
import { until as waitUntil } from '../helpers/until.js';
import { fakeAgentConfig, groupAlive, REPOSITORY } from './harness.js';

describe('a runner killed with SIGKILL during turns, then restarted', () => {
  let t: TestDatabase;
  let origin: Origin;
  let github: Awaited<ReturnType<typeof startLocalGitHub>>;
  let env: Record<string, string>;
  let runner: CliProcess | undefined;
  let dir = '';

  beforeAll(async () => {
    t = await openTestDatabase('postgres');
    origin = await createOrigin();
    github = await startLocalGitHub();
    github.addRepository({
      fullName: REPOSITORY,
      id: 1,
      installationId: 7,
      gitDir: origin.path,
      defaultBranch: 'main',
    });
    dir = mkdtempSync(path.join(tmpdir(), 'ao-crash-'));
    const config = path.join(dir, 'orchestrator.yml');
    writeFileSync(config, stringify({ agents: { fake: fakeAgentConfig } }));
    env = {
      APP_ID: '1',
      PRIVATE_KEY: generatePrivateKey(),
      DATABASE_URL: t.url!,
      DATA_DIR: path.join(dir, 'data'),
      ORCHESTRATOR_CONFIG: config,
      MAX_SESSIONS: '4',
      ...github.env,
    };
  });
  afterAll(async () => {
    runner?.child.kill('SIGKILL');
    // Turns outlive the runner by design: a failed test must not leave its agents waiting.
    if (dir) killProcessesUnder(dir);
    await github?.close();
    await origin?.cleanup();
    await t?.cleanup();
  });

  async function startRunner() {
    const cli = runCli(['runner'], env, path.dirname(env.DATA_DIR!));
    await cli.waitFor(/runner started/);
    return cli;
  }

  async function session(id: string): Promise<Session> {
    const [row] = await t.database.db.select().from(sessions).where(eq(sessions.id, id));
    return row!;
  }
  const turnsOf = (id: string) =>
    t.database.db.select().from(turns).where(eq(turns.sessionId, id)).orderBy(asc(turns.number));

  const until = <T>(
    what: string,
    check: () => Promise<T | undefined | false>,
    timeoutMs = 30_000,
  ) => waitUntil(what, check, timeoutMs, () => `runner output:\n${runner?.output()}`);
  const inStatus = (id: string, status: SessionStatus, turnCount: number) =>
    until(`${id} to be ${status} after ${turnCount} turns`, async () => {
      // The turns first, the status after: a status read later cannot be older than them.
      const all = await turnsOf(id);
      if (all.length !== turnCount || all.some((t) => t.status !== 'finished')) return false;
      const s = await session(id);
      return s.status === status && s;
    });

  it('records the outcome of every turn, leaves no process behind and delivers the queued message once', async () => {
    const service = createSessionService({
      db: t.database.db,
      queue: createJobQueue({ db: t.database.db }),
    });
    const create = (issueNumber: number, body: string) =>
      service.create({
        installationId: 7,
        repositoryId: 1,
        repositoryFullName: REPOSITORY,
        cloneUrl: github.gitUrl(REPOSITORY),
        issueNumber,
        agent: 'fake',
        triggeredBy: 'alice',
        context: {
          issue: {
            repository: REPOSITORY,
            number: issueNumber,
            title: `Issue ${issueNumber}`,
            body,
            comments: [],
          },
          config: { baseBranch: 'main' },
        },
      });

    runner = await startRunner();
    // One turn outlives the crash and the restart (until the test lets it end); the other ends
    // while no runner is there.
    // In the agent's HOME: the one folder of the host its sandbox shares besides its checkout.
    const long = (await create(1, 'FAKE: until-file ~/release-long-turn'))!;
    const release = path.join(env.DATA_DIR!, 'workspaces', 'homes', long.id, 'release-long-turn');
    const short = (await create(2, 'FAKE: slow 1500'))!;
    const running = async (id: string) => {
      const [turn] = await turnsOf(id);
      return turn?.status === 'running' && (turn.handle as unknown as TurnHandle);
    };
    const longHandle = await until('the long turn to run', () => running(long.id));
    const shortHandle = await until('the short turn to run', () => running(short.id));

    // A message arrives during the turn; then the app dies without any chance to clean up.
    await service.apply(long.id, {
      type: 'message',
      body: 'message sent during the crash',
      source: 'alice',
    });
    runner.child.kill('SIGKILL');
    await runner.exited;
    expect(groupAlive(longHandle.pid)).toBe(true); // agents are not children that die with the app
    await until(
      'the short turn to end while the runner is down',
      async () => !groupAlive(shortHandle.pid),
    );

    runner = await startRunner();
    await until('the long turn to be adopted', async () => {
      const events = await t.database.db
        .select()
        .from(sessionEvents)
        .where(eq(sessionEvents.sessionId, long.id));
      return events.some((e) => e.kind === 'turn-adopted');
    });
    expect(groupAlive(longHandle.pid)).toBe(true);
    writeFileSync(release, '');
    const shortDone = await inStatus(short.id, 'waiting', 1);
    const longDone = await inStatus(long.id, 'waiting', 2);

    // Both first turns were finished from what really happened, and their work was pushed.
    for (const s of [shortDone, longDone]) {
      const [first] = await turnsOf(s.id);
      expect(first).toMatchObject({ status: 'finished', exitCode: 0, outcome: 'ok' });
      expect(await git(origin.path, ['show', `refs/heads/${s.branch}:agent-first.md`])).toContain(
        `Issue ${s.issueNumber}`,
      );
      expect(s.prNumber).not.toBeNull();
    }
    expect(groupAlive(longHandle.pid)).toBe(false);
    expect(groupAlive(shortHandle.pid)).toBe(false);

    // The message was delivered in the second turn, exactly once.
    const [, second] = await turnsOf(long.id);
    const [message] = await t.database.db
      .select()
      .from(sessionMessages)
      .where(eq(sessionMessages.sessionId, long.id));
    expect(message?.turnId).toBe(second?.id);
    const next = await git(origin.path, ['show', `refs/heads/${longDone.branch}:agent-next.md`]);
    expect(next.split('message sent during the crash')).toHaveLength(2);
    const adopted = await t.database.db
      .select()
      .from(sessionEvents)
      .where(eq(sessionEvents.kind, 'turn-adopted'));
    expect(adopted.map((e) => [e.sessionId, e.data.alive]).sort()).toEqual(
      [
        [long.id, true],
        [short.id, false],
      ].sort(),
    );
    // Each turn's result was recorded once, though the runner watched the long one twice.
    const results = await t.database.db
      .select()
      .from(sessionEvents)
      .where(eq(sessionEvents.sessionId, long.id))
      .then((rows) => rows.filter((e) => e.kind === 'agent.result'));
    expect(results.map((e) => e.data.turn)).toEqual([1, 2]);

    runner.child.kill('SIGTERM');
    expect((await runner.exited).code).toBe(0);
  }, 90_000);
});
