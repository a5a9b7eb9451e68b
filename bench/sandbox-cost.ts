/**
 * Benchmark 9: what the sandbox adds to the start of a turn. The same command (`true`, then a
 * node program that prints and exits, as an agent CLI starts) runs directly, in the bubblewrap
 * sandbox, and in the sandbox behind its egress forwarder (a node process started and waited for
 * before the command), interleaved in one run so the three see the same machine.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { createSandbox } from '../src/runner/sandbox/create-sandbox.js';
import type { SandboxScope } from '../src/runner/sandbox/sandbox.js';
import { createSessionEgress, PROXY_PORT } from '../src/runner/sandbox/session-egress.js';
import { type Benchmark, verdict } from './support/report.js';

const run = promisify(execFile);
/** What the sandbox and its forwarder may add to a turn's start, in milliseconds. */
const TARGET_MS = 250;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

async function timed(argv: string[], cwd: string): Promise<number> {
  const started = performance.now();
  await run(argv[0]!, argv.slice(1), { cwd });
  return performance.now() - started;
}

export const sandboxCost: Benchmark = {
  id: 'sandbox',
  title: 'The sandbox at turn start: a command run directly, in bwrap, and behind the egress proxy',
  async run({ quick, log }) {
    const root = mkdtempSync(path.join(tmpdir(), 'ao-bench-sandbox-'));
    const egress = createSessionEgress({
      dir: path.join(root, 'egress'),
      log: pino({ level: 'silent' }),
      onRefused: () => {},
    });
    try {
      const workdir = path.join(root, 'checkout');
      const home = path.join(root, 'home');
      for (const dir of [workdir, home]) mkdirSync(dir, { recursive: true });
      const sandbox = createSandbox({ kind: 'bwrap', dir: path.join(root, 'sandbox') });
      await sandbox.check();
      const scope: SandboxScope = { workdir, home, readOnly: [] };
      const withEgress: SandboxScope = {
        ...scope,
        egress: await egress.open('s-benchsandbox', { allow: [], forwards: [] }),
      };
      const commands = {
        true: ['/bin/true'],
        node: [process.execPath, '-e', 'console.log("agent started")'],
      };
      const runs = quick ? 5 : 30;
      const rows: string[][] = [];
      const added: number[] = [];
      for (const [name, argv] of Object.entries(commands)) {
        const times = { direct: [] as number[], bwrap: [] as number[], egress: [] as number[] };
        for (let i = 0; i < runs; i++) {
          times.direct.push(await timed(argv, workdir));
          times.bwrap.push(await timed(sandbox.command(scope, argv, workdir), workdir));
          times.egress.push(await timed(sandbox.command(withEgress, argv, workdir), workdir));
        }
        const [direct, bwrap, behind] = [times.direct, times.bwrap, times.egress].map(median);
        log(
          `${name}: direct ${direct!.toFixed(1)} ms, bwrap ${bwrap!.toFixed(1)} ms, egress ${behind!.toFixed(1)} ms`,
        );
        added.push(behind! - direct!);
        rows.push([
          name,
          direct!.toFixed(1),
          bwrap!.toFixed(1),
          behind!.toFixed(1),
          `+${(behind! - direct!).toFixed(1)}`,
        ]);
      }
      const worst = Math.max(...added);
      return {
        rows: [
          {
            metric: 'added at turn start (sandbox and egress forwarder, median)',
            value: `${worst.toFixed(0)} ms`,
            target: `< ${TARGET_MS} ms`,
            verdict: verdict(worst < TARGET_MS),
          },
        ],
        tables: [
          {
            title: `Median milliseconds over ${runs} runs each, interleaved`,
            header: ['command', 'direct', 'bwrap', `bwrap + egress (:${PROXY_PORT})`, 'added'],
            rows,
          },
        ],
        notes: [
          'Each run starts the command and waits for it to exit; "direct" is what SANDBOX=off does.',
          'The egress column includes starting the in-sandbox forwarder (node) and waiting for its ready line.',
          'A turn of a real agent CLI takes seconds to minutes; the figure is paid once per turn.',
        ],
      };
    } finally {
      await egress.closeAll();
      rmSync(root, { recursive: true, force: true });
    }
  },
};
