/**
 * `npm run bench`: runs the benchmarks, prints a table per benchmark and writes bench/results.md.
 * `npm run bench -- --only ack,scale --quick` runs some, briefly, for development; those runs
 * write bench/results/partial.md instead, so results.md always holds a whole run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ackLatency } from './ack-latency.js';
import { apiBudget } from './api-budget.js';
import { githubOutage } from './github-outage.js';
import { memory } from './memory.js';
import { reactionLatency } from './reaction-latency.js';
import { sandboxCost } from './sandbox-cost.js';
import { scale } from './scale.js';
import { spawnCost } from './spawn-cost.js';
import { runAllCleanups } from './support/cleanup.js';
import { loadAverage, type MachineInfo, machineInfo } from './support/machine.js';
import {
  type Benchmark,
  type BenchOutput,
  headlineRows,
  markdownTable,
  textTable,
} from './support/report.js';
import { webhookFlood } from './webhook-flood.js';

const BENCHMARKS: Benchmark[] = [
  ackLatency,
  reactionLatency,
  spawnCost,
  apiBudget,
  scale,
  webhookFlood,
  memory,
  githubOutage,
  sandboxCost,
];
const HEADLINE = ['metric', 'value', 'target / peer', 'verdict'];
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

interface Outcome {
  benchmark: Benchmark;
  seconds: number;
  output?: BenchOutput;
  error?: string;
}

const usage = `Usage: npm run bench -- [--only ${BENCHMARKS.map((b) => b.id).join(',')}] [--quick]

  --only   run only these benchmarks (comma-separated ids)
  --quick  short runs, for development; the figures are not the ones to quote`;

function parseOptions(argv: string[]): { only: Benchmark[]; quick: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (!values.only) return { only: BENCHMARKS, quick: values.quick };
  const ids = values.only.split(',').map((id) => id.trim());
  const unknown = ids.filter((id) => !BENCHMARKS.some((b) => b.id === id));
  if (unknown.length > 0) {
    console.error(`Unknown benchmark "${unknown.join(', ')}".\n\n${usage}`);
    process.exit(2);
  }
  return { only: BENCHMARKS.filter((b) => ids.includes(b.id)), quick: values.quick };
}

function printOutcome({ benchmark, seconds, output, error }: Outcome) {
  console.log(`\n== ${benchmark.title} (${seconds.toFixed(0)} s)`);
  if (error) {
    console.log(`FAILED: ${error}`);
    return;
  }
  console.log(textTable(HEADLINE, headlineRows(output!.rows)));
  for (const table of output!.tables ?? []) {
    console.log(`\n${table.title}`);
    console.log(textTable(table.header, table.rows));
  }
}

function markdown(
  outcomes: Outcome[],
  machine: MachineInfo,
  run: { started: Date; seconds: number; quick: boolean; loadBefore: string; loadAfter: string },
): string {
  const deps = Object.entries(machine.dependencies)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${run.started.toISOString()} (${Math.round(run.seconds / 60)} min${run.quick ? ', --quick: short runs, not figures to quote' : ''}). How each benchmark works: [README.md](README.md).`,
    '',
    `> **Taken on a busy machine.** Other work (test suites of other changes, their Postgres databases) shared these ${machine.cores} cores during the run; load average (1/5/15 min) ${run.loadBefore} at the start, ${run.loadAfter} at the end. Ratios are measured side by side in the same run, so they suffer less than absolute figures; re-run on a quiet machine before quoting absolute latencies.`,
    '',
    '## Machine',
    '',
    markdownTable(
      ['', ''],
      [
        ['CPU', `${machine.cpu}, ${machine.cores} cores`],
        ['Memory', `${machine.memoryGb} GB`],
        ['OS', `${machine.os} (${machine.kernel})`],
        ['Node.js', machine.node],
        ['PostgreSQL', machine.postgres],
        ['git', machine.git],
        ['agent-orchestrator', machine.app],
        ['Dependencies', deps],
      ],
    ),
    '',
    '## Summary',
    '',
    markdownTable(
      ['benchmark', ...HEADLINE],
      outcomes.flatMap(({ benchmark, output, error }) =>
        error
          ? [[benchmark.title, `failed: ${error.split('\n')[0]}`, '', '', '']]
          : headlineRows(output!.rows.filter((r) => r.verdict)).map((row) => [
              benchmark.title,
              ...row,
            ]),
      ),
    ),
  ];
  for (const { benchmark, output, error, seconds } of outcomes) {
    lines.push('', `## ${benchmark.title}`, '', `Ran for ${Math.round(seconds)} s.`, '');
    if (error) {
      lines.push('```', error, '```');
      continue;
    }
    lines.push(markdownTable(HEADLINE, headlineRows(output!.rows)));
    for (const table of output!.tables ?? []) {
      lines.push('', `**${table.title}**`, '', markdownTable(table.header, table.rows));
    }
    if (output!.notes.length > 0) lines.push('', ...output!.notes.map((note) => `- ${note}`));
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  const { only, quick } = parseOptions(process.argv.slice(2));
  const resultsDir = path.join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  let interrupted = false;
  const stop = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('\ninterrupted: cleaning up (Ctrl-C again to quit at once)');
    void runAllCleanups().finally(() => process.exit(130));
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);

  const started = new Date();
  const loadBefore = loadAverage();
  const machine = await machineInfo();
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB; Node ${machine.node}, PostgreSQL ${machine.postgres}, git ${machine.git}; load ${loadBefore}${quick ? '; --quick' : ''}`,
  );
  const outcomes: Outcome[] = [];
  for (const benchmark of only) {
    const t0 = performance.now();
    const log = (message: string) => console.log(`[${benchmark.id}] ${message}`);
    log(`starting: ${benchmark.title}`);
    const outcome: Outcome = { benchmark, seconds: 0 };
    try {
      outcome.output = await benchmark.run({ quick, resultsDir, log });
    } catch (error) {
      const cause = (error as Error).cause;
      outcome.error = `${(error as Error).stack ?? String(error)}${cause ? `\ncause: ${(cause as Error).message ?? String(cause)}` : ''}`;
    }
    outcome.seconds = (performance.now() - t0) / 1000;
    outcomes.push(outcome);
    printOutcome(outcome);
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  const whole = !quick && only.length === BENCHMARKS.length;
  const file = whole ? path.join(BENCH_DIR, 'results.md') : path.join(resultsDir, 'partial.md');
  writeFileSync(
    file,
    markdown(outcomes, machine, { started, seconds, quick, loadBefore, loadAfter: loadAverage() }),
  );
  writeFileSync(
    path.join(resultsDir, whole ? 'results.json' : 'partial.json'),
    JSON.stringify(
      {
        started,
        machine,
        outcomes: outcomes.map(({ benchmark, ...o }) => ({ id: benchmark.id, ...o })),
      },
      null,
      2,
    ),
  );
  console.log(`\nWrote ${path.relative(process.cwd(), file)} (${Math.round(seconds)} s in all)`);
  if (outcomes.some((o) => o.error)) process.exitCode = 1;
}

await main();
