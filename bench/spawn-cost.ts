/**
 * Benchmark 3: from a session's spawn to its first turn starting, on a generated repository of
 * 20,000 files and 2,000 commits: the runner's warm mirror plus a worktree per session, the same
 * with an overlay on a shared checkout per session (WORKSPACE_CHECKOUT=overlay), and a fresh
 * `git clone` per session, all through the same runner code, with the disk each uses.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
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
import { GITHUB_COM } from '../src/runner/remote-url.js';
import { createProcessRuntime } from '../src/runner/runtimes/process-runtime.js';
import { createSandbox } from '../src/runner/sandbox/create-sandbox.js';
import { createSessionJobs } from '../src/runner/session-jobs.js';
import {
  type CreatedWorkspace,
  type CreateInput,
  createWorkspaces,
  DEFAULT_IDENTITY,
  type Workspaces,
} from '../src/runner/workspace/workspaces.js';
import type { RunnerGitHub } from '../src/sessions/runner-github.js';
import { createSessionService } from '../src/sessions/session-service.js';
import { createSessionStore } from '../src/sessions/session-store.js';
import { openTestDatabase } from '../test/helpers/databases.js';
import { git } from '../test/helpers/git.js';
import { measureSandboxedLayouts } from './spawn-sandboxed.js';
import { readMarkers, timedAgentConfig, until } from './support/app-scenario.js';
import { createCleanupStack } from './support/cleanup.js';
import { generatedRepo } from './support/generated-repo.js';
import { type Benchmark, verdict } from './support/report.js';
import { mb, median, ms, times } from './support/stats.js';

const run = promisify(execFile);
const TARGET = 10;
type Mode = 'worktree' | 'clone' | 'overlay';

/** Disk used by the folders, in kilobytes (du -sk: blocks allocated, as the disk sees them). */
async function du(...dirs: string[]): Promise<number> {
  const { stdout } = await run('du', ['-sk', '--total', ...dirs]);
  return Number(/^(\d+)\s+total$/m.exec(stdout)?.[1] ?? Number.NaN);
}

/** A mirror without its worktrees/ (the sessions' own git data, counted with each session). */
async function duMirrors(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', '--exclude=worktrees', dir]);
  return Number(/^(\d+)\s/.exec(stdout)?.[1] ?? Number.NaN);
}

/** Mount points at or under dir, from this process's mount table (octal escapes undone). */
function mountsUnder(dir: string): string[] {
  const real = realpathSync(dir);
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) =>
      (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, octal: string) =>
        String.fromCharCode(Number.parseInt(octal, 8)),
      ),
    )
    .filter((target) => target === real || target.startsWith(`${real}/`));
}

/** The runner must never need GitHub here: the sessions have no installation. */
const noGitHub: RunnerGitHub = {
  gitToken: () => Promise.reject(new Error('no GitHub in this benchmark')),
  findPullRequest: () => Promise.reject(new Error('no GitHub in this benchmark')),
  openPullRequest: () => Promise.reject(new Error('no GitHub in this benchmark')),
  commentOnIssue: () => Promise.reject(new Error('no GitHub in this benchmark')),
};

interface Sample {
  mode: Mode;
  sessionId: string;
  workspaceMs: number;
  firstTurnMs: number;
  /** The first turn's row, from its start to its end (the agent's `git add -A` and commit). */
  turnMs: number;
  /** One `git status` in the worktree after the turn. */
  statusMs: number;
  diskKb: number;
  gitDataKb: number;
}

