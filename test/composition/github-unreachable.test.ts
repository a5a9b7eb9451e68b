import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Orchestrator, startOrchestrator } from '../../src/composition/start-orchestrator.js';
import { jobs } from '../../src/db/schema.js';
import { JOB_KINDS, sessionJobs } from '../../src/sessions/job-kinds.js';
import { loadSettings } from '../../src/settings.js';
import { generatePrivateKey } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const API_TOKEN = 'github-unreachable-test-token-01';
/** Generous for a busy machine; with Probot's defaults one attempt took 340 s. */
const ATTEMPT_BOUND_S = 60;

/** A port nothing listens on: every connection to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// A label on an issue while GitHub is unreachable: the intent job's attempts, not the retries
// inside each GitHub call, decide when it gives up; then it is listed for operators.
describe('an intent job with GitHub unreachable', () => {
  let root: string;
  let app: Orchestrator;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'ao-github-down-'));
    const settings = loadSettings({
      APP_ID: '1',
      PRIVATE_KEY: generatePrivateKey(),
      WEBHOOK_SECRET: 'github-unreachable-secret',
      DATA_DIR: path.join(root, 'data'),
      PORT: '0',
      HOST: '127.0.0.1',
      RUNNER: 'off',
      API_TOKEN,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      GHE_HOST: `127.0.0.1:${await closedPort()}`,
      GHE_PROTOCOL: 'http',
    });
    app = await startOrchestrator({
      settings,
      log: pino({ level: settings.logLevel }),
      envFile: path.join(root, '.env'),
    });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('gives up within its attempts in bounded time, and is listed as a failed job', async () => {
    const intent = sessionJobs.intent({
      deliveryId: 'delivery-github-down',
      receivedAt: new Date().toISOString(),
      intent: {
        kind: 'label-added',
        installationId: 7,
        label: 'agent',
        sender: { login: 'alice', type: 'User' },
        repo: {
          id: 4242,
          fullName: 'octo/widgets',
          cloneUrl: 'https://github.example/octo/widgets.git',
          defaultBranch: 'main',
        },
        issue: {
          number: 5,
          title: 'Crash on save',
          body: 'It crashes.',
          url: 'https://github.example/octo/widgets/issues/5',
          isPullRequest: false,
        },
      },
    });
    const started = performance.now();
    const job = await app.queue.enqueue(app.database.db, { ...intent, maxAttempts: 2 });
    const row = () =>
      app.database.db
        .select()
        .from(jobs)
        .where(eq(jobs.id, job.id))
        .then((rows) => rows[0]!);

    // The first attempt fails on its own, in bounded time.
    await until(
      'the first attempt to fail',
      async () => (await row()).lastError,
      ATTEMPT_BOUND_S * 1000,
    );
    const first = (performance.now() - started) / 1000;
    const dead = await until(
      'the job to be dead',
      async () => ((await row()).status === 'dead' ? row() : undefined),
      2 * ATTEMPT_BOUND_S * 1000,
    );
    const total = (performance.now() - started) / 1000;
    expect(dead.attempts).toBe(2);
    expect(dead.lastError).toContain('ECONNREFUSED');
    expect(first).toBeLessThan(ATTEMPT_BOUND_S);
    expect(total).toBeLessThan(2 * ATTEMPT_BOUND_S + 5);

    const answer = await fetch(`${app.url}/api/jobs/dead`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    const { jobs: listed } = (await answer.json()) as { jobs: Record<string, unknown>[] };
    expect(listed[0]).toMatchObject({
      jobId: job.id,
      job: JOB_KINDS.intent,
      what: 'act on an event from GitHub',
      attempts: 2,
      sessionId: null,
      repository: 'octo/widgets',
      deliveryId: 'delivery-github-down',
    });
    expect(String(listed[0]!.error)).toContain('ECONNREFUSED');
  }, 300_000);
});
