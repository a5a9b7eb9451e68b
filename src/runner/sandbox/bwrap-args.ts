import type { SandboxScope } from './sandbox.js';
import { SANDBOX_GID, SANDBOX_UID, type SystemLayout } from './system-layout.js';

/**
 * bwrap's arguments for one command, before `--` and the command (pure). Its own user (a uid
 * that is not root, no capabilities), PID, IPC, UTS, cgroup and network namespaces; a read-only
 * root of its own: the system folders and a few files of `/etc` read-only, a fresh `/proc` (its own
 * processes only), `/dev` and `/tmp`; writable only the scope's checkout and HOME; read-only
 * what the scope names. The app's files, its data folder, the other sessions and the mirrors
 * are simply not there. Everything ends when the command does (`--die-with-parent`, and a PID
 * namespace whose first process exits).
 */
export function bwrapArgs(system: SystemLayout, scope: SandboxScope, cwd: string): string[] {
  const args = [
    '--unshare-user',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_GID),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--unshare-net',
    '--hostname',
    'agent-sandbox',
    '--die-with-parent',
    '--cap-drop',
    'ALL',
  ];
  for (const folder of system.folders) {
    if (folder.symlinkTo) args.push('--symlink', folder.symlinkTo, folder.path);
    else args.push('--ro-bind', folder.path, folder.path);
  }
  for (const entry of system.etc) args.push('--ro-bind', entry, entry);
  args.push('--ro-bind', system.passwd, '/etc/passwd', '--ro-bind', system.group, '/etc/group');
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/var/tmp');
  args.push('--tmpfs', '/run');
  for (const file of scope.readOnly) args.push('--ro-bind', file, file);
  args.push('--bind', scope.workdir, scope.workdir, '--bind', scope.home, scope.home);
  // Read-only: connecting to a socket needs no write access to its file system.
  if (scope.egress) args.push('--ro-bind', scope.egress.socketDir, scope.egress.socketDir);
  // The sandbox's own root, which holds the mount points, is read-only too.
  args.push('--remount-ro', '/', '--setenv', 'HOME', scope.home, '--chdir', cwd);
  return args;
}
