import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Orchestrator, startOrchestrator } from '../../src/composition/start-orchestrator.js';
import { loadSettings } from '../../src/settings.js';

describe('setup mode (no APP_ID or private key yet)', () => {
  let orchestrator: Orchestrator;
  let envFile: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ao-setup-'));
    envFile = path.join(dataDir, '.env');
    const settings = loadSettings({
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    orchestrator = await startOrchestrator({ settings, log: pino({ level: 'silent' }), envFile });
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => {
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    process.env = savedEnv;
    await orchestrator?.close();
  });

  it('still serves health checks on embedded PGlite', async () => {
    expect((await fetch(`${orchestrator.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${orchestrator.url}/readyz`)).json()).toEqual({
      status: 'ready',
      database: 'pglite',
    });
  });

  it('sends people from / to the registration page', async () => {
    const res = await fetch(`${orchestrator.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/probot');
  });

  it("offers a manifest built from app.yml that points GitHub at this server's webhook path", async () => {
    // Behind a TLS-terminating proxy, as in production.
    const res = await fetch(`${orchestrator.url}/probot`, {
      headers: { 'x-forwarded-host': 'agents.example.com', 'x-forwarded-proto': 'https' },
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('https://github.com/settings/apps/new');
    const manifestJson = /name="manifest" id="manifest" value='([^']+)'/.exec(html)?.[1];
    expect(manifestJson, 'the page carries the manifest').toBeDefined();
    const manifest = JSON.parse(manifestJson!);
    expect(manifest.hook_attributes.url).toBe('https://agents.example.com/api/github/webhooks');
    expect(manifest.redirect_url).toBe('https://agents.example.com/probot/setup');
    expect(manifest.default_permissions).toEqual({
      issues: 'write',
      pull_requests: 'write',
      contents: 'write',
      checks: 'read',
      actions: 'read',
      statuses: 'read',
      metadata: 'read',
    });
    expect([...manifest.default_events].sort()).toEqual(
      [
        'issues',
        'issue_comment',
        'pull_request',
        'pull_request_review',
        'pull_request_review_comment',
        'check_suite',
        'check_run',
        'workflow_run',
        'status',
        'push',
      ].sort(),
    );
    expect((await fetch(`${orchestrator.url}/probot/static/robot.svg`)).status).toBe(200);
  });

  it('exchanges the code GitHub returns for credentials and writes them to .env', async () => {
    nock('https://api.github.com').post('/app-manifests/abc123/conversions').reply(201, {
      id: 4242,
      html_url: 'https://github.com/apps/agent-orchestrator-test',
      client_id: 'Iv1.client',
      client_secret: 'client-secret',
      webhook_secret: 'generated-secret',
      pem: '-----BEGIN RSA PRIVATE KEY-----\nAAA\n-----END RSA PRIVATE KEY-----\n',
    });
    const res = await fetch(`${orchestrator.url}/probot/setup?code=abc123`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(
      'https://github.com/apps/agent-orchestrator-test/installations/new',
    );
    const written = readFileSync(envFile, 'utf8');
    expect(written).toContain('APP_ID=4242\n');
    expect(written).toContain('WEBHOOK_SECRET=generated-secret\n');
    expect(written).toContain('PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\nAAA\\n');
  });

  it('says plainly when GitHub refuses the code, and keeps serving', async () => {
    nock('https://api.github.com')
      .post('/app-manifests/expired/conversions')
      .reply(404, { message: 'Not Found' });
    const res = await fetch(`${orchestrator.url}/probot/setup?code=expired`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('Registering the app with GitHub failed');
    expect((await fetch(`${orchestrator.url}/healthz`)).status).toBe(200);
  });
});

describe('setup mode with PUBLIC_URL', () => {
  it('registers the webhook at PUBLIC_URL whatever address the page was opened at', async () => {
    const savedEnv = { ...process.env };
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ao-setup-'));
    const settings = loadSettings({
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PUBLIC_URL: 'https://agents.example.org/',
    });
    const orchestrator = await startOrchestrator({
      settings,
      log: pino({ level: 'silent' }),
      envFile: path.join(dataDir, '.env'),
    });
    try {
      const html = await (await fetch(`${orchestrator.url}/probot`)).text();
      const manifest = JSON.parse(/name="manifest" id="manifest" value='([^']+)'/.exec(html)![1]!);
      expect(manifest.hook_attributes.url).toBe('https://agents.example.org/api/github/webhooks');
    } finally {
      process.env = savedEnv;
      await orchestrator.close();
    }
  });
});
