/**
 * Benchmark 3: from a session's spawn to its first turn starting, on a generated repository of
 * 20,000 files and 2,000 commits: the runner's warm mirror plus a worktree per session against a
 * fresh `git clone` per session, both through the same runner code, with the disk each uses.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { asc, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { sessions, turns } from '../src/db/schema.js';
import { createJobQueue } from '../src/jobs/queue.js';
import { createWorker } from '../src/jobs/worker.js';
import { operatorConfigSchema } from '../src/operator-config.js';
import { createAdapterRegistry } from '../src/runner/adapters/index.js';
import type { RunnerGitHub } from '../src/runner/runner-github.js';
import { createProcessRuntime } from '../src/runner/runtimes/process-runtime.js';
import { createSessionJobs } from '../src/runner/session-jobs.js';
import {
  type CreatedWorkspace,
  type CreateInput,
  createWorkspaces,
  DEFAULT_IDENTITY,
  type Workspaces,
} from '../src/runner/workspaces.js';
import { createSessionService } from '../src/sessions/session-service.js';
import { openTestDatabase } from '../test/helpers/databases.js';
import { git } from '../test/helpers/git.js';
import { readMarkers, timedAgentConfig, until } from './support/app-scenario.js';
import { createCleanupStack } from './support/cleanup.js';
import { generatedRepo } from './support/generated-repo.js';
import { type Benchmark, verdict } from './support/report.js';
import { mb, median, ms, times } from './support/stats.js';

const run = promisify(execFile);
const TARGET = 10;
type Mode = 'worktree' | 'clone';

/** Disk used by the folders, in kilobytes (du -sk: blocks allocated, as the disk sees them). */
async function du(...dirs: string[]): Promise<number> {
  const { stdout } = await run('du', ['-sk', '--total', ...dirs]);
  return Number(/^(\d+)\s+total$/m.exec(stdout)?.[1] ?? Number.NaN);
}

/** The runner must never need GitHub here: the sessions have no installation. */
const noGitHub: RunnerGitHub = {
  installationToken: () => Promise.reject(new Error('no GitHub in this benchmark')),
  findPullRequest: () => Promise.reject(new Error('no GitHub in this benchmark')),
  openPullRequest: () => Promise.reject(new Error('no GitHub in this benchmark')),
  commentOnIssue: () => Promise.reject(new Error('no GitHub in this benchmark')),
};

interface Sample {
  mode: Mode;
  sessionId: string;
  workspaceMs: number;
  firstTurnMs: number;
  diskKb: number;
  gitDataKb: number;
}

