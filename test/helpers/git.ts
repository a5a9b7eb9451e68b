import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Settings that make test git independent of the machine's global config. */
const TEST_SETTINGS = [
  'user.name=Test Author',
  'user.email=test@example.com',
  'commit.gpgSign=false',
  'init.defaultBranch=main',
  'core.hooksPath=/dev/null',
];

/** Runs git in cwd and returns its trimmed stdout; throws with git's output on failure. */
export function git(cwd: string, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  for (const key of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_CONFIG_PARAMETERS']) {
    delete env[key];
  }
  const settings = TEST_SETTINGS.flatMap((setting) => ['-c', setting]);
  return new Promise((resolve, reject) => {
    execFile('git', [...settings, ...args], { cwd, env }, (error, stdout, stderr) => {
      if (error) reject(new Error(`git ${args.join(' ')} failed in ${cwd}:\n${stderr}${stdout}`));
      else resolve(stdout.trim());
    });
  });
}

/** The sha a ref points to in a repository, or null when there is no such ref. */
export async function refSha(repository: string, ref: string): Promise<string | null> {
  return git(repository, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => null);
}

export interface Origin {
  /** The bare repository. */
  path: string;
  /** Its file:// URL, to use as a clone URL. */
  url: string;
  /** Commits files (path -> content) on a branch (default main, which it may create) and pushes. */
  commit(
    files: Record<string, string>,
    options?: { branch?: string; message?: string },
  ): Promise<string>;
  /** The sha of a branch on the origin, or null when it does not exist. */
  sha(branch: string): Promise<string | null>;
  cleanup(): Promise<void>;
}

/**
 * A bare "origin" repository with an initial commit on main (a README), plus `files` more files
 * in it and `commits` more commits on top. Commits are made in a scratch clone beside it.
 */
export async function createOrigin(
  options: { files?: number; commits?: number } = {},
): Promise<Origin> {
  const dir = await mkdtemp(path.join(tmpdir(), 'origin-'));
  const bare = path.join(dir, 'origin.git');
  const scratch = path.join(dir, 'scratch');
  await git(dir, ['init', '--quiet', '--bare', bare]);
  await git(dir, ['init', '--quiet', scratch]);

  async function commit(
    files: Record<string, string>,
    { branch = 'main', message = 'Change' }: { branch?: string; message?: string } = {},
  ): Promise<string> {
    const exists = (await refSha(bare, `refs/heads/${branch}`)) !== null;
    if (exists) {
      await git(scratch, [
        'fetch',
        '--quiet',
        bare,
        `+refs/heads/${branch}:refs/remotes/origin/${branch}`,
      ]);
      await git(scratch, ['checkout', '--quiet', '-B', branch, `refs/remotes/origin/${branch}`]);
    } else if ((await refSha(bare, 'refs/heads/main')) !== null) {
      await git(scratch, ['fetch', '--quiet', bare, '+refs/heads/main:refs/remotes/origin/main']);
      await git(scratch, ['checkout', '--quiet', '-B', branch, 'refs/remotes/origin/main']);
    } else {
      await git(scratch, ['checkout', '--quiet', '--orphan', branch]);
    }
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(scratch, file)), { recursive: true });
      await writeFile(path.join(scratch, file), content);
    }
    await git(scratch, ['add', '--all']);
    await git(scratch, ['commit', '--quiet', '--allow-empty', `--message=${message}`]);
    await git(scratch, ['push', '--quiet', bare, `HEAD:refs/heads/${branch}`]);
    return git(scratch, ['rev-parse', 'HEAD']);
  }

  const initial: Record<string, string> = { 'README.md': '# widgets\n' };
  for (let i = 1; i <= (options.files ?? 0); i++) initial[`src/file-${i}.txt`] = `file ${i}\n`;
  await commit(initial, { message: 'Initial commit' });
  for (let i = 1; i <= (options.commits ?? 0); i++) {
    await commit({ [`history/${i}.txt`]: `commit ${i}\n` }, { message: `Commit ${i}` });
  }

  return {
    path: bare,
    url: pathToFileURL(bare).href,
    commit,
    sha: (branch) => refSha(bare, `refs/heads/${branch}`),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
