/**
 * Benchmark 1: how fast deliveries are acknowledged under load, the real app against a bare
 * Probot app doing nothing (the floor), at rising fixed rates, side by side in one run.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, count, eq } from 'drizzle-orm';
import { jobs } from '../src/db/schema.js';
import { openTestDatabase } from '../test/helpers/databases.js';
import { createCleanupStack } from './support/cleanup.js';
import type { LoadOptions, LoadResult } from './support/load-generator.js';
import { SECRET, startOrchestratorProcess } from './support/orchestrator.js';
import { payload } from './support/payloads.js';
import { type Benchmark, type Row, verdict } from './support/report.js';
import { startChildServer } from './support/server.js';
import { median, ms, times } from './support/stats.js';
import { runScript, startScript } from './support/tsx-process.js';

const FLOOR_SERVER = fileURLToPath(new URL('./support/floor-server.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const P99_LIMIT_MS = 100;
const RATIO_RATE = 200;
const RATIO_TARGET = 2;
const CONNECTIONS = 50;

type Target = 'ours' | 'floor';

/** Half plain comments (recorded, ignored), half `/agent` commands (recorded, intent job queued). */
function deliveries(): LoadOptions['deliveries'] {
  const comment = (body: string) =>
    JSON.stringify(
      payload('issue_comment', 'created', {
        edit: (p) => {
          p.issue = { ...p.issue, number: 1, title: 'Widget 1 is broken', body: 'It breaks.' };
          delete p.issue.pull_request;
          p.comment = {
            ...p.comment,
            id: 555,
            body,
            user: { login: 'alice', id: 5, type: 'User' },
          };
        },
      }),
    );
  return [
    { event: 'issue_comment', body: comment('Thanks, I can reproduce this on main.') },
    { event: 'issue_comment', body: comment('/agent please add a regression test as well') },
  ];
}

async function load(url: string, rate: number, seconds: number): Promise<LoadResult> {
  const options: LoadOptions = {
    url,
    secret: SECRET,
    rate,
    seconds,
    connections: Math.min(CONNECTIONS, rate),
    deliveries: deliveries(),
  };
  const out = await runScript('./load-generator.ts', [JSON.stringify(options)]);
  return JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
}