export const spawnCost: Benchmark = {
  id: 'spawn',
  title: '3. Spawn cost: warm mirror + worktree or overlay vs fresh clone',
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
      const sessionService = createSessionService({ db: database.db, queue });
      const real = createWorkspaces({ root: workspaceRoot, log: log0 });

      // The overlay strategy: a runner instance of its own, with its own root and mirror.
      const overlayRoot = path.join(root, 'overlay-workspaces');
      const overlay = createWorkspaces({ root: overlayRoot, log: log0, checkout: 'overlay' });
      /** The overlay sessions, with what their removal needs. */
      const overlaySessions = new Map<string, CreateInput>();
      // Before the temp dir goes (and after the worker has stopped its agents): rm -rf must not
      // walk into a live mount. Whatever remove leaves mounted (a session made half way, a
      // probe of check) is unmounted by its mount point.
      cleanup.add('overlay sessions', async () => {
        for (const [sessionId, input] of overlaySessions) {
          await overlay
            .remove({ sessionId, repo: input.repo, branch: input.branch })
            .catch((error: Error) =>
              log(`removing overlay session ${sessionId}: ${error.message}`),
            );
        }
        for (const target of mountsUnder(root).reverse()) {
          log(`still mounted after the overlay sessions were removed, unmounting: ${target}`);
          await run('umount', ['--lazy', target]);
        }
      });
      let overlaySkipped: string | null = null;
      /** Why overlay was not measured, on one line (a cell of the table), without the temp path. */
      const why = (error: unknown) =>
        (error as Error).message.replaceAll(root, '<temp dir>').replace(/\s+/g, ' ').trim();
      try {
        await overlay.check();
      } catch (error) {
        overlaySkipped = why(error);
        log(`overlay not measured: ${overlaySkipped}`);
      }

      // The same runner code for all; only the Workspaces instance (or, for a clone, create)
      // differs. Each session's mode is known before its spawn job can run (set in the
      // transaction that creates it), and every method goes to the instance of that mode.
      const modes = new Map<string, Mode>();
      const workspaceMs = new Map<string, number>();
      const instanceOf = (sessionId: string) =>
        modes.get(sessionId) === 'overlay' ? overlay : real;
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
        readOnlyFor: () => [],
        layersFor: async () => undefined,
        async create(input) {
          const started = performance.now();
          const mode = modes.get(input.sessionId);
          if (mode === 'overlay') overlaySessions.set(input.sessionId, input);
          const made =
            mode === 'clone'
              ? await cloneFresh(input)
              : await instanceOf(input.sessionId).create(input);
          workspaceMs.set(input.sessionId, performance.now() - started);
          return made;
        },
        ready: (sessionId) => instanceOf(sessionId).ready(sessionId),
        commitAll: (input) => instanceOf(input.sessionId).commitAll(input),
        push: (input) => instanceOf(input.sessionId).push(input),
        headSha: (sessionId) => instanceOf(sessionId).headSha(sessionId),
        pathFor: (sessionId) => instanceOf(sessionId).pathFor(sessionId),
        remove: (input) => instanceOf(input.sessionId).remove(input),
        async fetch(input) {
          await real.fetch(input);
          if (!overlaySkipped) await overlay.fetch(input);
        },
        async listSessions() {
          const all = [...(await real.listSessions())];
          if (!overlaySkipped) all.push(...(await overlay.listSessions()));
          return all.sort();
        },
        async check() {
          await real.check();
          if (!overlaySkipped) await overlay.check();
        },
      };
      const agents = timedAgentConfig(markerFile);
      const operatorConfig = operatorConfigSchema.parse(agents);
      const runnerId = 'r-bench-spawn';
      const sessionJobs = createSessionJobs({
        sessions: sessionService,
        store: createSessionStore(database.db),
        db: database.db,
        active: new Map(),
        workspaces,
        runtime: createProcessRuntime({ log: log0 }),
        adapterFor: createAdapterRegistry({ agents: agents.agents }),
        github: noGitHub,
        githubHost: GITHUB_COM,
        operatorConfig,
        runnerId,
        stateRoot: path.join(workspaceRoot, 'state'),
        homesRoot: path.join(workspaceRoot, 'homes'),
        // The layouts compared here are the worktree ones, which run without a sandbox.
        sandbox: createSandbox({ kind: 'off', dir: path.join(workspaceRoot, 'sandbox') }),
        egress: null,
        limits: null,
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
        const session = await database.db.transaction(async (tx) => {
          const created = await sessionService.create(
            {
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
            },
            { tx },
          );
          if (created) modes.set(created.id, mode);
          return created;
        });
        const id = session!.id;
        const turn = await until(
          `the first turn of ${id} (${mode})`,
          async () => {
            const [row] = await database.db.select().from(sessions).where(eq(sessions.id, id));
            if (row?.status === 'needs_human') throw new Error(`${id}: ${row.statusReason}`);
            const [first] = await database.db
              .select()
              .from(turns)
              .where(eq(turns.sessionId, id))
              .orderBy(asc(turns.number));
            return row?.status === 'waiting' && first?.status === 'finished' && first;
          },
          { timeoutMs: 180_000, intervalMs: 50 },
        );
        const marker = readMarkers(markerFile).find((m) => path.basename(m.cwd) === id);
        if (!marker) throw new Error(`no marker from the agent of ${id}`);
        const turnMs = (turn.endedAt?.getTime() ?? Number.NaN) - turn.startedAt.getTime();
        return { id, firstTurnMs: marker.at - started, turnMs };
      };

      log('first session: the runner creates its mirror of the repository (once per repository)');
      const cold = await spawnOne('worktree');
      const coldWorkspaceMs = workspaceMs.get(cold.id)!;
      const mirrorKb = await duMirrors(path.join(workspaceRoot, 'mirrors'));
      let overlayCold: { workspaceMs: number; firstTurnMs: number; mirrorKb: number } | null = null;
      if (!overlaySkipped) {
        log('first overlay session: its own mirror, and the shared checkout of the commit');
        try {
          const first = await spawnOne('overlay');
          overlayCold = {
            workspaceMs: workspaceMs.get(first.id)!,
            firstTurnMs: first.firstTurnMs,
            mirrorKb: await duMirrors(path.join(overlayRoot, 'mirrors')),
          };
        } catch (error) {
          overlaySkipped = `its first session failed: ${why(error)}`;
          log(`overlay not measured: ${overlaySkipped}`);
        }
      }
      const measured: Mode[] = overlaySkipped
        ? ['worktree', 'clone']
        : ['worktree', 'clone', 'overlay'];
      const rounds = quick ? 2 : 5;
      const samples: Sample[] = [];
      for (let i = 0; i < rounds; i++) {
        for (const mode of measured) {
          const { id, firstTurnMs, turnMs } = await spawnOne(mode);
          const dir = workspaces.pathFor(id);
          // A worktree's own git data (its index, HEAD) lives in the mirror, under worktrees/.
          const gitDir =
            mode === 'clone'
              ? path.join(dir, '.git')
              : await git(dir, ['rev-parse', '--absolute-git-dir']);
          const statusStarted = performance.now();
          await git(dir, ['status', '--porcelain']);
          const statusMs = performance.now() - statusStarted;
          // An overlay's mounted folder shows the shared checkout: its own layers are counted.
          const diskKb =
            mode === 'clone'
              ? await du(dir)
              : mode === 'overlay'
                ? await du(path.join(overlayRoot, 'overlays', id), gitDir)
                : await du(dir, gitDir);
          samples.push({
            mode,
            sessionId: id,
            workspaceMs: workspaceMs.get(id)!,
            firstTurnMs,
            turnMs,
            statusMs,
            diskKb,
            gitDataKb: await du(gitDir),
          });
          log(`${mode}: first turn after ${ms(firstTurnMs)}, ${mb(diskKb)}`);
        }
      }
      const basesKb = overlaySkipped ? Number.NaN : await du(path.join(overlayRoot, 'bases'));
      const sandboxed = await measureSandboxedLayouts({
        root: path.join(root, 'sandboxed'),
        cloneUrl,
        rounds,
        log,
      });

      const of = (mode: Mode, key: Exclude<keyof Sample, 'mode' | 'sessionId'>) =>
        median(samples.filter((s) => s.mode === mode).map((s) => s[key]));
      const speed = of('clone', 'firstTurnMs') / of('worktree', 'firstTurnMs');
      const disk = of('clone', 'diskKb') / of('worktree', 'diskKb');
      const gitData = of('clone', 'gitDataKb') / of('worktree', 'gitDataKb');
      const overlaySpeed = of('clone', 'firstTurnMs') / of('overlay', 'firstTurnMs');
      const overlayDisk = of('clone', 'diskKb') / of('overlay', 'diskKb');
      const strategyRow = (label: string, mode: Mode) => [
        label,
        ms(of(mode, 'workspaceMs')),
        ms(of(mode, 'firstTurnMs')),
        ms(of(mode, 'turnMs')),
        ms(of(mode, 'statusMs')),
        mb(of(mode, 'diskKb')),
        mb(of(mode, 'gitDataKb')),
      ];
      return {
        rows: [
          {
            metric: `spawn to first turn running, median of ${rounds}: worktree (the default with SANDBOX=off) / clone`,
            value: `${ms(of('worktree', 'firstTurnMs'))} / ${ms(of('clone', 'firstTurnMs'))} (${times(speed)} faster)`,
            target: `${TARGET}x faster`,
            verdict: verdict(speed >= TARGET),
          },
          {
            metric: 'disk per session (du): worktree (the default with SANDBOX=off) / clone',
            value: `${mb(of('worktree', 'diskKb'))} / ${mb(of('clone', 'diskKb'))} (${times(disk)} less)`,
            target: `${TARGET}x less`,
            verdict: verdict(disk >= TARGET),
          },
          ...(overlaySkipped
            ? [
                {
                  metric: 'overlay (WORKSPACE_CHECKOUT=overlay)',
                  value: `not measured: ${overlaySkipped}`,
                },
              ]
            : [
                {
                  metric: `spawn to first turn running, median of ${rounds}: overlay / clone`,
                  value: `${ms(of('overlay', 'firstTurnMs'))} / ${ms(of('clone', 'firstTurnMs'))} (${times(overlaySpeed)} faster)`,
                  target: `${TARGET}x faster`,
                  verdict: verdict(overlaySpeed >= TARGET),
                },
                {
                  metric: 'disk per session (du, without the shared checkout): overlay / clone',
                  value: `${mb(of('overlay', 'diskKb'))} / ${mb(of('clone', 'diskKb'))} (${times(overlayDisk)} less)`,
                  target: `${TARGET}x less`,
                  verdict: verdict(overlayDisk >= TARGET),
                },
              ]),
          {
            metric: 'git data per session (excluding the checked-out files): worktree / clone',
            value: `${mb(of('worktree', 'gitDataKb'))} / ${mb(of('clone', 'gitDataKb'))} (${times(gitData)} less)`,
          },
          ...sandboxed.rows,
        ],
        tables: [
          {
            title: 'Per strategy (medians)',
            header: [
              '',
              'workspace ready',
              'spawn to first turn',
              'first turn, start to end',
              'git status after it',
              'disk per session',
              'git data',
            ],
            rows: [
              strategyRow('warm mirror + worktree (the default with SANDBOX=off)', 'worktree'),
              strategyRow('fresh clone', 'clone'),
              overlaySkipped
                ? ['warm mirror + overlay', 'not measured (why: above)', '', '', '', '', '']
                : strategyRow('warm mirror + overlay on a shared checkout', 'overlay'),
              [
                'first session of a repository (creates the mirror)',
                ms(coldWorkspaceMs),
                ms(cold.firstTurnMs),
                '',
                '',
                `${mb(mirrorKb)} mirror, shared`,
                '',
              ],
              ...(overlayCold && !overlaySkipped
                ? [
                    [
                      'first overlay session of a repository (creates its mirror and the shared checkout)',
                      ms(overlayCold.workspaceMs),
                      ms(overlayCold.firstTurnMs),
                      '',
                      '',
                      `${mb(overlayCold.mirrorKb)} mirror, shared`,
                      '',
                    ],
                    [
                      'shared checkout of the commit (overlay)',
                      '',
                      '',
                      '',
                      '',
                      `${mb(basesKb)}, paid once per commit per runner, shared by every session on that commit`,
                      '',
                    ],
                  ]
                : []),
            ],
          },
          sandboxed.table,
        ],
        notes: [
          `The repository: ${repo.files.toLocaleString('en')} files (about 1.5 KB of source-like text each) and ${repo.commits.toLocaleString('en')} commits, written with git fast-import and repacked (${repo.generated ? `generated in ${repo.seconds.toFixed(0)} s this run` : 'taken from the cache in bench/results/cache'}); the bare origin is reached over file://, so git runs its pack protocol as it would against a server, without network latency or bandwidth limits (which would cost the clone far more than the fetch).`,
          "All three strategies run through the same runner code (src/runner/session-jobs.ts, the job worker, the process runtime, the timed fake agent), one session at a time, alternating worktree, clone, overlay. Only the workspaces differ: src/runner/workspaces.ts as the runner uses it by default (fetch into the runner's bare mirror, then `git worktree add`); `git clone` of the origin and a new branch; or a second instance of src/runner/workspaces.ts with checkout 'overlay', with its own root and mirror, to which every workspace call for its sessions goes. Timed from the session's creation (its spawn job commits with it) to the agent's code running; the label webhook's own cost is benchmark 2's subject.",
          "Overlay (src/runner/overlays.ts) is opt-in, with the setting `WORKSPACE_CHECKOUT=overlay`, and needs Linux overlayfs and permission to mount (root, or CAP_SYS_ADMIN). The runner checks a commit out once, read-only, under bases/ of its workspace root, and mounts each session's folder as an overlayfs: that shared checkout below, the session's own folder of changes above. git sees an ordinary worktree of the mirror; its index starts as a copy of the shared checkout's.",
          'Disk is `du -sk`: for a worktree, its folder plus its git data inside the mirror (worktrees/<session>: index, HEAD); for a clone, its folder with its .git; for an overlay, its layers (overlays/<session>: the files it changed, its .git file, overlayfs scratch) plus its git data inside the mirror, not the mounted folder, which would count the shared checkout through the mount. The shared checkout has its own row: paid once per commit per runner, shared by every session on that commit. The mirrors are paid once per repository per runner and shared by every session; their figures leave out worktrees/, counted with each session.',
          "The first turn's start to end is its row's (the turn job claimed, the agent started, its `git add -A` and commit done); git status is one `git status --porcelain` in the session's folder after the turn, to show whether git is slower through the overlay.",
          'A shallow clone (--depth 1) would narrow the gap; the peer design the target refers to clones the repository in full for each session.',
          sandboxed.note,
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
