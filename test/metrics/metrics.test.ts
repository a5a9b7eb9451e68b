import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhooks } from '@octokit/webhooks';
import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrchestrator } from '../../src/composition/start-orchestrator.js';
import { createDatabase, type Database } from '../../src/db/client.js';
import { jobs, sessions } from '../../src/db/schema.js';
import { createGitHubApp } from '../../src/github/app.js';
import { recordOnly } from '../../src/github/deliveries.js';
import { createInstallationClient } from '../../src/github/installation-client.js';
import { GAUGE_CACHE_MS } from '../../src/metrics/database-gauges.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { operatorConfigSchema } from '../../src/operator-config.js';
import { type RunnerHost, startRunnerHost } from '../../src/runner/runner-host.js';
import { createServerApp, type ServerAppDeps } from '../../src/server/app.js';
import { MAX_WEBHOOK_BYTES, WEBHOOK_PATH } from '../../src/server/webhook-route.js';
import { loadSettings } from '../../src/settings.js';
import { type InProcess, startInProcess } from '../e2e/in-process.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';
import { generatePrivateKey } from '../helpers/processes.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { deliveryHeaders, examplePayload } from '../helpers/webhooks.js';
import { fakeAgentConfig, type Harness, startHarness } from '../runner/harness.js';
import { parsePrometheusText, type Sample, sampleValue } from './prometheus-text.js';

const SECRET = 'metrics-secret';
const webhooks = new Webhooks({ secret: SECRET });
const log = pino({ level: 'silent' });

function serverFor(
  database: Database,
  metrics: Metrics,
  options: Pick<ServerAppDeps, 'metricsToken' | 'metricsCache'> = {},
) {
  return createServerApp({
    database,
    verify: (body, signature) => webhooks.verify(body, signature),
    handler: recordOnly,
    log,
    metrics,
    ...options,
  });
}

