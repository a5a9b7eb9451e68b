/**
 * Benchmark 7: the server's memory on embedded PGlite and on PostgreSQL, side by side. A first
 * start on an empty database (PGlite creates its cluster), then the scale benchmark's workload:
 * 1,000 active sessions with their history, CI-failure webhooks, and every session's events read
 * through the API. RSS is read from outside, in /proc, as an operator's tools would.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import postgres from 'postgres';
import { createDatabase } from '../src/db/client.js';
import { sessions } from '../src/db/schema.js';
import { adminUrl } from '../test/helpers/databases.js';
import { startLocalGitHub } from '../test/helpers/local-github.js';
import { until } from './support/app-scenario.js';
import { type CleanupStack, createCleanupStack } from './support/cleanup.js';
import { sampleProcessTree } from './support/memory-sampler.js';
import { SECRET, startOrchestratorProcess } from './support/orchestrator.js';
import { ciFailure, deliver, REPOSITORY } from './support/payloads.js';
import { type Benchmark, verdict } from './support/report.js';
import { seedSessions } from './support/seed-sessions.js';
import { mb } from './support/stats.js';

const ENGINES = ['pglite', 'postgres'] as const;
type Engine = (typeof ENGINES)[number];
const NAMES: Record<Engine, string> = { pglite: 'PGlite', postgres: 'PostgreSQL' };
const SESSIONS = 1_000;
const WEBHOOKS = 10;
/** Issue 21's bounds for the embedded default. */
const IDLE_BOUND_MB = 250;
const LOAD_BOUND_MB = 400;
const API_TOKEN = 'bench-memory-api-token-0123456789';

interface Reading {
  /** VmRSS after the idle wait (or after the workload). */
  rssKb: number;
  /** VmHWM: the most the server process has had resident. */
  peakKb: number;
  /** The most the server and its child processes had resident together, sampled. */
  treePeakKb: number;
}

interface EngineResult {
  engine: Engine;
  firstIdle: Reading;
  seededIdle: Reading;
  afterWorkload: Reading;
  workloadSeconds: number;
}

type Options = { quick: boolean; resultsDir: string; log: (m: string) => void };