export const spawnCost: Benchmark = {
  id: 'spawn',
  title: '3. Spawn cost: warm mirror + worktree vs fresh clone',
  async run({ quick, resultsDir, log }) {
    const cleanup = createCleanupStack(log);
    try {
      const repo = await generatedRepo(path.join(resultsDir, 'cache'), { log });
      const root = mkdtempSync(path.join(tmpdir(), 'ao-bench-spawn-'));
      cleanup.add('spawn temp dir', () => rmSync(root, { recursive: true, force: true }));
      // A copy: the sessions push their branches to it, the cache stays as generated.
      const origin = path.join(root, 'origin.git');
      cpSync(repo.path, origin, { recursive: true });
      const cloneUrl = pathToFileURL(origin).href;
      const markerFile = path.join(root, 'turns.jsonl');
      const workspaceRoot = path.join(root, 'workspaces');
      mkdirSync(path.join(workspaceRoot, 'state'), { recursive: true });

      const t = await openTestDatabase('postgres');
      cleanup.add('database', () => t.cleanup());
      const { database } = t;
      const log0 = pino({ level: 'silent' });
      const queue = createJobQueue({ db: database.db });
      const sessionService = createSessionService({ queue });
      const real = createWorkspaces({ root: workspaceRoot, log: log0 });

      // The same runner code for both; only how a session's workspace is made differs.
      const modes = new Map<string, Mode>();
      const workspaceMs = new Map<string, number>();
      const cloneFresh = async (input: CreateInput): Promise<CreatedWorkspace> => {
        const dir = real.pathFor(input.sessionId);
        mkdirSync(path.dirname(dir), { recursive: true });
        await git(path.dirname(dir), [
          'clone',
          '--quiet',
          '--no-tags',
          `--branch=${input.baseBranch}`,
          input.repo.cloneUrl,
          dir,
        ]);
        await git(dir, ['checkout', '--quiet', '-b', input.branch]);
        // The identity the agent commits as, which the runner's mirror carries in its config.
        await git(dir, ['config', 'user.name', DEFAULT_IDENTITY.name]);
        await git(dir, ['config', 'user.email', DEFAULT_IDENTITY.email]);
        const sha = await git(dir, ['rev-parse', 'HEAD']);
        return { path: dir, baseSha: sha, headSha: sha };
      };
      const workspaces: Workspaces = {
        ...real,
        async create(input) {
          const started = performance.now();
          const made =
            modes.get(input.sessionId) === 'clone'
              ? await cloneFresh(input)
              : await real.create(input);
          workspaceMs.set(input.sessionId, performance.now() - started);
          return made;
        },
      };
      const agents = timedAgentConfig(markerFile);
      const operatorConfig = operatorConfigSchema.parse(agents);
      const runnerId = 'r-bench-spawn';
      const sessionJobs = createSessionJobs({
        database,
        sessionService,
        workspaces,
        runtime: createProcessRuntime({ log: log0 }),
        adapterFor: createAdapterRegistry({ agents: agents.agents }),
        github: noGitHub,
        operatorConfig,
        runnerId,
        stateRoot: path.join(workspaceRoot, 'state'),
        agentHome: path.join(workspaceRoot, 'home'),
        env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
        log: log0,
      });
      const worker = createWorker({
        database,
        queue,
        handlers: sessionJobs.handlers,
        log: log0,
        runnerId,
        concurrency: 2,
      });
      await worker.start();
      cleanup.add('runner worker', () => worker.stop({ graceMs: 5_000 }));

      let issue = 0;
      /** Creates a session (its spawn job commits with it) and waits for its first turn to end. */
      const spawnOne = async (mode: Mode) => {
        issue += 1;
        const started = Date.now();
        const session = await database.db.transaction((tx) =>
          sessionService.create(tx, {
            installationId: null,
            repositoryId: 1,
            repositoryFullName: 'octo/widgets',
            cloneUrl,
            issueNumber: issue,
            agent: 'timed',
            profile: null,
            triggeredBy: 'alice',
            context: {
              issue: {
                repository: 'octo/widgets',
                number: issue,
                title: `Widget ${issue} is broken`,
                body: 'Please fix it.',
                comments: [],
              },
              config: { baseBranch: 'main' },
            },
          }),
        );
        const id = session!.id;
        modes.set(id, mode);
        await until(
          `the first turn of ${id} (${mode})`,
          async () => {
            const [row] = await database.db.select().from(sessions).where(eq(sessions.id, id));
            if (row?.status === 'needs_human') throw new Error(`${id}: ${row.statusReason}`);
            const [turn] = await database.db
              .select()
              .from(turns)
              .where(eq(turns.sessionId, id))
              .orderBy(asc(turns.number));
            return row?.status === 'waiting' && turn?.status === 'finished';
          },
          { timeoutMs: 180_000, intervalMs: 50 },
        );
        const marker = readMarkers(markerFile).find((m) => path.basename(m.cwd) === id);
        if (!marker) throw new Error(`no marker from the agent of ${id}`);
        return { id, firstTurnMs: marker.at - started };
      };

      log('first session: the runner creates its mirror of the repository (once per repository)');
      const cold = await spawnOne('worktree');
      const coldWorkspaceMs = workspaceMs.get(cold.id)!;
      const rounds = quick ? 2 : 5;
      const samples: Sample[] = [];
      for (let i = 0; i < rounds; i++) {
        for (const mode of ['worktree', 'clone'] as const) {
          const { id, firstTurnMs } = await spawnOne(mode);
          const dir = real.pathFor(id);
          // A worktree's own git data (its index, HEAD) lives in the mirror, under worktrees/.
          const gitDir =
            mode === 'clone'
              ? path.join(dir, '.git')
              : await git(dir, ['rev-parse', '--absolute-git-dir']);
          const diskKb = mode === 'clone' ? await du(dir) : await du(dir, gitDir);
          samples.push({
            mode,
            sessionId: id,
            workspaceMs: workspaceMs.get(id)!,
            firstTurnMs,
            diskKb,
            gitDataKb: await du(gitDir),
          });
          log(`${mode}: first turn after ${ms(firstTurnMs)}, ${mb(diskKb)}`);
        }
      }
      const mirrorKb = await du(path.join(workspaceRoot, 'mirrors'));

      const of = (mode: Mode, key: 'workspaceMs' | 'firstTurnMs' | 'diskKb' | 'gitDataKb') =>
        median(samples.filter((s) => s.mode === mode).map((s) => s[key]));
      const speed = of('clone', 'firstTurnMs') / of('worktree', 'firstTurnMs');
      const disk = of('clone', 'diskKb') / of('worktree', 'diskKb');
      const gitData = of('clone', 'gitDataKb') / of('worktree', 'gitDataKb');
      return {
        rows: [
          {
            metric: `spawn to first turn running, median of ${rounds}: worktree / clone`,
            value: `${ms(of('worktree', 'firstTurnMs'))} / ${ms(of('clone', 'firstTurnMs'))} (${times(speed)} faster)`,
            target: `${TARGET}x faster`,
            verdict: verdict(speed >= TARGET),
          },
          {
            metric: 'disk per session (du): worktree / clone',
            value: `${mb(of('worktree', 'diskKb'))} / ${mb(of('clone', 'diskKb'))} (${times(disk)} less)`,
            target: `${TARGET}x less`,
            verdict: verdict(disk >= TARGET),
          },
          {
            metric: 'git data per session (excluding the checked-out files): worktree / clone',
            value: `${mb(of('worktree', 'gitDataKb'))} / ${mb(of('clone', 'gitDataKb'))} (${times(gitData)} less)`,
          },
        ],
        tables: [
          {
            title: 'Per strategy (medians)',
            header: ['', 'workspace ready', 'spawn to first turn', 'disk per session', 'git data'],
            rows: [
              [
                'warm mirror + worktree',
                ms(of('worktree', 'workspaceMs')),
                ms(of('worktree', 'firstTurnMs')),
                mb(of('worktree', 'diskKb')),
                mb(of('worktree', 'gitDataKb')),
              ],
              [
                'fresh clone',
                ms(of('clone', 'workspaceMs')),
                ms(of('clone', 'firstTurnMs')),
                mb(of('clone', 'diskKb')),
                mb(of('clone', 'gitDataKb')),
              ],
              [
                'first session of a repository (creates the mirror)',
                ms(coldWorkspaceMs),
                ms(cold.firstTurnMs),
                `${mb(mirrorKb)} mirror, shared`,
                '',
              ],
            ],
          },
        ],
        notes: [
          `The repository: ${repo.files.toLocaleString('en')} files (about 1.5 KB of source-like text each) and ${repo.commits.toLocaleString('en')} commits, written with git fast-import and repacked (${repo.generated ? `generated in ${repo.seconds.toFixed(0)} s this run` : 'taken from the cache in bench/results/cache'}); the bare origin is reached over file://, so git runs its pack protocol as it would against a server, without network latency or bandwidth limits (which would cost the clone far more than the fetch).`,
          "Both strategies run through the same runner code (src/runner/session-jobs.ts, the job worker, the process runtime, the timed fake agent), one session at a time, alternating. Only the Workspace's create differs: src/runner/workspaces.ts (fetch into the runner's bare mirror, then `git worktree add`), or `git clone` of the origin and a new branch. Timed from the session's creation (its spawn job commits with it) to the agent's code running; the label webhook's own cost is benchmark 2's subject.",
          'Disk is `du -sk`: for a worktree, its folder plus its git data inside the mirror (worktrees/<session>: index, HEAD); for a clone, its folder with its .git. The mirror itself is paid once per repository per runner and shared by every session.',
          'A shallow clone (--depth 1) would narrow the gap; the peer design the target refers to clones the repository in full for each session.',
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