/** The database with its selects counted: what a scrape costs it. */
function countingSelects(database: Database) {
  const counter = { selects: 0 };
  const db = new Proxy(database.db, {
    get(target, property) {
      if (typeof property === 'string' && property.startsWith('select')) counter.selects++;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { database: { ...database, db } as Database, counter };
}

type App = ReturnType<typeof serverFor>;

/** GET /metrics as a scraper does; the answer must be Prometheus text that parses. */
async function scrape(app: App): Promise<{ text: string; samples: Sample[] }> {
  const res = await app.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  const text = await res.text();
  return { text, samples: parsePrometheusText(text) };
}

async function until(check: () => Promise<boolean>) {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

function deliver(
  app: App,
  event: string,
  body: string,
  headers = deliveryHeaders(SECRET, event, body),
) {
  return app.request(WEBHOOK_PATH, { method: 'POST', body, headers });
}

describe.each(ENGINES)('GET /metrics on %s', (engine) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(engine);
  });
  afterAll(() => t?.cleanup());

  it('counts deliveries by event and outcome and times every answer', async () => {
    const metrics = createMetrics();
    const app = serverFor(t.database, metrics);
    const labeled = JSON.stringify(examplePayload('issues', 'labeled'));
    const headers = deliveryHeaders(SECRET, 'issues', labeled);
    expect((await deliver(app, 'issues', labeled, headers)).status).toBe(200);
    expect((await deliver(app, 'issues', labeled, headers)).status).toBe(200);
    const comment = JSON.stringify(examplePayload('issue_comment', 'created'));
    const forged = deliveryHeaders('not-the-secret', 'issue_comment', comment);
    expect((await deliver(app, 'issue_comment', comment, forged)).status).toBe(401);
    // An event name nobody sends does not become a label of its own: the header is unverified.
    const invented = deliveryHeaders('not-the-secret', 'made_up_event', comment);
    expect((await deliver(app, 'made_up_event', comment, invented)).status).toBe(401);
    expect((await deliver(app, 'issues', '{')).status).toBe(400);
    const huge = JSON.stringify({ blob: 'x'.repeat(MAX_WEBHOOK_BYTES) });
    expect((await deliver(app, 'push', huge)).status).toBe(413);

    const { samples } = await scrape(app);
    const deliveries = (event: string, outcome: string) =>
      sampleValue(samples, 'agent_orchestrator_webhook_deliveries_total', { event, outcome });
    expect(deliveries('issues', 'accepted')).toBe(1);
    expect(deliveries('issues', 'duplicate')).toBe(1);
    expect(deliveries('issue_comment', 'bad_signature')).toBe(1);
    expect(deliveries('other', 'bad_signature')).toBe(1);
    expect(deliveries('issues', 'bad_request')).toBe(1);
    expect(deliveries('push', 'too_large')).toBe(1);
    expect(samples.some((s) => s.labels.event === 'made_up_event')).toBe(false);

    // Every answer is in the latency histogram, in its outcome's series.
    const answered = (outcome: string) =>
      sampleValue(samples, 'agent_orchestrator_webhook_ack_duration_seconds_count', { outcome });
    expect(answered('accepted')).toBe(1);
    expect(answered('duplicate')).toBe(1);
    expect(answered('bad_signature')).toBe(2);
    expect(answered('bad_request')).toBe(1);
    expect(answered('too_large')).toBe(1);
    const buckets = samples.filter(
      (s) =>
        s.name === 'agent_orchestrator_webhook_ack_duration_seconds_bucket' &&
        s.labels.outcome === 'accepted',
    );
    expect(buckets.map((b) => b.labels.le)).toEqual([
      ...['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5'],
      '+Inf',
    ]);
    expect(buckets.at(-1)?.value).toBe(1);
    // Process metrics come along on the same registry.
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('reports sessions by status and jobs by kind and state as the database has them', async () => {
    const metrics = createMetrics();
    let clock = 1_000_000;
    const app = serverFor(t.database, metrics, { metricsCache: { now: () => clock } });
    const statuses = ['working', 'working', 'waiting', 'merged'] as const;
    await t.database.db.insert(sessions).values(
      statuses.map((status, i) => ({
        id: `s-metrics-${engine}-${i}`,
        repositoryId: 99,
        repositoryFullName: 'octo/secret-project',
        cloneUrl: 'https://github.com/octo/secret-project.git',
        issueNumber: i + 1,
        agent: 'fake',
        triggeredBy: 'alice',
        status,
        context: { issue: { title: 'Top secret launch plan' } },
      })),
    );
    await t.database.db.insert(jobs).values([
      { kind: 'spawn', status: 'pending' },
      { kind: 'spawn', status: 'pending' },
      { kind: 'spawn', status: 'dead', lastError: 'token ghs_do_not_show' },
      { kind: 'notify', status: 'done' },
    ]);

    let { text, samples } = await scrape(app);
    const session = (status: string) =>
      sampleValue(samples, 'agent_orchestrator_sessions', { status });
    const job = (kind: string, state: string) =>
      sampleValue(samples, 'agent_orchestrator_jobs', { kind, state });
    expect(sampleValue(samples, 'agent_orchestrator_database_up')).toBe(1);
    expect(session('working')).toBe(2);
    expect(session('waiting')).toBe(1);
    expect(session('merged')).toBe(1);
    expect(session('queued')).toBe(0);
    expect(job('spawn', 'pending')).toBe(2);
    expect(job('spawn', 'dead')).toBe(1);
    expect(job('spawn', 'running')).toBe(0);
    expect(job('notify', 'done')).toBe(1);
    for (const secret of ['secret-project', 'Top secret', 'ghs_', 'alice']) {
      expect(text).not.toContain(secret);
    }

    // Read when scraped, at most once per cache window: a change shows once the window is over.
    await t.database.db
      .update(sessions)
      .set({ status: 'waiting' })
      .where(eq(sessions.id, `s-metrics-${engine}-0`));
    await t.database.db.update(jobs).set({ status: 'running' }).where(eq(jobs.kind, 'spawn'));
    clock += GAUGE_CACHE_MS - 1;
    ({ samples } = await scrape(app));
    expect(session('working')).toBe(2);
    clock += 1;
    ({ samples } = await scrape(app));
    expect(session('working')).toBe(1);
    expect(session('waiting')).toBe(2);
    expect(job('spawn', 'running')).toBe(3);
    expect(job('spawn', 'pending')).toBe(0);
  });

  it('queries the database once for a storm of scrapes within the cache window', async () => {
    let clock = 5_000_000;
    const { database, counter } = countingSelects(t.database);
    const app = serverFor(database, createMetrics(), { metricsCache: { now: () => clock } });
    // Together (one read shared) and one after another (the read kept).
    await Promise.all(Array.from({ length: 20 }, () => scrape(app)));
    for (let i = 0; i < 30; i++) await scrape(app);
    clock += GAUGE_CACHE_MS - 1;
    const { samples } = await scrape(app);
    expect(sampleValue(samples, 'agent_orchestrator_database_up')).toBe(1);
    // One read: sessions, jobs, and the budgets' three queries (budget-gauges.ts), one of which
    // has a subquery built with a select of its own.
    expect(counter.selects).toBe(6);
    clock += 1;
    await scrape(app);
    expect(counter.selects).toBe(12);
  });

  it('asks for METRICS_TOKEN as a bearer token when it is set', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const app = serverFor(t.database, createMetrics(), { metricsToken: token });
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${token}`, token]) {
      const res = await app.request('/metrics', {
        headers: authorization ? { authorization } : {},
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.text()).not.toContain('agent_orchestrator_');
    }
    const res = await app.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('agent_orchestrator_database_up 1');
    // The token guards the metrics only: health checks stay open.
    expect((await app.request('/healthz')).status).toBe(200);
  });

  describe('a finished turn', () => {
    let h: Harness;
    let host: RunnerHost;
    let metrics: Metrics;
    beforeAll(async () => {
      h = await startHarness({ engine });
      // The harness's own runner knows nothing of metrics: this one, on the same state, does.
      await h.host.stop();
      metrics = createMetrics();
      const settings = loadSettings(
        { APP_ID: '1', PRIVATE_KEY: generatePrivateKey(), ...h.github.env },
        { receivesWebhooks: false },
      );
      host = await startRunnerHost({
        database: h.t.database,
        queue: h.queue,
        sessions: h.service,
        github: createInstallationClient(createGitHubApp(settings, log).probot!),
        githubHost: h.githubHost,
        operatorConfig: operatorConfigSchema.parse({ agents: { fake: fakeAgentConfig } }),
        dataDir: h.root,
        workspaceRoot: path.join(h.root, 'workspaces'),
        maxSessions: 2,
        log,
        env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
        pollMs: 500,
        metrics,
      });
    });
    afterAll(async () => {
      await host?.stop();
      await h?.cleanup();
      if (h) rmSync(h.root, { recursive: true, force: true });
    });

    it('observes its duration by agent and outcome, and adds up what it cost', async () => {
      const app = serverFor(h.t.database, metrics);
      const ok = await h.createSession();
      await h.waitFor(ok.id, ['waiting'], { until: () => h.turnsDone(ok.id, 1) });
      const failing = await h.createSession({ body: 'FAKE: fail' });
      await h.waitFor(failing.id, ['needs_human'], { until: () => h.turnsDone(failing.id, 1) });

      const { samples } = await scrape(app);
      const turn = (suffix: string, outcome: string) =>
        sampleValue(samples, `agent_orchestrator_turn_duration_seconds_${suffix}`, {
          agent: 'fake',
          outcome,
        });
      expect(turn('count', 'ok')).toBe(1);
      expect(turn('count', 'agent-failed')).toBe(1);
      // The duration is the turn's own, as recorded: from its start to its end.
      const [row] = await h.turnsOf(ok.id);
      const seconds = (row!.endedAt!.getTime() - row!.startedAt.getTime()) / 1000;
      expect(turn('sum', 'ok')).toBeCloseTo(seconds, 3);
      // The fake agent reports $0.0125 and 1200/340 tokens for a good turn, $0.001 and 10/2 failing.
      expect(
        sampleValue(samples, 'agent_orchestrator_agent_cost_usd_total', { agent: 'fake' }),
      ).toBeCloseTo(0.0135, 12);
      const tokens = (direction: string) =>
        sampleValue(samples, 'agent_orchestrator_agent_tokens_total', { agent: 'fake', direction });
      expect(tokens('input')).toBe(1210);
      expect(tokens('output')).toBe(342);
    });
  });
});

describe('GitHub API calls in /metrics', () => {
  let github: LocalGitHub;
  beforeAll(async () => {
    github = await startLocalGitHub();
  });
  afterAll(() => github?.close());

  it('counts every call by method, route template and status class, and keeps the rate limit', async () => {
    const metrics = createMetrics();
    const settings = loadSettings(
      { APP_ID: '1', PRIVATE_KEY: generatePrivateKey(), ...github.env },
      { receivesWebhooks: false },
    );
    const probot = createGitHubApp(settings, log, { throttle: false, metrics }).probot!;
    const installation = await probot.auth(7);
    // The runner asks for a token to push with, outside any API call: that call counts too.
    await installation.auth({ type: 'installation' });
    const repo = { owner: 'octo', repo: 'widgets' };
    await installation.rest.issues.createComment({ ...repo, issue_number: 5, body: 'Hello' });
    await expect(installation.rest.pulls.get({ ...repo, pull_number: 999 })).rejects.toMatchObject({
      status: 404,
    });
    const installationRemaining = github.rateLimitRemaining();
    const app = await probot.auth();
    await app.request('GET /app/hook/deliveries');

    const text = await metrics.registry.metrics();
    const samples = parsePrometheusText(text);
    const calls = (method: string, route: string, status: string) =>
      sampleValue(samples, 'agent_orchestrator_github_requests_total', { method, route, status });
    expect(calls('POST', '/app/installations/{installation_id}/access_tokens', '2xx')).toBe(1);
    expect(calls('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', '2xx')).toBe(1);
    expect(calls('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', '4xx')).toBe(1);
    expect(calls('GET', '/app/hook/deliveries', '2xx')).toBe(1);
    // Each call the local GitHub answered is counted once, whichever client made it.
    const counted = samples
      .filter((s) => s.name === 'agent_orchestrator_github_requests_total')
      .reduce((sum, s) => sum + s.value, 0);
    expect(counted).toBe(github.calls.length);

    const remaining = (installation: string) =>
      sampleValue(samples, 'agent_orchestrator_github_rate_limit_remaining', {
        installation,
        resource: 'core',
      });
    expect(remaining('7')).toBe(installationRemaining);
    expect(remaining('app')).toBe(github.rateLimitRemaining());
    expect(remaining('app')).toBeLessThan(5000);
    for (const secret of ['widgets', 'ghs_']) expect(text).not.toContain(secret);
  });
});

describe('GET /metrics while Postgres is unreachable', () => {
  it('answers with database_up 0 and everything else, then recovers', async () => {
    const t = await openTestDatabase('postgres');
    const target = new URL(t.url!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(t.url!);
    viaProxy.port = String(proxy.port);
    const database = await createDatabase({ url: viaProxy.href, maxConnections: 2 });
    try {
      const metrics = createMetrics();
      // No cache window: each scrape reads, to see the database go and come back.
      const app = serverFor(database, metrics, { metricsCache: { ms: 0 } });
      const body = JSON.stringify(examplePayload('issues', 'opened'));
      expect((await deliver(app, 'issues', body)).status).toBe(200);
      let { samples } = await scrape(app);
      expect(sampleValue(samples, 'agent_orchestrator_database_up')).toBe(1);
      expect(sampleValue(samples, 'agent_orchestrator_sessions', { status: 'queued' })).toBe(0);
      expect(sampleValue(samples, 'agent_orchestrator_guard_trips', { kind: 'no-change' })).toBe(0);

      await proxy.cut();
      expect((await deliver(app, 'issues', body)).status).toBe(503);
      ({ samples } = await scrape(app));
      expect(sampleValue(samples, 'agent_orchestrator_database_up')).toBe(0);
      // What the database would say is left out, not guessed; the rest is all there.
      expect(samples.some((s) => s.name === 'agent_orchestrator_sessions')).toBe(false);
      expect(samples.some((s) => s.name === 'agent_orchestrator_jobs')).toBe(false);
      expect(samples.some((s) => s.name === 'agent_orchestrator_guard_trips')).toBe(false);
      const deliveries = (outcome: string) =>
        sampleValue(samples, 'agent_orchestrator_webhook_deliveries_total', {
          event: 'issues',
          outcome,
        });
      expect(deliveries('accepted')).toBe(1);
      expect(deliveries('unavailable')).toBe(1);
      expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

      await proxy.restore();
      ({ samples } = await scrape(app));
      expect(sampleValue(samples, 'agent_orchestrator_database_up')).toBe(1);
      expect(sampleValue(samples, 'agent_orchestrator_sessions', { status: 'queued' })).toBe(0);
    } finally {
      await database.close();
      await proxy.close();
      await t.cleanup();
    }
  });

  it('does not wait on a database too busy to answer', async () => {
    const t = await openTestDatabase('postgres');
    // One connection, held by a query that outlasts any test: the scrape's queries queue behind it.
    const busy = await t.connect({ maxConnections: 1 });
    const sleeping = busy.db.execute(sql`select pg_sleep(600)`).catch(() => {});
    try {
      await until(async () => {
        const rows = await t.database.db.execute(
          sql`select 1 from pg_stat_activity where query like 'select pg_sleep%' and state = 'active'`,
        );
        return (rows as unknown as unknown[]).length > 0;
      });
      // Without its own time limit, the scrape would wait the whole pg_sleep: this stops the
      // test before the test runner does, so the finally below still cleans up.
      let guard: NodeJS.Timeout | undefined;
      const hung = new Promise<never>((_, reject) => {
        guard = setTimeout(() => reject(new Error('the scrape waited on the database')), 20_000);
      });
      const { samples } = await Promise.race([scrape(serverFor(busy, createMetrics())), hung]);
      clearTimeout(guard);
      expect(sampleValue(samples, 'agent_orchestrator_database_up')).toBe(0);
    } finally {
      await t.database.db.execute(
        sql`select pg_cancel_backend(pid) from pg_stat_activity where query like 'select pg_sleep%'`,
      );
      await sleeping;
      await t.cleanup();
    }
  });
});

describe('a running orchestrator', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess();
  });
  afterAll(() => h?.cleanup());

  it('serves /metrics over HTTP without the API token: its webhooks, GitHub calls and turns', async () => {
    await h.deliver(
      'issues',
      h.payload('issues', 'labeled', 'alice', (p) => {
        p.issue = h.issue(42, 'Crash when saving the launch plan', 'Saving crashes.');
        p.label = { ...p.label, name: 'agent' };
      }),
    );
    await h.waitForSession(42, ['waiting'], (s) => Boolean(s.prNumber));
    await h.settled();

    const { url, apiToken } = h.orchestrator;
    expect(apiToken).toBeTruthy();
    expect((await fetch(`${url}/api/sessions`)).status).toBe(401);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
    const text = await res.text();
    const samples = parsePrometheusText(text);

    expect(
      sampleValue(samples, 'agent_orchestrator_webhook_deliveries_total', {
        event: 'issues',
        outcome: 'accepted',
      }),
    ).toBe(1);
    const calls = (method: string, route: string) =>
      sampleValue(samples, 'agent_orchestrator_github_requests_total', {
        method,
        route,
        status: '2xx',
      });
    // The lifecycle's permission check and the runner's pull request, both counted.
    expect(calls('GET', '/repos/{owner}/{repo}/collaborators/{username}/permission')).toBe(1);
    expect(calls('POST', '/repos/{owner}/{repo}/pulls')).toBe(1);
    expect(
      sampleValue(samples, 'agent_orchestrator_github_rate_limit_remaining', {
        installation: '7',
        resource: 'core',
      }),
    ).toBeLessThan(5000);
    expect(
      sampleValue(samples, 'agent_orchestrator_turn_duration_seconds_count', {
        agent: 'fake',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'agent_orchestrator_agent_cost_usd_total', { agent: 'fake' }),
    ).toBeCloseTo(0.0125, 12);
    expect(sampleValue(samples, 'agent_orchestrator_sessions', { status: 'waiting' })).toBe(1);
    expect(sampleValue(samples, 'agent_orchestrator_database_up')).toBe(1);
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    for (const secret of ['widgets', 'launch plan', 'alice', 'ghs_', apiToken!]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('an orchestrator started with METRICS_TOKEN', () => {
  it('serves /metrics only to a scraper with the token', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ao-metrics-token-'));
    const token = 'scraper-token-0123456789abcdef';
    const settings = loadSettings({
      DATA_DIR: dir,
      PORT: '0',
      HOST: '127.0.0.1',
      METRICS_TOKEN: token,
    });
    const orchestrator = await startOrchestrator({
      settings,
      log,
      envFile: path.join(dir, '.env'),
    });
    try {
      expect((await fetch(`${orchestrator.url}/metrics`)).status).toBe(401);
      const res = await fetch(`${orchestrator.url}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
    } finally {
      await orchestrator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000); // a first start on an empty DATA_DIR creates the embedded database
});
