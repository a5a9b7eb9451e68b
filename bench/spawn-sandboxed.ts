/**
 * Part of benchmark 3: the two layouts a sandboxed runner (the default) can give a session, side
 * by side in one run on the same repository. `auto`, the default: an own checkout on an overlay
 * of the commit's shared checkout, mounted inside each sandbox; `worktree`: an own checkout with
 * every file. Each has its own Workspaces instance, root and mirror; sessions alternate.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { createSandbox } from '../src/runner/sandbox/create-sandbox.js';
import { createWorkspaces, type WorkspaceCheckout } from '../src/runner/workspace/workspaces.js';
import { mb, median, ms, times } from './support/stats.js';

const run = promisify(execFile);

async function du(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', dir]);
  return Number(/^(\d+)\s/.exec(stdout)?.[1] ?? Number.NaN);
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await work();
  return [performance.now() - started, value];
}

interface Sample {
  layout: WorkspaceCheckout;
  createMs: number;
  firstCommandMs: number;
  statusMs: number;
  commitMs: number;
  diskKb: number;
}

export async function measureSandboxedLayouts(input: {
  root: string;
  cloneUrl: string;
  rounds: number;
  log: (line: string) => void;
}) {
  const silent = pino({ level: 'silent' });
  const sandbox = createSandbox({ kind: 'bwrap', dir: path.join(input.root, 'sandbox') });
  await sandbox.check();
  const repo = { id: 1, fullName: 'bench/generated', cloneUrl: input.cloneUrl };
  const layouts: WorkspaceCheckout[] = ['auto', 'worktree'];
  const instances = new Map(
    layouts.map((layout) => {
      const root = path.join(input.root, `sandboxed-${layout}`);
      return [layout, createWorkspaces({ root, log: silent, sandbox, checkout: layout })] as const;
    }),
  );
  for (const workspaces of instances.values()) await workspaces.check();

  let counter = 0;
  async function spawnOne(layout: WorkspaceCheckout): Promise<Sample> {
    const workspaces = instances.get(layout)!;
    // Each session starts with nothing of the one before it waiting to be written.
    await run('sync');
    const sessionId = `s-bench${String(++counter).padStart(7, '0')}`;
    const home = path.join(input.root, 'homes', sessionId);
    mkdirSync(home, { recursive: true });
    const [createMs] = await timed(() =>
      workspaces.create({ sessionId, repo, branch: `agent/${sessionId}`, baseBranch: 'main' }),
    );
    const workdir = workspaces.pathFor(sessionId);
    const inSandbox = async (script: string) => {
      const argv = sandbox.command(
        {
          workdir,
          layers: await workspaces.layersFor(sessionId, repo.id),
          home,
          readOnly: workspaces.readOnlyFor(repo.id),
        },
        ['/bin/bash', '-c', script],
        workdir,
      );
      await run(argv[0]!, argv.slice(1), { cwd: workdir, maxBuffer: 64 * 1024 * 1024 });
    };
    const [firstCommandMs] = await timed(() => inSandbox('true'));
    const [statusMs] = await timed(() => inSandbox('git status --porcelain'));
    await inSandbox('echo change >>README.md && echo new >agent-file.md');
    const [commitMs] = await timed(() =>
      workspaces.commitAll({ sessionId, message: 'The agent left this' }),
    );
    const layers = path.join(input.root, `sandboxed-${layout}`, 'overlays', sessionId);
    const diskKb = (await workspaces.layersFor(sessionId, repo.id))
      ? await du(layers)
      : await du(workdir);
    return { layout, createMs, firstCommandMs, statusMs, commitMs, diskKb };
  }

  input.log('sandboxed layouts: first session of each (its mirror, and the shared checkout)');
  const cold = new Map<WorkspaceCheckout, Sample>();
  for (const layout of layouts) cold.set(layout, await spawnOne(layout));
  const samples: Sample[] = [];
  for (let i = 0; i < input.rounds; i++) {
    for (const layout of layouts) {
      input.log(`sandboxed layouts: round ${i + 1}/${input.rounds}, ${layout}`);
      samples.push(await spawnOne(layout));
    }
  }
  const basesKb = await du(path.join(input.root, 'sandboxed-auto', 'bases'));

  const of = (layout: WorkspaceCheckout, key: Exclude<keyof Sample, 'layout'>) =>
    median(samples.filter((s) => s.layout === layout).map((s) => s[key]));
  const ready = (layout: WorkspaceCheckout) =>
    of(layout, 'createMs') + of(layout, 'firstCommandMs');
  const row = (label: string, layout: WorkspaceCheckout) => [
    label,
    ms(of(layout, 'createMs')),
    ms(of(layout, 'firstCommandMs')),
    ms(of(layout, 'statusMs')),
    ms(of(layout, 'commitMs')),
    mb(of(layout, 'diskKb')),
  ];
  const speed = ready('worktree') / ready('auto');
  const disk = of('worktree', 'diskKb') / of('auto', 'diskKb');
  return {
    rows: [
      {
        metric: `with the sandbox, checkout made to its first sandboxed command, median of ${input.rounds}: overlay (the default) / every file`,
        value: `${ms(ready('auto'))} / ${ms(ready('worktree'))} (${times(speed)} faster)`,
      },
      {
        metric:
          'with the sandbox, disk per session (du, without the shared checkout): overlay (the default) / every file',
        value: `${mb(of('auto', 'diskKb'))} / ${mb(of('worktree', 'diskKb'))} (${times(disk)} less)`,
      },
    ],
    table: {
      title: 'With the sandbox (the default): own checkouts, medians',
      header: [
        '',
        'checkout made',
        'first sandboxed command',
        'git status in the sandbox',
        "commit of the agent's leftovers",
        'disk per session',
      ],
      rows: [
        row('on an overlay of the shared checkout (WORKSPACE_CHECKOUT=auto, the default)', 'auto'),
        row('every file (WORKSPACE_CHECKOUT=worktree)', 'worktree'),
        [
          'first overlay session (its mirror and the shared checkout)',
          ms(cold.get('auto')!.createMs),
          '',
          ms(cold.get('auto')!.statusMs),
          '',
          `${mb(basesKb)} shared checkout, paid once per commit per runner`,
        ],
        [
          'first every-file session (its mirror)',
          ms(cold.get('worktree')!.createMs),
          '',
          ms(cold.get('worktree')!.statusMs),
          '',
          '',
        ],
      ],
    },
    note: "With the sandbox (the default) a session's checkout is a repository of its own (src/runner/workspace/own-*.ts). On overlays (own-layers.ts) its folder is only a mount point: each sandboxed command mounts the commit's shared checkout below the session's layer in a user and mount namespace of its own (no root), and the layer holds the session's .git and what it changed. Timed through the Workspaces API and the real bwrap sandbox, not the job queue: the checkout made (warm mirror), one sandboxed `true`, one sandboxed `git status --porcelain`, and the runner's commit of a change (run in the sandbox, then fetched into the mirror). Disk is the session's layer, or its folder with its .git. Each session starts after a `sync`, so none pays for flushing what the one before it wrote.",
  };
}
