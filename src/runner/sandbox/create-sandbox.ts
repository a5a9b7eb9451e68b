import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findBinary, findExecutable } from '../find-binary.js';
import { bwrapArgs } from './bwrap-args.js';
import { FORWARDER_SOURCE } from './egress-forwarder.js';
import { behindEgress } from './egress-launcher.js';
import { overlayMountArgv } from './overlay-mount.js';
import { programMounts } from './program-mounts.js';
import type { Sandbox, SandboxKind, SandboxScope } from './sandbox.js';
import { readSystemLayout, SANDBOX_UID } from './system-layout.js';

const run = promisify(execFile);

export interface CheckedSandbox extends Sandbox {
  /** One trial run: throws, saying what to do, when this host cannot build the sandbox. */
  check(): Promise<void>;
}

/**
 * The sandbox every turn and setup command runs in: bubblewrap (`bwrap`), or `off` (only when
 * the operator says so: then a command runs as the app's own user, with its authority).
 * `dir` holds the sandbox's passwd and group files and the trial run's folders.
 */
export function createSandbox({ kind, dir }: { kind: SandboxKind; dir: string }): CheckedSandbox {
  if (kind === 'off') {
    return { kind, command: (_scope, argv) => [...argv], check: async () => {} };
  }
  const bwrap = findBinary('bwrap', `${process.env.PATH ?? ''}:/usr/bin:/bin`);
  const system = readSystemLayout(dir);
  const bash = findExecutable('bash');
  const node = process.execPath;
  const unshare = findBinary('unshare', `${process.env.PATH ?? ''}:/usr/bin:/bin`);
  const sh = findExecutable('sh');

  const command = (scope: SandboxScope, argv: readonly string[], cwd: string): string[] => {
    if (!bwrap) throw new Error(bwrapMissing);
    const inner = scope.egress
      ? behindEgress(scope.egress, { node, source: FORWARDER_SOURCE }, bash, argv)
      : argv;
    const readOnly = [...scope.readOnly, ...programMounts([node], process.env.PATH)];
    const sandboxed = [bwrap, ...bwrapArgs(system, { ...scope, readOnly }, cwd), '--', ...inner];
    if (!scope.layers) return sandboxed;
    if (!unshare) throw new Error(unshareMissing);
    return overlayMountArgv({ unshare, sh }, scope.layers, scope.workdir, sandboxed);
  };

  return {
    kind,
    command,
    async check() {
      if (!bwrap) throw new Error(bwrapMissing);
      await mkdir(dir, { recursive: true });
      const trial = await mkdtemp(path.join(dir, 'trial-'));
      try {
        const scope = { workdir: trial, home: trial, readOnly: [] };
        const probe = `id -u; test -e /proc/${process.pid} && echo app-visible; echo ok >"$HOME/written"`;
        const argv = command(scope, ['/bin/sh', '-c', probe], trial);
        const { stdout } = await run(argv[0]!, argv.slice(1), { timeout: 30_000 }).catch(
          (error: { stderr?: string; message: string }) => {
            throw new Error(cannotBuild(String(error.stderr || error.message).trim()));
          },
        );
        const lines = stdout.trim().split('\n');
        if (lines[0] !== String(SANDBOX_UID) || lines.includes('app-visible')) {
          throw new Error(cannotBuild(`the trial run saw: ${stdout.trim()}`));
        }
      } finally {
        await rm(trial, { recursive: true, force: true });
      }
    },
  };
}

const unshareMissing =
  'unshare (util-linux) is not installed: overlay checkouts need it to mount in a namespace of their own; install util-linux, or set WORKSPACE_CHECKOUT=worktree';

const bwrapMissing =
  'bubblewrap (bwrap) is not installed: install it (Debian and Ubuntu: apt-get install bubblewrap), or set SANDBOX=off to run agents without a sandbox, with the authority of the app itself';

function cannotBuild(why: string): string {
  return `the agents' sandbox (bubblewrap) cannot be built on this host: ${why}. It needs user namespaces: on Debian set sysctl kernel.unprivileged_userns_clone=1, on Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0; in Docker run the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined (see the README). Or set SANDBOX=off to run agents without a sandbox, with the authority of the app itself`;
}
