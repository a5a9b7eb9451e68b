import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { adminUrl } from '../../test/helpers/databases.js';
import { REPO_ROOT } from '../../test/helpers/processes.js';

/** Dependencies whose versions shape the figures. */
const KEY_DEPENDENCIES = [
  'probot',
  '@octokit/webhooks',
  'hono',
  '@hono/node-server',
  'drizzle-orm',
  'postgres',
  'pino',
  'simple-git',
  'autocannon',
  'tsx',
];

function packageVersion(dir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'not installed';
  }
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]+)"?/m.exec(release)?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  kernel: string;
  node: string;
  postgres: string;
  git: string;
  app: string;
  dependencies: Record<string, string>;
}

export async function machineInfo(): Promise<MachineInfo> {
  const sql = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  let pg = 'unreachable';
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    pg = row?.server_version ?? pg;
  } finally {
    await sql.end();
  }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: osName(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: pg,
    git: execFileSync('git', ['--version'], { encoding: 'utf8' })
      .trim()
      .replace(/^git version /, ''),
    app: packageVersion(REPO_ROOT),
    dependencies: Object.fromEntries(
      KEY_DEPENDENCIES.map((name) => [
        name,
        packageVersion(path.join(REPO_ROOT, 'node_modules', name)),
      ]),
    ),
  };
}

/** The 1, 5 and 15 minute load averages, e.g. `1.92 / 1.40 / 1.10`. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
}