/** An empty database for the engine: a new DATA_DIR, or a new database on the server. */
async function emptyDatabase(engine: Engine, cleanup: CleanupStack) {
  const dataDir = mkdtempSync(path.join(tmpdir(), `ao-bench-memory-${engine}-`));
  cleanup.add(`${engine} data dir`, () => rmSync(dataDir, { recursive: true, force: true }));
  if (engine === 'pglite') return { dataDir, url: undefined };
  const name = `ao_bench_memory_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  cleanup.add(`database ${name}`, async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return { dataDir, url: url.href };
}

/** The app started the README's way, sampled from its spawn; its reading after idleMs. */
async function startAndIdle(
  name: string,
  where: { dataDir: string; url: string | undefined },
  githubEnv: Record<string, string>,
  idleMs: number,
  cleanup: CleanupStack,
  options: Options,
) {
  let sampler: ReturnType<typeof sampleProcessTree> | undefined;
  const server = await startOrchestratorProcess({
    name,
    databaseUrl: where.url,
    dataDir: where.dataDir,
    githubEnv,
    runner: 'embedded',
    resultsDir: options.resultsDir,
    cleanup,
    log: options.log,
    // `npm start` on a workstation: development mode, as the quick start runs it.
    env: { NODE_ENV: 'development', API_TOKEN },
    // Creating a cluster on a busy machine takes a while.
    timeoutMs: 300_000,
    onSpawn: (pid) => {
      const started = sampleProcessTree(pid);
      sampler = started;
      cleanup.add(`${name} memory sampler`, () => void started.stop());
    },
  });
  await sleep(idleMs);
  const reading = (): Reading => ({
    rssKb: server.rssKb(),
    peakKb: server.peakKb(),
    treePeakKb: sampler!.peakKb(),
  });
  return { server, reading, stopSampling: () => sampler!.stop() };
}

/**
 * 1,000 sessions with their history, with the app stopped (PGlite is one process's); each target
 * gets a status comment and a failed check run on its head. Resolves to each target's head.
 */
async function seed(
  where: { dataDir: string; url: string | undefined },
  github: Awaited<ReturnType<typeof startLocalGitHub>>,
  targets: number[],
): Promise<Map<number, { sha: string; commentId: number }>> {
  const database = await createDatabase({ url: where.url, dataDir: where.dataDir });
  const heads = new Map<number, { sha: string; commentId: number }>();
  try {
    await seedSessions(database, SESSIONS);
    for (const i of targets) {
      const comment = github.addComment(REPOSITORY, i, 'agent-orchestrator[bot]', 'status');
      const [row] = await database.db
        .update(sessions)
        .set({ statusCommentId: comment.id })
        .where(eq(sessions.issueNumber, i))
        .returning({ sha: sessions.headSha });
      github.addCheckRun({
        name: 'test',
        head_sha: row!.sha!,
        status: 'completed',
        conclusion: 'failure',
        app: { slug: 'ci-bot' },
        details_url: 'https://ci.example/run/1',
        output: { title: '1 test failed', summary: 'expected 2, received 3' },
        annotations: [],
      });
      heads.set(i, { sha: row!.sha!, commentId: comment.id });
    }
  } finally {
    await database.close();
  }
  return heads;
}

/** Every session and all its events through the JSON API, four requests at a time. */
async function readEverySession(url: string) {
  const headers = { authorization: `Bearer ${API_TOKEN}` };
  const ids = Array.from(
    { length: SESSIONS },
    (_, i) => `s-bench${String(i + 1).padStart(5, '0')}`,
  );
  const next = async (): Promise<void> => {
    const id = ids.pop();
    if (!id) return;
    for (const route of [`/api/sessions/${id}`, `/api/sessions/${id}/events`]) {
      const res = await fetch(`${url}${route}`, { headers });
      if (res.status !== 200) throw new Error(`GET ${route} answered ${res.status}`);
      await res.arrayBuffer();
    }
    return next();
  };
  await Promise.all(Array.from({ length: 4 }, next));
}

async function measureEngine(engine: Engine, options: Options): Promise<EngineResult> {
  const cleanup = createCleanupStack(options.log);
  try {
    const idleMs = options.quick ? 5_000 : 25_000;
    const webhooks = options.quick ? 4 : WEBHOOKS;
    const targets = Array.from({ length: webhooks }, (_, k) =>
      Math.min(SESSIONS, Math.round(((k + 0.5) * SESSIONS) / webhooks)),
    );
    const github = await startLocalGitHub();
    cleanup.add(`${engine} local GitHub`, () => github.close());
    const where = await emptyDatabase(engine, cleanup);
    const start = (phase: string) =>
      startAndIdle(`memory-${engine}-${phase}`, where, github.env, idleMs, cleanup, options);

    options.log(`${engine}: first start on an empty database`);
    const first = await start('first');
    const firstIdle = first.reading();
    first.stopSampling();
    await first.server.stop();

    options.log(`${engine}: seeding ${SESSIONS} sessions with the app stopped`);
    const heads = await seed(where, github, targets);
    const second = await start('seeded');
    const seededIdle = second.reading();

    options.log(`${engine}: ${webhooks} CI-failure webhooks, then every session's events`);
    const { server } = second;
    const started = performance.now();
    for (const [k, i] of targets.entries()) {
      const { sha, commentId } = heads.get(i)!;
      const answer = await deliver(
        server.url,
        SECRET,
        'check_suite',
        ciFailure(sha, 10_000 + i, 70_000 + k),
      );
      if (answer.status !== 200)
        throw new Error(`delivery answered ${answer.status}: ${answer.text}`);
      // The intent job has read the CI report and the status comment says so: this one is done.
      const comment = github.comments.find((c) => c.id === commentId)!;
      await until(`the status comment of session ${i}`, async () => comment.body !== 'status', {
        timeoutMs: 120_000,
        intervalMs: 50,
      });
    }
    await readEverySession(server.url);
    const workloadSeconds = (performance.now() - started) / 1000;
    await sleep(2_000);
    const afterWorkload = second.reading();
    second.stopSampling();
    await server.stop();
    return { engine, firstIdle, seededIdle, afterWorkload, workloadSeconds };
  } finally {
    await cleanup.run();
  }
}

