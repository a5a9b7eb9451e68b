import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { and, asc, count, eq, inArray } from 'drizzle-orm';
import { stringify } from 'yaml';
import { jobs, type Session, sessions, turns } from '../../src/db/schema.js';
import { openTestDatabase } from '../../test/helpers/databases.js';
import { createOrigin } from '../../test/helpers/git.js';
import { type RecordedCall, startLocalGitHub } from '../../test/helpers/local-github.js';
import type { CleanupStack } from './cleanup.js';
import { SECRET, startOrchestratorProcess } from './orchestrator.js';
import { deliver, INSTALLATION_ID, payload, REPOSITORY, REPOSITORY_ID } from './payloads.js';

export const TIMED_AGENT = fileURLToPath(new URL('../fixtures/timed-agent.mjs', import.meta.url));

export interface Marker {
  /** When the agent's code began to run (ms since the epoch). */
  at: number;
  /** When its process was created. */
  processStart: number;
  mode: 'first' | 'next';
  /** The worktree it ran in: `.../sessions/<session id>`. */
  cwd: string;
}

/** The operator config of an agent `timed`: the fake agent, noting when each turn starts. */
export function timedAgentConfig(markerFile: string) {
  return {
    agents: {
      timed: {
        firstTurn: [process.execPath, TIMED_AGENT, 'first', '{promptFile}'],
        nextTurn: [process.execPath, TIMED_AGENT, 'next', '{messageFile}', '{sessionRef}'],
        output: 'claude-stream-json' as const,
      },
    },
    env: { set: { BENCH_MARKER_FILE: markerFile } },
  };
}

export function readMarkers(file: string): Marker[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Marker);
}

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  { timeoutMs = 60_000, intervalMs = 20 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export type AppScenario = Awaited<ReturnType<typeof startAppScenario>>;

/**
 * The whole app as a user runs it: `node dist/cli.js start` (embedded runner, Postgres in a fresh
 * database) against a local GitHub in this process, a bare origin, and the timed fake agent.
 */
export async function startAppScenario(options: {
  name: string;
  resultsDir: string;
  cleanup: CleanupStack;
  log: (message: string) => void;
  repoConfig?: Record<string, unknown>;
}) {
  const { cleanup } = options;
  const t = await openTestDatabase('postgres');
  cleanup.add('database', () => t.cleanup());
  const github = await startLocalGitHub();
  cleanup.add('local GitHub', () => github.close());
  const origin = await createOrigin();
  cleanup.add('origin', () => origin.cleanup());
  const markerDir = mkdtempSync(path.join(tmpdir(), 'ao-bench-markers-'));
  cleanup.add('marker dir', () => rmSync(markerDir, { recursive: true, force: true }));
  const markerFile = path.join(markerDir, 'turns.jsonl');

  github.setFile(
    REPOSITORY,
    '.github/agent.yml',
    stringify({ agent: 'timed', ...options.repoConfig }),
  );
  github.setRole('alice', 'admin');
  // The runner fetches and pushes over HTTP, with a token minted for each, as with GitHub.
  github.addRepository({
    fullName: REPOSITORY,
    id: REPOSITORY_ID,
    installationId: INSTALLATION_ID,
    gitDir: origin.path,
    defaultBranch: 'main',
  });
  // When each call reached the local GitHub (its record keeps no time): appended as it arrives.
  const callTimes = new WeakMap<RecordedCall, number>();
  const record = github.calls.push.bind(github.calls);
  github.calls.push = (...calls: RecordedCall[]) => {
    for (const call of calls) callTimes.set(call, Date.now());
    return record(...calls);
  };
  const server = await startOrchestratorProcess({
    name: options.name,
    databaseUrl: t.url!,
    githubEnv: github.env,
    runner: 'embedded',
    resultsDir: options.resultsDir,
    cleanup,
    log: options.log,
    operatorConfig: timedAgentConfig(markerFile),
  });
  const { db } = t.database;

  const session = async (id: string): Promise<Session> => {
    const [row] = await db.select().from(sessions).where(eq(sessions.id, id));
    return row!;
  };
  const turnsOf = (sessionId: string) =>
    db.select().from(turns).where(eq(turns.sessionId, sessionId)).orderBy(asc(turns.number));

  return {
    db,
    github,
    origin,
    server,
    markers: () => readMarkers(markerFile),
    /** When the call reached the local GitHub (ms since the epoch). */
    callTime: (call: RecordedCall) => callTimes.get(call) ?? Number.NaN,
    deliver: (event: string, body: Record<string, unknown>, id?: string) =>
      deliver(server.url, SECRET, event, body, id),
    session,
    turnsOf,

    /** Waits until the session has exactly n turns, all finished, and is waiting again. */
    async turnsFinished(sessionId: string, n: number, timeoutMs = 60_000): Promise<Session> {
      return until(
        `turn ${n} of ${sessionId} to finish`,
        async () => {
          const all = await turnsOf(sessionId);
          if (all.length !== n || all.some((turn) => turn.status !== 'finished')) return undefined;
          const s = await session(sessionId);
          if (s.status === 'needs_human')
            throw new Error(`session needs a human: ${s.statusReason}`);
          return s.status === 'waiting' ? s : undefined;
        },
        { timeoutMs, intervalMs: 25 },
      );
    },

    /** Waits until no job is pending or running: the app has nothing left to do. */
    async idle(timeoutMs = 60_000): Promise<void> {
      await until(
        'the app to be idle',
        async () => {
          const [row] = await db
            .select({ n: count() })
            .from(jobs)
            .where(inArray(jobs.status, ['pending', 'running']));
          return row?.n === 0;
        },
        { timeoutMs, intervalMs: 50 },
      );
    },

    /**
     * Labels issue n `agent` and waits for its session to finish the first turn, push and open
     * its pull request. Returns the session and the label-to-first-turn time (ms).
     */
    async startSession(issueNumber: number) {
      const labeled = payload('issues', 'labeled', {
        cloneUrl: github.gitUrl(REPOSITORY),
        edit: (p) => {
          p.label = { id: 1, name: 'agent', color: 'ededed' };
          p.issue = {
            ...p.issue,
            number: issueNumber,
            title: `Widget ${issueNumber} is broken`,
            body: 'Please fix it.',
            html_url: `https://github.example/${REPOSITORY}/issues/${issueNumber}`,
            state: 'open',
            user: { login: 'alice', id: 5, type: 'User' },
          };
          delete p.issue.pull_request;
        },
      });
      const sent = Date.now();
      const answer = await deliver(server.url, SECRET, 'issues', labeled);
      if (answer.status !== 200) throw new Error(`label delivery answered ${answer.status}`);
      const found = await until(
        `a session for issue ${issueNumber}`,
        async () => {
          const [row] = await db
            .select()
            .from(sessions)
            .where(
              and(eq(sessions.repositoryId, REPOSITORY_ID), eq(sessions.issueNumber, issueNumber)),
            );
          return row;
        },
        { timeoutMs: 30_000 },
      );
      const ready = await this.turnsFinished(found.id, 1);
      if (!ready.prNumber) throw new Error('the first turn opened no pull request');
      const marker = readMarkers(markerFile).find(
        (m) => m.mode === 'first' && path.basename(m.cwd) === found.id,
      );
      return { session: ready, labelToFirstTurnMs: marker ? marker.at - sent : Number.NaN };
    },
  };
}
