import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { findBinary } from '../find-binary.js';

/** Folders already in every sandbox (system-layout.ts): nothing to add for a program there. */
const SYSTEM = /^\/(usr|bin|sbin|lib|lib32|lib64|libx32|opt)(\/|$)/;

/**
 * The read-only paths a command needs beyond the system folders: the program's own install (the
 * `node_modules` folder an npm-installed CLI lives in, whose `.bin` links and native optional
 * packages it reaches; otherwise the program's folder) and each absolute path in its arguments
 * that names an existing file (a script, a prompt, an MCP config). Never a whole folder the
 * operator did not point at, so the app's own working directory stays out of sight.
 */
export function programMounts(argv: readonly string[], pathVariable: string | undefined): string[] {
  const mounts = new Set<string>();
  const program = argv[0] ? findBinary(argv[0], pathVariable) : null;
  if (program) {
    for (const file of new Set([path.resolve(program), realpath(program)])) {
      const install = installFolder(file);
      if (!SYSTEM.test(install)) mounts.add(install);
    }
  }
  for (const arg of argv.slice(1)) {
    if (!path.isAbsolute(arg) || SYSTEM.test(arg) || !isFile(arg)) continue;
    mounts.add(arg);
    const real = realpath(arg);
    if (real !== arg && !SYSTEM.test(real)) mounts.add(real);
  }
  return dropNested([...mounts]);
}

/** The outermost `node_modules` above the file, or else the file's folder. */
function installFolder(file: string): string {
  const parts = file.split(path.sep);
  const at = parts.indexOf('node_modules');
  return at > 0 ? parts.slice(0, at + 1).join(path.sep) : path.dirname(file);
}

function dropNested(paths: string[]): string[] {
  const sorted = paths.sort();
  return sorted.filter((p, i) => !sorted.slice(0, i).some((q) => p.startsWith(`${q}/`)));
}

function realpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function isFile(file: string): boolean {
  try {
    return existsSync(file) && statSync(file).isFile();
  } catch {
    return false;
  }
}
