import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Orchestrator, startOrchestrator } from '../../src/composition/start-orchestrator.js';
import { jobs, sessionEvents } from '../../src/db/schema.js';
import { STATUS_MARKER } from '../../src/github/status-comment.js';
import { loadSettings } from '../../src/settings.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';
import { generatePrivateKey } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { parsePrometheusText, sampleValue } from '../metrics/prometheus-text.js';

const API_TOKEN = 'dead-jobs-test-token-0123456789';
const ALWAYS_FAILS = 'test.always-fails';
/** What a handler meets when GitHub answers in a shape it did not expect. */
const SURPRISE = 'unexpected response shape: no "data" in the answer';

// The whole app in this process (RUNNER=off) against a local GitHub, with one more job kind in
// its lifecycle lane whose handler throws on every attempt.
describe('a job that throws on every attempt', () => {
  let root: string;
  let github: LocalGitHub;
  let app: Orchestrator;
  let attempts = 0;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'ao-dead-jobs-'));
    github = await startLocalGitHub();
    const settings = loadSettings({
      APP_ID: '1',
      PRIVATE_KEY: generatePrivateKey(),
      WEBHOOK_SECRET: 'dead-jobs-webhook-secret',
      DATA_DIR: path.join(root, 'data'),
      PORT: '0',
      HOST: '127.0.0.1',
      RUNNER: 'off',
      API_TOKEN,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...github.env,
    });
    app = await startOrchestrator({
      settings,
      log: pino({ level: settings.logLevel }),
      envFile: path.join(root, '.env'),
      githubThrottle: false,
      jobHandlers: {
        [ALWAYS_FAILS]: async () => {
          attempts++;
          throw new TypeError(
            `${SURPRISE} (attempt ${attempts}, token ghs_abcdefghijklmnopqrstuvwx)`,
          );
        },
      },
    });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await github?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  const deadRow = (id: number) =>
    until(
      `job ${id} to be dead`,
      async () => {
        const [row] = await app.database.db.select().from(jobs).where(eq(jobs.id, id));
        return row?.status === 'dead' ? row : undefined;
      },
      60_000,
    );

  const scrape = async () => {
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };

  it("of a session: ends dead with its last error, on the session's timeline and its status comment, and counted", async () => {
    const session = (await app.sessionService.create({
      installationId: 7,
      repositoryId: 4242,
      repositoryFullName: 'octo/widgets',
      cloneUrl: 'https://github.example/octo/widgets.git',
      issueNumber: 12,
      agent: 'fake',
      triggeredBy: 'alice',
    }))!;
    const job = await app.queue.enqueue(app.database.db, {
      kind: ALWAYS_FAILS,
      sessionId: session.id,
      maxAttempts: 2,
    });

    const row = await deadRow(job.id);
    expect(row.attempts).toBe(2);
    expect(row.lastError).toContain(`${SURPRISE} (attempt 2`);

    // The timeline says what could not be done, in words, with the error clipped and cleaned.
    const dead = await until('the job-dead event', async () => {
      const events = await app.database.db
        .select()
        .from(sessionEvents)
        .where(eq(sessionEvents.sessionId, session.id))
        .orderBy(asc(sessionEvents.id));
      return events.find((e) => e.kind === 'job-dead');
    });
    expect(dead.data).toMatchObject({ job: ALWAYS_FAILS, jobId: job.id, attempts: 2 });
    expect(dead.data.error).toMatch(/^TypeError: unexpected response shape/);
    expect(dead.data.error).not.toContain('ghs_');
    expect(dead.data.error).not.toContain('\n');

    // The status comment on the issue says so too.
    const comment = await until('the status comment to say the job gave up', () =>
      github.comments.find(
        (c) => c.issue === 12 && c.body.startsWith(STATUS_MARKER) && c.body.includes('⚠️'),
      ),
    );
    expect(comment.body).toContain(
      `⚠️ Could not run the ${ALWAYS_FAILS} job after 2 attempts: \`TypeError: ${SURPRISE} (attempt 2`,
    );
    expect(comment.body).not.toContain('ghs_');
    expect(github.comments.filter((c) => c.issue === 12)).toHaveLength(1);

    const samples = await scrape();
    expect(
      sampleValue(samples, 'agent_orchestrator_jobs_dead_total', { kind: ALWAYS_FAILS }),
    ).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('of no session: listed on the dashboard home and at GET /api/jobs/dead, and counted', async () => {
    const before = await scrape();
    const counted = () =>
      sampleValue(before, 'agent_orchestrator_jobs_dead_total', { kind: ALWAYS_FAILS }) ?? 0;
    const already = counted();
    const job = await app.queue.enqueue(app.database.db, { kind: ALWAYS_FAILS, maxAttempts: 1 });
    await deadRow(job.id);

    const login = await fetch(app.loginLink()!, { redirect: 'manual' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const home = await (await fetch(`${app.url}/`, { headers: { cookie } })).text();
    expect(home).toContain('Failed jobs');
    const section = home.slice(home.indexOf('id="failed-jobs"'));
    expect(section).toContain(`data-job-id="${job.id}"`);
    expect(section).toContain(ALWAYS_FAILS);
    expect(section).toContain('unexpected response shape: no &quot;data&quot;');

    const unauthorized = await fetch(`${app.url}/api/jobs/dead`);
    expect(unauthorized.status).toBe(401);
    const listed = (await (
      await fetch(`${app.url}/api/jobs/dead`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
    ).json()) as { jobs: { jobId: number; sessionId: string | null; attempts: number }[] };
    expect(listed.jobs[0]).toMatchObject({ jobId: job.id, sessionId: null, attempts: 1 });

    const after = await scrape();
    expect(sampleValue(after, 'agent_orchestrator_jobs_dead_total', { kind: ALWAYS_FAILS })).toBe(
      already + 1,
    );
  }, 90_000);
});