export const memory: Benchmark = {
  id: 'memory',
  title: '7. Memory: embedded PGlite and PostgreSQL',
  async run({ quick, resultsDir, log }) {
    // Both engines at once, so both see the same machine.
    const results = await Promise.all(
      ENGINES.map((engine) => measureEngine(engine, { quick, resultsDir, log })),
    );
    const [lite, pg] = results as [EngineResult, EngineResult];
    const both = (f: (r: EngineResult) => number) => `${mb(f(lite))} / ${mb(f(pg))}`;
    const under = (kb: number, boundMb: number) => verdict(kb < boundMb * 1024);
    const row = (label: string, f: (r: EngineResult) => number) => [
      label,
      ...results.map((r) => mb(f(r))),
    ];
    return {
      rows: [
        {
          metric: 'server RSS idle after a first start on an empty database: PGlite / PostgreSQL',
          value: both((r) => r.firstIdle.rssKb),
          target: `PGlite under ${IDLE_BOUND_MB} MB`,
          verdict: under(lite.firstIdle.rssKb, IDLE_BOUND_MB),
        },
        {
          metric: `server RSS idle with ${SESSIONS.toLocaleString('en')} active sessions: PGlite / PostgreSQL`,
          value: both((r) => r.seededIdle.rssKb),
          target: `PGlite under ${IDLE_BOUND_MB} MB`,
          verdict: under(lite.seededIdle.rssKb, IDLE_BOUND_MB),
        },
        {
          metric: 'server RSS after the scale workload: PGlite / PostgreSQL',
          value: both((r) => r.afterWorkload.rssKb),
          target: `PGlite under ${LOAD_BOUND_MB} MB`,
          verdict: under(lite.afterWorkload.rssKb, LOAD_BOUND_MB),
        },
        {
          metric: 'server peak RSS (VmHWM) through the workload: PGlite / PostgreSQL',
          value: both((r) => r.afterWorkload.peakKb),
          target: `PGlite under ${LOAD_BOUND_MB} MB`,
          verdict: under(lite.afterWorkload.peakKb, LOAD_BOUND_MB),
        },
      ],
      tables: [
        {
          title: 'Per engine (the server process, from /proc/<pid>/status)',
          header: ['', ...results.map((r) => NAMES[r.engine])],
          rows: [
            row('first start, empty database: RSS after the idle wait', (r) => r.firstIdle.rssKb),
            row('first start: peak RSS (VmHWM)', (r) => r.firstIdle.peakKb),
            row(
              'first start: peak of the server with its child processes (sampled)',
              (r) => r.firstIdle.treePeakKb,
            ),
            row(
              `${SESSIONS.toLocaleString('en')} sessions: RSS after the idle wait`,
              (r) => r.seededIdle.rssKb,
            ),
            row('after the workload: RSS', (r) => r.afterWorkload.rssKb),
            row(
              'after the workload: peak RSS (VmHWM) since the start',
              (r) => r.afterWorkload.peakKb,
            ),
            [
              'workload time (webhooks and reads)',
              ...results.map((r) => `${r.workloadSeconds.toFixed(1)} s`),
            ],
          ],
        },
      ],
      notes: [
        `Each engine gets an empty database: PGlite a new DATA_DIR, PostgreSQL a new database on the server. The app is started the README's way (\`node dist/cli.js start\`, development mode, embedded runner, its GitHub a local one) and left idle for ${quick ? 5 : 25} s; RSS is VmRSS of the server process, the peak its VmHWM, both read from /proc/<pid>/status by this process. On an empty DATA_DIR PGlite creates its cluster (initdb) in a child process, which VmHWM does not see; the sampled row (server plus children, every 20 ms) does.`,
        `Then, with the app stopped, the database is seeded as the scale benchmark seeds it (${SESSIONS.toLocaleString('en')} active sessions, each with five events, a finished turn and five done jobs), the app is started again and left idle, and the scale benchmark's workload runs: ${quick ? 4 : WEBHOOKS} CI-failure webhooks on sessions spread over the table, each waited for until its status comment is edited, then every session and its events read through the JSON API. The figures after the workload are taken 2 s after it ends.`,
        "PostgreSQL's own processes are not counted: they are outside the app, where for PGlite the database is inside. The two engines run at the same time.",
      ],
    };
  },
};
