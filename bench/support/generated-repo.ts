/**
 * A large repository for the spawn benchmark, written with `git fast-import` (seconds, where
 * committing file by file would take many minutes) and cached between runs.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GeneratedRepo {
  /** The bare repository. */
  path: string;
  files: number;
  commits: number;
  /** Whether this run made it (false: taken from the cache). */
  generated: boolean;
  seconds: number;
}

/** A small deterministic PRNG (mulberry32): the same repository on every machine. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'widget order cart price user account session token render parse format value count ' +
  'index buffer stream queue event handler config option result error state cache entry ' +
  'record report filter mapper reducer client server request response payload status'
).split(' ');

/** About 1.5 KB of source-like text. */
function sourceFile(random: () => number, name: string): string {
  const word = () => WORDS[Math.floor(random() * WORDS.length)]!;
  const lines = [`// ${name}`, `import { ${word()} } from './${word()}.js';`, ''];
  const functions = 3 + Math.floor(random() * 4);
  for (let f = 0; f < functions; f++) lines.push(functionText(random, word));
  return `${lines.join('\n')}\n`;
}

function functionText(random: () => number, word: () => string): string {
  const name = `${word()}${word().replace(/^./, (c) => c.toUpperCase())}`;
  const body = [`export function ${name}(${word()}: number, ${word()}: string) {`];
  const statements = 2 + Math.floor(random() * 5);
  for (let s = 0; s < statements; s++) {
    body.push(`  const ${word()}${s} = ${word()}.${word()}(${Math.floor(random() * 1000)});`);
  }
  body.push(`  return ${word()} + ${Math.floor(random() * 100)};`, '}', '');
  return body.join('\n');
}

/**
 * The bare repository with `files` files and `commits` commits on main: the first commit adds
 * half the files, each later one adds a few more and appends to a few existing ones.
 */
export async function generatedRepo(
  cacheDir: string,
  { files = 20_000, commits = 2_000, log = (_: string) => {} } = {},
): Promise<GeneratedRepo> {
  const target = path.join(cacheDir, `origin-${files}-files-${commits}-commits-v2.git`);
  if (existsSync(target)) return { path: target, files, commits, generated: false, seconds: 0 };
  const started = performance.now();
  log(`generating a repository of ${files} files and ${commits} commits (cached afterwards)`);
  mkdirSync(cacheDir, { recursive: true });
  const building = `${target}.tmp`;
  rmSync(building, { recursive: true, force: true });
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', building]);

  const importer = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: building,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const exited = once(importer, 'exit');
  const write = async (text: string) => {
    if (!importer.stdin.write(text)) await once(importer.stdin, 'drain');
  };
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const random = prng(20_000);
  const contents: string[] = [];
  const nameOf = (i: number) => `src/module-${Math.floor(i / 100)}/file-${i % 100}.ts`;
  const later = commits - 1;
  const perCommit = Math.floor(files / 2 / Math.max(1, later));
  // README.md is one of the files.
  const initial = files - 1 - perCommit * later;
  let time = 1_700_000_000;
  for (let c = 1; c <= commits; c++) {
    const changes: string[] = [];
    const add = (count: number) => {
      for (let k = 0; k < count; k++) {
        const i = contents.length;
        contents.push(sourceFile(random, nameOf(i)));
        changes.push(`M 100644 inline ${nameOf(i)}\n${data(contents[i]!)}`);
      }
    };
    if (c === 1) {
      add(initial);
      changes.push(`M 100644 inline README.md\n${data('# widgets\n\nA generated repository.\n')}`);
    } else {
      add(perCommit);
      for (let k = 0; k < 5; k++) {
        const i = Math.floor(random() * contents.length);
        contents[i] += functionText(random, () => WORDS[Math.floor(random() * WORDS.length)]!);
        changes.push(`M 100644 inline ${nameOf(i)}\n${data(contents[i]!)}`);
      }
    }
    time += 600;
    await write(
      `commit refs/heads/main\nmark :${c}\n` +
        `author Bench <bench@example.com> ${time} +0000\n` +
        `committer Bench <bench@example.com> ${time} +0000\n` +
        data(`Change ${c}`) +
        (c > 1 ? `from :${c - 1}\n` : '') +
        changes.join(''),
    );
  }
  await write('done\n');
  importer.stdin.end();
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`);
  // One pack with deltas, as a hosted repository has.
  await run('git', ['repack', '-a', '-d', '-q'], { cwd: building });
  await rename(building, target);
  return {
    path: target,
    files,
    commits,
    generated: true,
    seconds: (performance.now() - started) / 1000,
  };
}
