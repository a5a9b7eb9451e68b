/**
 * Benchmark 6: how long a job's attempt takes while GitHub is unreachable. A label's intent job
 * runs in the app (in this process, RUNNER=off, PGlite) against a GitHub that refuses every
 * connection and against one that accepts and never answers; beside it, one GitHub call made with
 * Probot's default Octokit (retries, no deadline, rate limits waited out), the way the app made
 * every call before its calls were bounded (src/github/bounded-requests.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { Probot } from 'probot';
import { startOrchestrator } from '../src/composition/start-orchestrator.js';
import { jobs } from '../src/db/schema.js';
import { githubApiUrl, loadSettings } from '../src/settings.js';
import { generatePrivateKey } from '../test/helpers/processes.js';
import { createCleanupStack } from './support/cleanup.js';
import { type Benchmark, verdict } from './support/report.js';

/** The bound an attempt must stay under: what the tests assert, generously. */
const ATTEMPT_TARGET_S = 60;

type Outage = 'refusing' | 'hanging';

/** A GitHub that refuses connections (a closed port) or holds every one unanswered. */
async function unreachableGitHub(outage: Outage) {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  if (outage === 'refusing') await close();
  return { host: `127.0.0.1:${port}`, close };
}

function settingsFor(host: string, root: string) {
  return loadSettings({
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: 'bench-github-outage',
    DATA_DIR: path.join(root, 'data'),
    PORT: '0',
    HOST: '127.0.0.1',
    RUNNER: 'off',
    LOG_LEVEL: 'silent',
    GHE_HOST: host,
    GHE_PROTOCOL: 'http',
  });
}

/** Seconds from queuing a label's intent job to its first attempt's failure. */
async function intentAttemptSeconds(host: string, root: string): Promise<number> {
  const settings = settingsFor(host, root);
  const app = await startOrchestrator({
    settings,
    log: pino({ level: 'silent' }),
    envFile: path.join(root, '.env'),
  });
  try {
    const started = performance.now();
    const job = await app.sessionService.enqueueIntent({
      deliveryId: 'bench-outage',
      receivedAt: new Date().toISOString(),
      intent: {
        kind: 'label-added',
        installationId: 7,
        label: 'agent',
        sender: { login: 'alice', type: 'User' },
        repo: {
          id: 1,
          fullName: 'octo/widgets',
          cloneUrl: 'https://x/y.git',
          defaultBranch: 'main',
        },
        issue: {
          number: 1,
          title: 'Crash',
          body: 'It crashes.',
          url: 'https://x/1',
          isPullRequest: false,
        },
      },
    });
    for (;;) {
      const [row] = await app.database.db.select().from(jobs).where(eq(jobs.id, job.id));
      if (row?.lastError) return (performance.now() - started) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await app.close();
  }
}

/** Seconds one call takes to fail with Probot's default Octokit; null past `capS`. */
async function probotDefaultCallSeconds(host: string, capS: number): Promise<number | null> {
  const settings = settingsFor(host, tmpdir());
  const probot = new Probot({
    appId: settings.app!.id,
    privateKey: settings.app!.privateKey,
    baseUrl: githubApiUrl(settings),
    log: pino({ level: 'silent' }),
  });
  const started = performance.now();
  const octokit = await probot.auth(7);
  const call = octokit.rest.issues.get({ owner: 'octo', repo: 'widgets', issue_number: 1 });
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<'cap'>((resolve) => {
    timer = setTimeout(() => resolve('cap'), capS * 1000);
  });
  const outcome = await Promise.race([
    call.then(
      () => 'ok' as const,
      () => 'failed' as const,
    ),
    cap,
  ]);
  clearTimeout(timer);
  return outcome === 'cap' ? null : (performance.now() - started) / 1000;
}

const seconds = (s: number | null, capS: number) =>
  s === null ? `> ${capS} s` : `${s.toFixed(1)} s`;

export const githubOutage: Benchmark = {
  id: 'outage',
  title: '8. Jobs while GitHub is unreachable',
  async run({ quick, log }) {
    const cleanup = createCleanupStack(log);
    const capS = quick ? 60 : 240;
    const rows = [];
    const table: string[][] = [];
    try {
      for (const outage of ['refusing', 'hanging'] as const) {
        const github = await unreachableGitHub(outage);
        cleanup.add(`the ${outage} GitHub`, github.close);
        const root = mkdtempSync(path.join(tmpdir(), 'ao-bench-outage-'));
        cleanup.add('the data folder', () => rmSync(root, { recursive: true, force: true }));
        log(`${outage}: one intent attempt in the app`);
        const attempt = await intentAttemptSeconds(github.host, root);
        log(`${outage}: one call with Probot's defaults (stopped after ${capS} s)`);
        const peer = await probotDefaultCallSeconds(github.host, capS);
        rows.push({
          metric: `intent job attempt, GitHub ${outage}`,
          value: `${attempt.toFixed(1)} s`,
          target: `< ${ATTEMPT_TARGET_S} s`,
          verdict: verdict(attempt < ATTEMPT_TARGET_S),
        });
        table.push([outage, `${attempt.toFixed(1)} s`, seconds(peer, capS)]);
      }
    } finally {
      await cleanup.run();
    }
    return {
      rows,
      tables: [
        {
          title: 'One attempt of an intent job (the app) and one GitHub call (Probot defaults)',
          header: ['GitHub', 'intent attempt, bounded calls', "one call, Probot's defaults"],
          rows: table,
        },
      ],
      notes: [
        'Refusing: a closed port (ECONNREFUSED at once). Hanging: a server that accepts connections and never answers.',
        "Bounded calls: one retry, a 30 s deadline per request that is not retried, rate limits waited out once and only when under 60 s. Probot's defaults retry three times (1, 4, 9 s), and the installation token inside each try the same way; a request waits for as long as the HTTP client allows.",
        'Before the calls were bounded, the same intent attempt took 340 s with GitHub refusing connections (32 token requests), measured on the commit before this benchmark.',
        'In this process, not the built app in a child: only the time of a job attempt against a dead GitHub is measured, which does not depend on how the app is started.',
      ],
    };
  },
};