export const ackLatency: Benchmark = {
  id: 'ack',
  title: '1. Acknowledgement latency under load',
  async run({ quick, resultsDir, log }) {
    const cleanup = createCleanupStack(log);
    try {
      const rates = quick ? [50, RATIO_RATE] : [50, 100, RATIO_RATE, 400, 800];
      const seconds = quick ? 3 : 20;
      const ratioRuns = quick ? 1 : 3;

      const t = await openTestDatabase('postgres');
      cleanup.add('database', () => t.cleanup());
      const github = await startScript('./local-github-process.ts');
      cleanup.add('local GitHub', () => github.stop());
      const ours = await startOrchestratorProcess({
        name: 'ack',
        databaseUrl: t.url!,
        githubEnv: JSON.parse(github.firstLine) as Record<string, string>,
        runner: 'off',
        resultsDir,
        cleanup,
        log,
      });
      mkdirSync(path.join(resultsDir, 'logs'), { recursive: true });
      const floor = await startChildServer({
        argv: ['--import', TSX, FLOOR_SERVER],
        env: { WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'info' },
        cwd: path.dirname(FLOOR_SERVER),
        logFile: path.join(resultsDir, 'logs', 'ack-floor.log'),
        readyPath: '/api/github/webhooks',
        readyMethod: 'POST',
      });
      cleanup.add('floor server', () => floor.stop());
      const urls: Record<Target, string> = { ours: ours.url, floor: floor.url };

      const backlog = async () => {
        const [row] = await t.database.db
          .select({ n: count() })
          .from(jobs)
          .where(and(eq(jobs.kind, 'github.intent'), eq(jobs.status, 'pending')));
        return row?.n ?? 0;
      };

      log('warming up both servers');
      for (const target of ['floor', 'ours'] as const) await load(urls[target], 50, quick ? 1 : 3);

      const runs: { target: Target; rate: number; result: LoadResult; backlog?: number }[] = [];
      for (const rate of rates) {
        for (let i = 0; i < (rate === RATIO_RATE ? ratioRuns : 1); i++) {
          // Side by side: the floor, then ours, at the same rate, one after the other.
          for (const target of ['floor', 'ours'] as const) {
            const result = await load(urls[target], rate, seconds);
            const run = {
              target,
              rate,
              result,
              ...(target === 'ours' ? { backlog: await backlog() } : {}),
            };
            runs.push(run);
            log(
              `${target} at ${rate}/s: p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, ${result.total} requests, ${result.non2xx + result.errors + result.timeouts} failed`,
            );
          }
        }
      }

      const at = (target: Target, rate: number) =>
        runs.filter((r) => r.target === target && r.rate === rate).map((r) => r.result);
      const p99At = (target: Target, rate: number) => median(at(target, rate).map((r) => r.p99));
      const failed = (r: LoadResult) => r.non2xx + r.errors + r.timeouts;
      const highest = (target: Target) =>
        Math.max(
          0,
          ...rates.filter(
            (rate) =>
              p99At(target, rate) < P99_LIMIT_MS && at(target, rate).every((r) => failed(r) === 0),
          ),
        );
      const ratio = p99At('ours', RATIO_RATE) / p99At('floor', RATIO_RATE);
      const rows: Row[] = [
        {
          metric: `p99 at ${RATIO_RATE}/s, ours / bare Probot floor (median of ${ratioRuns} runs each)`,
          value: `${times(ratio)} (${ms(p99At('ours', RATIO_RATE))} / ${ms(p99At('floor', RATIO_RATE))})`,
          target: `within ${RATIO_TARGET}x`,
          verdict: verdict(ratio <= RATIO_TARGET),
        },
        {
          metric: `highest tested rate with p99 under ${P99_LIMIT_MS} ms, ours`,
          value: highest('ours') ? `${highest('ours')}/s` : 'none',
          target: `floor: ${highest('floor') ? `${highest('floor')}/s` : 'none'}`,
        },
      ];
      const table = rates.map((rate) => {
        const mine = at('ours', rate);
        const base = at('floor', rate);
        const achieved = (list: LoadResult[]) =>
          `${Math.round(median(list.map((r) => r.total / r.seconds)))}/s`;
        const backlogAfter = runs
          .filter((r) => r.target === 'ours' && r.rate === rate)
          .pop()?.backlog;
        return [
          `${rate}/s`,
          ms(median(mine.map((r) => r.p50))),
          ms(median(mine.map((r) => r.p99))),
          ms(median(base.map((r) => r.p50))),
          ms(median(base.map((r) => r.p99))),
          times(median(mine.map((r) => r.p99)) / median(base.map((r) => r.p99))),
          `${achieved(mine)} / ${achieved(base)}`,
          `${mine.reduce((n, r) => n + failed(r), 0)} / ${base.reduce((n, r) => n + failed(r), 0)}`,
          String(backlogAfter ?? ''),
        ];
      });
      return {
        rows,
        tables: [
          {
            title: `Per rate (${seconds} s each; at ${RATIO_RATE}/s the median of ${ratioRuns} runs)`,
            header: [
              'rate',
              'ours p50',
              'ours p99',
              'floor p50',
              'floor p99',
              'p99 ours/floor',
              'achieved ours / floor',
              'failed ours / floor',
              'intent jobs queued after',
            ],
            rows: table,
          },
        ],
        notes: [
          `Ours: \`node dist/cli.js start\` (production mode, LOG_LEVEL=info to a file, RUNNER=off) on Postgres in a fresh database, its lifecycle pointed at a local GitHub in its own process. The floor: a bare Probot app (Probot's createNodeMiddleware, one handler that does nothing) in its own process, same secret. The load generator (autocannon, ${CONNECTIONS} connections, fixed rate with overallRate, latencies corrected for coordinated omission) runs in a third process.`,
          'Deliveries alternate between a plain issue comment (verified, recorded, translated, ignored) and an `/agent` command (verified, recorded, its intent job queued in the same SQL statement); every request has a new X-GitHub-Delivery id, so none is a redelivery. Both servers get the same signed bodies (real issue_comment example payloads, about 10 KB).',
          "Runs alternate floor, ours at each rate, so both see the same machine load. The last column is the `/agent` commands waiting for the lifecycle worker when the run ended: each command's job makes GitHub calls (permission, config, an eyes reaction), and Probot's throttling spaces writes one second apart, as GitHub asks; the backlog does not slow the acknowledgement, which never waits for it.",
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
