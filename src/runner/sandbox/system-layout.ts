import { existsSync, lstatSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The uid and gid a sandboxed command runs as: not root, so nothing is granted for being root. */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

/** The top-level system folders a program needs, read-only; the rest of `/` is not there. */
const SYSTEM_FOLDERS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/opt'];

/**
 * What of `/etc` a program needs: libraries, certificates, time zones, name lookups. Not the
 * rest: as the app's own uid inside, root's files (`/etc/shadow`) would be readable.
 */
const ETC_ENTRIES = [
  'alternatives',
  'bash.bashrc',
  'ca-certificates',
  'ca-certificates.conf',
  'debian_version',
  'host.conf',
  'hosts',
  'inputrc',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'pki',
  'profile',
  'protocols',
  'services',
  'ssl',
  'terminfo',
  'timezone',
];

/** The host's system folders as bwrap sees them: real folders bound, symlinks (`/bin -> usr/bin`) made. */
export interface SystemLayout {
  folders: readonly { path: string; symlinkTo?: string | undefined }[];
  etc: readonly string[];
  /** A passwd and a group file naming the sandbox's user, bound over `/etc/passwd` and `/etc/group`. */
  passwd: string;
  group: string;
}

/** Reads the host's layout and writes the sandbox's passwd and group files under `dir`. */
export function readSystemLayout(dir: string): SystemLayout {
  const folders = SYSTEM_FOLDERS.flatMap((folder) => {
    if (!existsSync(folder)) return [];
    const info = lstatSync(folder);
    if (info.isSymbolicLink()) {
      return [
        { path: folder, symlinkTo: path.relative('/', path.resolve('/', readlinkSync(folder))) },
      ];
    }
    return info.isDirectory() ? [{ path: folder }] : [];
  });
  const etc = ETC_ENTRIES.map((entry) => `/etc/${entry}`).filter((entry) => existsSync(entry));
  mkdirSync(dir, { recursive: true });
  const passwd = path.join(dir, 'passwd');
  const group = path.join(dir, 'group');
  writeFileSync(
    passwd,
    `root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:${SANDBOX_UID}:${SANDBOX_GID}:agent:/tmp:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
  );
  writeFileSync(group, `root:x:0:\nagent:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`);
  return { folders, etc, passwd, group };
}
