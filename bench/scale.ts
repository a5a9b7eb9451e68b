/**
 * Benchmark 5: does the app slow down with many active sessions? 1,000 active sessions in the
 * database against 10: the cost of one webhook (time and SQL statements), the server's memory,
 * and how fast 8 workers claim jobs.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { jobs, sessions } from '../src/db/schema.js';
import { createJobQueue } from '../src/jobs/queue.js';
import { createWorker, type Worker } from '../src/jobs/worker.js';
import { openTestDatabase, type TestDatabase } from '../test/helpers/databases.js';
import { startLocalGitHub } from '../test/helpers/local-github.js';
import { until } from './support/app-scenario.js';
import { type CleanupStack, createCleanupStack } from './support/cleanup.js';
import { SECRET, startOrchestratorProcess } from './support/orchestrator.js';
import { ciFailure, deliver, REPOSITORY } from './support/payloads.js';
import { startCountingProxy } from './support/pg-counting-proxy.js';
import { type Benchmark, verdict } from './support/report.js';
import { seedSessions } from './support/seed-sessions.js';
import { mb, median, ms, times } from './support/stats.js';

const SIZES = [10, 1_000] as const;
const WEBHOOKS = 10;
const WORKERS = 8;
/** "Does not slow down": 1,000 sessions within this factor of 10 sessions. */
const FLAT = 1.5;

interface SizeResult {
  sessions: number;
  requestMs: number[];
  requestStatements: number[];
  intentMs: number[];
  webhookStatements: number[];
  /** The same, without the workers' polls and new connections' set-up (timing, not work). */
  workStatements: number[];
  statementsByText: Map<string, number>;
  backgroundPerSecond: number;
  rssIdleKb: number;
  rssAfterKb: number;
  claimsPerSecond: number[];
}

