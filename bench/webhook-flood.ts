/**
 * Benchmark 6: what a flood of unsigned 24 MB webhook bodies costs the server in memory, and
 * whether it answers every one of them and a signed delivery after.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTestDatabase } from '../test/helpers/databases.js';
import { type RawAnswer, rawRequest } from '../test/helpers/raw-http.js';
import { deliveryHeaders, sign } from '../test/helpers/webhooks.js';
import { createCleanupStack } from './support/cleanup.js';
import { SECRET, startOrchestratorProcess } from './support/orchestrator.js';
import { deliver, payload } from './support/payloads.js';
import { type Benchmark, verdict } from './support/report.js';
import { mb, ms } from './support/stats.js';
import { startScript } from './support/tsx-process.js';

const FLOOD = 16;
const BODY_BYTES = 24 * 1024 * 1024;
const PEAK_TARGET_MB = 400;

/** VmRSS and VmHWM (the peak since the process started) in kilobytes. */
function memoryKb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** 16 connections at once, each a wrong signature and a 24 MB body; resolves with the answers. */
async function flood(url: string): Promise<RawAnswer[]> {
  const body = Buffer.alloc(BODY_BYTES, 'x');
  const requests = Array.from({ length: FLOOD }, () =>
    rawRequest(`${url}/api/github/webhooks`, {
      headers: {
        ...deliveryHeaders(SECRET, 'issues', ''),
        'x-hub-signature-256': sign('not-the-secret', 'x'),
        'content-length': String(BODY_BYTES),
      },
    }),
  );
  try {
    await Promise.all(requests.map((r) => r.send(body)));
    return await Promise.all(requests.map((r) => r.answer));
  } finally {
    for (const r of requests) r.destroy();
  }
}

export const webhookFlood: Benchmark = {
  id: 'flood',
  title: '6. Webhook memory under a flood of unsigned bodies',
  async run({ resultsDir, log }) {
    const cleanup = createCleanupStack(log);
    try {
      const t = await openTestDatabase('postgres');
      cleanup.add('database', () => t.cleanup());
      const github = await startScript('./local-github-process.ts');
      cleanup.add('local GitHub', () => github.stop());
      const server = await startOrchestratorProcess({
        name: 'flood',
        databaseUrl: t.url!,
        githubEnv: JSON.parse(github.firstLine) as Record<string, string>,
        runner: 'off',
        resultsDir,
        cleanup,
        log,
      });
      // Warm: one signed delivery, so the figures are not the first request's.
      await deliver(server.url, SECRET, 'issues', payload('issues', 'opened'));
      const before = memoryKb(server.pid);

      let sampled = before.rss;
      const sampler = setInterval(() => {
        sampled = Math.max(sampled, memoryKb(server.pid).rss);
      }, 10);
      const started = performance.now();
      const answers = await flood(server.url).finally(() => clearInterval(sampler));
      const took = performance.now() - started;
      const after = memoryKb(server.pid);
      await sleep(5_000);
      const settled = memoryKb(server.pid).rss;
      const signed = await deliver(server.url, SECRET, 'issues', payload('issues', 'opened'));
      log(
        `RSS ${mb(before.rss)} before, peak ${mb(after.peak)}, ${mb(after.rss)} after; answers ${answers.map((a) => a.status).join(' ')}`,
      );

      const counts = new Map<string, number>();
      for (const a of answers) {
        const key =
          a.status === 503 ? `503 (Retry-After ${a.headers['retry-after']})` : `${a.status}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const statuses = [...counts].map(([status, n]) => `${n} x ${status}`).join(', ');
      return {
        rows: [
          {
            metric: `server peak RSS (VmHWM) through ${FLOOD} concurrent unsigned 24 MB bodies`,
            value: mb(after.peak),
            target: `< ${PEAK_TARGET_MB} MB`,
            verdict: verdict(after.peak / 1024 < PEAK_TARGET_MB),
          },
          {
            metric: 'every request answered',
            value: `${answers.length} of ${FLOOD}: ${statuses}`,
            target: '401 or 503 each',
            verdict: verdict(
              answers.length === FLOOD && answers.every((a) => [401, 503].includes(a.status)),
            ),
          },
          {
            metric: 'a signed delivery after the flood',
            value: `${signed.status} in ${ms(signed.ms)}`,
            target: '200',
            verdict: verdict(signed.status === 200),
          },
        ],
        tables: [
          {
            title: 'Server memory (VmRSS from /proc/<pid>/status)',
            header: [
              'before',
              'peak (VmHWM)',
              'peak sampled every 10 ms',
              'when all were answered',
              '5 s later',
              'flood answered in',
            ],
            rows: [
              [mb(before.rss), mb(after.peak), mb(sampled), mb(after.rss), mb(settled), ms(took)],
            ],
          },
        ],
        notes: [
          `\`node dist/cli.js start\` (production mode, RUNNER=off) on Postgres, its GitHub the local one in its own process. ${FLOOD} connections open at once, each with a valid-looking but wrong X-Hub-Signature-256 and Content-Length 24 MB (under GitHub's 25 MB cap), and each sends its body as fast as the socket takes it; the benchmark stops sending on a connection once it is answered.`,
          `VmHWM is the server's peak since it started (before the flood: ${mb(before.peak)}, start-up included); the sampled figure can miss a short peak.`,
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