/** Statements that depend on timing, not on the webhook: job polls and connection set-up. */
const POLLING = [
  /^update "jobs" set "status" = \$1, "locked_by" = \$2, "lease_expires_at" = \$3, "last_error"/,
  /^with "due" as \(select "id" from "jobs"/,
  /^select min\(case when "status" = 'pending'/,
  /pg_catalog\.pg_type/,
];

/** 8 workers on their own connections claim and run `total` no-op jobs; returns jobs per second. */
async function claimThroughput(t: TestDatabase, total: number, kind: string): Promise<number> {
  const log = pino({ level: 'silent' });
  const workers: Worker[] = [];
  try {
    let done = 0;
    for (let i = 0; i < WORKERS; i++) {
      const database = await t.connect({ maxConnections: 2 });
      workers.push(
        createWorker({
          database,
          queue: createJobQueue({ db: database.db }),
          log,
          workerId: `bench-${kind}-${i}`,
          concurrency: 4,
          handlers: {
            [kind]: async () => {
              done += 1;
            },
          },
        }),
      );
    }
    await Promise.all(workers.map((w) => w.start()));
    const producer = createJobQueue({ db: t.database.db });
    const started = performance.now();
    for (let batch = 0; batch < 4; batch++) {
      await t.database.db.transaction(async (tx) => {
        for (let i = 0; i < total / 4; i++) await producer.enqueue(tx, { kind });
      });
    }
    await until(
      `${total} jobs to be done`,
      async () => {
        const [row] = await t.database.db
          .select({ n: count() })
          .from(jobs)
          .where(and(eq(jobs.kind, kind), eq(jobs.status, 'done')));
        return row?.n === total;
      },
      { timeoutMs: 120_000, intervalMs: 20 },
    );
    const seconds = (performance.now() - started) / 1000;
    if (done !== total) throw new Error(`${done} runs for ${total} jobs`);
    return total / seconds;
  } finally {
    await Promise.all(workers.map((w) => w.stop({ graceMs: 1_000 })));
  }
}

type Options = { quick: boolean; resultsDir: string; log: (m: string) => void };
type Deployment = Awaited<ReturnType<typeof deploy>>;

/** A fresh database with n active sessions, and the real app on it behind the counting proxy. */
async function deploy(n: number, cleanup: CleanupStack, options: Options) {
  const t = await openTestDatabase('postgres');
  cleanup.add(`database (${n})`, () => t.cleanup());
  await seedSessions(t.database, n);
  const github = await startLocalGitHub();
  cleanup.add(`local GitHub (${n})`, () => github.close());
  const direct = new URL(t.url!);
  const proxy = await startCountingProxy({ host: direct.hostname, port: Number(direct.port) });
  cleanup.add(`counting proxy (${n})`, () => proxy.close());
  const viaProxy = new URL(t.url!);
  viaProxy.port = String(proxy.port);
  const server = await startOrchestratorProcess({
    name: `scale-${n}`,
    databaseUrl: viaProxy.href,
    githubEnv: github.env,
    runner: 'embedded',
    resultsDir: options.resultsDir,
    cleanup,
    log: options.log,
  });
  const { db } = t.database;
  // Jobs anyone here can run: the turn jobs addressed to the absent runner wait forever.
  const busy = async () => {
    const [row] = await db
      .select({ n: count() })
      .from(jobs)
      .where(and(inArray(jobs.status, ['pending', 'running']), isNull(jobs.runnerId)));
    return row?.n ?? 0;
  };
  await until('the app to settle after startup', async () => (await busy()) === 0);
  const result: SizeResult = {
    sessions: n,
    requestMs: [],
    requestStatements: [],
    intentMs: [],
    webhookStatements: [],
    workStatements: [],
    statementsByText: new Map(),
    backgroundPerSecond: 0,
    rssIdleKb: 0,
    rssAfterKb: 0,
    claimsPerSecond: [],
  };
  return { n, t, db, github, proxy, server, busy, result };
}

/** One failed check suite on the head of session `i`, from the request until the app is idle. */
async function webhook(d: Deployment, i: number, k: number) {
  const { db, github, proxy, server, result } = d;
  // Its status comment, which the reaction edits (the seeded comment ids exist nowhere).
  const comment = github.addComment(REPOSITORY, i, 'agent-orchestrator[bot]', 'status');
  const [row] = await db
    .update(sessions)
    .set({ statusCommentId: comment.id })
    .where(eq(sessions.issueNumber, i))
    .returning({ sha: sessions.headSha });
  const sha = row!.sha!;
  github.addCheckRun({
    name: 'test',
    head_sha: sha,
    status: 'completed',
    conclusion: 'failure',
    app: { slug: 'ci-bot' },
    details_url: 'https://ci.example/run/1',
    output: { title: '1 test failed', summary: 'expected 2, received 3' },
    annotations: [],
  });
  const deliveryId = randomUUID();
  const mark = proxy.snapshot();
  const sent = Date.now();
  const answer = await deliver(
    server.url,
    SECRET,
    'check_suite',
    ciFailure(sha, 10_000 + i, 70_000 + k),
    deliveryId,
  );
  if (answer.status !== 200) throw new Error(`delivery answered ${answer.status}: ${answer.text}`);
  result.requestMs.push(answer.ms);
  result.requestStatements.push(proxy.since(mark).total);
  const intent = await until(
    'the intent job',
    async () => {
      const [job] = await db
        .select({ completedAt: jobs.completedAt, status: jobs.status })
        .from(jobs)
        .where(
          and(eq(jobs.kind, 'github.intent'), sql`${jobs.payload}->>'deliveryId' = ${deliveryId}`),
        );
      if (job?.status === 'dead') throw new Error('the intent job failed');
      return job?.completedAt;
    },
    { timeoutMs: 30_000 },
  );
  result.intentMs.push(intent.getTime() - sent);
  await until('the app to be idle', async () => (await d.busy()) === 0, { timeoutMs: 30_000 });
  const caused = proxy.since(mark);
  result.webhookStatements.push(caused.total);
  let work = 0;
  for (const [text, n] of caused.byText) if (!POLLING.some((p) => p.test(text))) work += n;
  result.workStatements.push(work);
  if (k === 0) result.statementsByText = caused.byText;
}

/** Both sizes deployed at once and measured turn about, so both see the same machine load. */
async function measure(options: Options): Promise<SizeResult[]> {
  const cleanup = createCleanupStack(options.log);
  try {
    const deployments: Deployment[] = [];
    for (const n of SIZES) {
      options.log(`deploying with ${n} active sessions`);
      deployments.push(await deploy(n, cleanup, options));
    }
    await sleep(2_000);
    for (const d of deployments) d.result.rssIdleKb = d.server.rssKb();
    const quiet = options.quick ? 2_000 : 5_000;
    const before = deployments.map((d) => d.proxy.snapshot());
    await sleep(quiet);
    deployments.forEach((d, i) => {
      d.result.backgroundPerSecond = d.proxy.since(before[i]!).total / (quiet / 1000);
    });

    const webhooks = options.quick ? 4 : WEBHOOKS;
    for (let k = 0; k < webhooks; k++) {
      for (const d of deployments) {
        // Sessions spread over the table, each hit once (a fresh session reacts, never escalates).
        await webhook(d, Math.min(d.n, Math.round(((k + 0.5) * d.n) / webhooks)), k);
      }
    }
    for (const d of deployments) {
      d.result.rssAfterKb = d.server.rssKb();
      await d.server.stop();
    }
    const rounds = options.quick ? 1 : 2;
    for (let r = 0; r < rounds; r++) {
      for (const d of deployments) {
        d.result.claimsPerSecond.push(
          await claimThroughput(d.t, options.quick ? 500 : 2_000, `bench.noop-${r}`),
        );
      }
    }
    return deployments.map((d) => d.result);
  } finally {
    await cleanup.run();
  }
}

/** Statement texts, shortened; statements that share a beginning are told apart by their counts. */
function statementRows(byText: Map<string, number>): string[][] {
  const merged = new Map<string, number>();
  for (const [text, n] of byText) {
    const short = text.length > 110 ? `${text.slice(0, 110)}…` : text;
    merged.set(short, (merged.get(short) ?? 0) + n);
  }
  return [...merged.entries()].sort((a, b) => b[1] - a[1]).map(([text, n]) => [String(n), text]);
}

export const scale: Benchmark = {
  id: 'scale',
  title: '5. Scale: 1,000 active sessions against 10',
  async run({ quick, resultsDir, log }) {
    const results = await measure({ quick, resultsDir, log });
    const [small, large] = results as [SizeResult, SizeResult];
    const ratio = (f: (r: SizeResult) => number) => f(large) / f(small);
    const requestRatio = ratio((r) => median(r.requestMs));
    const claimRatio = ratio((r) => median(r.claimsPerSecond));
    const column = (f: (r: SizeResult) => string) => results.map(f);
    const both = (f: (r: SizeResult) => string) => `${f(large)} / ${f(small)}`;
    return {
      rows: [
        {
          metric: `one webhook, median request time (${large.requestMs.length} each): 1,000 sessions / 10`,
          value: `${both((r) => ms(median(r.requestMs)))} (${times(requestRatio)})`,
          target: `within ${FLAT}x`,
          verdict: verdict(requestRatio <= FLAT),
        },
        {
          metric: 'SQL statements one CI-failure webhook causes, without polls: 1,000 / 10',
          value: both((r) => String(median(r.workStatements))),
          target: 'no more with 1,000',
          verdict: verdict(median(large.workStatements) <= median(small.workStatements)),
        },
        {
          metric: 'server memory (RSS) after the webhooks: 1,000 / 10',
          value: both((r) => mb(r.rssAfterKb)),
          target: `within ${FLAT}x`,
          verdict: verdict(large.rssAfterKb / small.rssAfterKb <= FLAT),
        },
        {
          metric: `job claims per second, ${WORKERS} workers (median of ${large.claimsPerSecond.length}): 1,000 / 10`,
          value: `${both((r) => String(Math.round(median(r.claimsPerSecond))))} (${times(claimRatio)})`,
          target: `at least 1/${FLAT} as many`,
          verdict: verdict(claimRatio >= 1 / FLAT),
        },
      ],
      tables: [
        {
          title: 'Per size (medians over the webhooks)',
          header: ['active sessions', ...column((r) => r.sessions.toLocaleString('en'))],
          rows: [
            ['webhook request time', ...column((r) => ms(median(r.requestMs)))],
            [
              'SQL statements in the request',
              ...column((r) => String(median(r.requestStatements))),
            ],
            ['webhook to intent job done', ...column((r) => ms(median(r.intentMs)))],
            [
              'SQL statements, webhook to idle, all',
              ...column((r) => String(median(r.webhookStatements))),
            ],
            [
              'the same without job polls and connection set-up',
              ...column((r) => String(median(r.workStatements))),
            ],
            [
              'background statements per second (idle)',
              ...column((r) => r.backgroundPerSecond.toFixed(1)),
            ],
            ['server RSS idle', ...column((r) => mb(r.rssIdleKb))],
            ['server RSS after the webhooks', ...column((r) => mb(r.rssAfterKb))],
            [
              `job claims per second (${WORKERS} workers)`,
              ...column((r) => r.claimsPerSecond.map((c) => Math.round(c)).join(', ')),
            ],
          ],
        },
        {
          title: 'The statements the first webhook caused (10 sessions)',
          header: ['times', 'statement'],
          rows: statementRows(small.statementsByText),
        },
      ],
      notes: [
        'Each size gets a fresh database seeded with that many active sessions (status waiting, an open pull request, a head commit), each with five events, a finished turn and five done jobs, and the real app (`node dist/cli.js start`, embedded runner, production mode) on it, its GitHub a local one. Both deployments run at once and take turns, so both see the same machine load.',
        `One webhook is a failed check_suite on one session's head commit (${quick ? 4 : WEBHOOKS} per size, each for a different session spread over the table, one at a time): the request records it and queues its intent; the intent job finds the session, reads the CI report from GitHub and queues the message for the agent; the status comment is edited. The turn job is addressed to a runner that is not there, so no agent runs.`,
        "SQL statements are counted on the wire: the app's DATABASE_URL points at a small proxy (bench/support/pg-counting-proxy.ts) that reads the PostgreSQL frontend protocol and counts every Execute and simple Query message, keyed by the statement text from its Parse message. It needs no extension (pg_stat_statements is not preloaded on this server) and sees every statement on every pooled connection, BEGIN and COMMIT included. The window runs from the request until no job is left to run; the workers' claim polls and a new connection's type lookup depend on timing, not on the webhook, so the headline leaves them out (the table has both).",
        `Job claims: ${WORKERS} workers, each on its own database client with 4 job slots, as test/jobs/concurrency.test.ts runs them (src/jobs/queue.ts claim with FOR UPDATE SKIP LOCKED, then complete), take ${quick ? 500 : 2_000} no-op jobs enqueued in 4 transactions, on the same database with the app stopped; jobs per second from the first enqueue to the last completion.`,
      ],
    };
  },
};
