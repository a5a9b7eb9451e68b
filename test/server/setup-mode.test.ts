import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Orchestrator, startOrchestrator } from '../../src/composition/start-orchestrator.js';
import { loadSettings } from '../../src/settings.js';

/** Setup mode on a fresh data folder, HOST left to its default unless given. */
async function startSetupMode(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ao-setup-'));
  const envFile = path.join(dataDir, '.env');
  const settings = loadSettings({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', ...env });
  const orchestrator = await startOrchestrator({
    settings,
    log: pino({ level: 'silent' }),
    envFile,
  });
  return { orchestrator, envFile };
}

/** Opens the link printed at startup: the code goes into a cookie and out of the address. */
async function openSetupLink(orchestrator: Orchestrator, pathname = '/probot') {
  const link = new URL(orchestrator.setupUrl!);
  link.pathname = pathname;
  const res = await fetch(link, { redirect: 'manual' });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe(pathname);
  const setCookie = res.headers.get('set-cookie')!;
  expect(setCookie).toContain('HttpOnly');
  expect(setCookie).toContain('SameSite=Strict');
  expect(setCookie).toContain('Path=/probot');
  return setCookie.split(';')[0]!;
}

const manifestOf = (html: string) =>
  JSON.parse(/name="manifest" id="manifest" value='([^']+)'/.exec(html)![1]!);
const stateOf = (html: string) =>
  /action="https:\/\/github\.com\/settings\/apps\/new\?state=([0-9a-f]+)"/.exec(html)![1]!;

describe('setup mode (no APP_ID or private key yet)', () => {
  let orchestrator: Orchestrator;
  let envFile: string;
  let cookie: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    ({ orchestrator, envFile } = await startSetupMode());
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

  it('listens on 127.0.0.1 only, and still serves health checks on embedded PGlite', async () => {
    expect((orchestrator.server.address() as AddressInfo).address).toBe('127.0.0.1');
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

  it('refuses the registration page without the one-time code, or with a wrong one', async () => {
    for (const url of ['/probot', '/probot?setup_code=0123456789abcdef01234567']) {
      const res = await fetch(`${orchestrator.url}${url}`, {
        headers: { cookie: 'ao_setup=guessed' },
        redirect: 'manual',
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
      const html = await res.text();
      expect(html).toMatch(/needs the one-time setup code|not the setup code/);
      expect(html).toContain('name="setup_code"'); // a form to paste the code into
      expect(html).not.toContain('name="manifest"');
    }
  });

  it("offers, with the code, a manifest from app.yml pointing GitHub at this server's webhook path", async () => {
    expect(orchestrator.setupUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/probot\?setup_code=\w{24}$/);
    cookie = await openSetupLink(orchestrator);
    // Behind a TLS-terminating proxy, as in production.
    const res = await fetch(`${orchestrator.url}/probot`, {
      headers: { cookie, 'x-forwarded-host': 'agents.example.com', 'x-forwarded-proto': 'https' },
    });
    expect(res.status).toBe(200);
    // Not to be framed, and no referrer (with the code in it) sent on to GitHub.
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(stateOf(html)).toMatch(/^[0-9a-f]{48}$/);
    const manifest = manifestOf(html);
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

  it('writes nothing for a GitHub code from a registration that did not start on its page', async () => {
    // No mock: a call to GitHub would fail the request with a 502, not refuse it.
    for (const query of ['code=abc123', 'code=abc123&state=0123456789abcdef']) {
      const res = await fetch(`${orchestrator.url}/probot/setup?${query}`, { redirect: 'manual' });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('This registration did not start here');
    }
    expect(existsSync(envFile)).toBe(false);
  });

  it('says plainly when GitHub refuses the code, and keeps serving (and the code)', async () => {
    const state = stateOf(
      await (await fetch(`${orchestrator.url}/probot`, { headers: { cookie } })).text(),
    );
    nock('https://api.github.com')
      .post('/app-manifests/expired/conversions')
      .reply(404, { message: 'Not Found' });
    const res = await fetch(`${orchestrator.url}/probot/setup?code=expired&state=${state}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('Registering the app with GitHub failed');
    expect((await fetch(`${orchestrator.url}/healthz`)).status).toBe(200);
    expect(existsSync(envFile)).toBe(false);
  });

  it('exchanges the code GitHub returns for credentials and writes them to .env, once', async () => {
    const state = stateOf(
      await (await fetch(`${orchestrator.url}/probot`, { headers: { cookie } })).text(),
    );
    nock('https://api.github.com').post('/app-manifests/abc123/conversions').reply(201, {
      id: 4242,
      html_url: 'https://github.com/apps/agent-orchestrator-test',
      client_id: 'Iv1.client',
      client_secret: 'client-secret',
      webhook_secret: 'generated-secret',
      pem: '-----BEGIN RSA PRIVATE KEY-----\nAAA\n-----END RSA PRIVATE KEY-----\n',
    });
    const res = await fetch(`${orchestrator.url}/probot/setup?code=abc123&state=${state}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(
      'https://github.com/apps/agent-orchestrator-test/installations/new',
    );
    const written = readFileSync(envFile, 'utf8');
    expect(written).toContain('APP_ID=4242\n');
    expect(written).toContain('WEBHOOK_SECRET=generated-secret\n');
    expect(written).toContain('PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\nAAA\\n');

    // The code is used up: no second registration, no import over it.
    const again = await fetch(`${orchestrator.url}/probot/setup?code=def456&state=${state}`, {
      redirect: 'manual',
    });
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('The setup code has been used');
    const imported = await fetch(`${orchestrator.url}/probot/import`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ appId: '666', pem: 'x', webhook_secret: 'attacker' }),
    });
    expect(imported.status).toBe(403);
    expect(readFileSync(envFile, 'utf8')).toBe(written);
  });
});

describe('setup mode importing an existing app', () => {
  let orchestrator: Orchestrator;
  let envFile: string;
  const savedEnv = { ...process.env };
  const app = {
    appId: '777',
    pem: '-----BEGIN RSA PRIVATE KEY-----\nBBB\n-----END RSA PRIVATE KEY-----\n',
    webhook_secret: 'imported-secret',
  };
  const post = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${orchestrator.url}/probot/import${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(app),
    });

  beforeAll(async () => {
    ({ orchestrator, envFile } = await startSetupMode());
  });
  afterAll(async () => {
    process.env = savedEnv;
    await orchestrator?.close();
  });

  it('writes no .env for an import without the code, or with a wrong one', async () => {
    expect((await fetch(`${orchestrator.url}/probot/import`)).status).toBe(403);
    for (const [query, headers] of [
      ['', {}],
      ['?setup_code=0123456789abcdef01234567', {}],
      ['', { cookie: 'ao_setup=0123456789abcdef01234567' }],
    ] as const) {
      const res = await post(query, headers);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('Nothing was written.');
    }
    expect(existsSync(envFile)).toBe(false);
  });

  it('imports with the code, and only once', async () => {
    const cookie = await openSetupLink(orchestrator, '/probot/import');
    const page = await fetch(`${orchestrator.url}/probot/import`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Use existing Github App');
    // The page posts to its own address, with the cookie.
    expect((await post('', { cookie })).status).toBe(200);
    const written = readFileSync(envFile, 'utf8');
    expect(written).toContain('APP_ID=777\n');
    expect(written).toContain('WEBHOOK_SECRET=imported-secret\n');

    const code = new URL(orchestrator.setupUrl!).searchParams.get('setup_code')!;
    const again = await post(`?setup_code=${code}`);
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('The setup code has been used');
    expect(readFileSync(envFile, 'utf8')).toBe(written);
  });
});

describe('setup mode with PUBLIC_URL and HOST', () => {
  it('listens where HOST says and registers the webhook at PUBLIC_URL, whatever the page address', async () => {
    const savedEnv = { ...process.env };
    const { orchestrator } = await startSetupMode({
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://agents.example.org/',
    });
    try {
      expect((orchestrator.server.address() as AddressInfo).address).toBe('0.0.0.0');
      const cookie = await openSetupLink(orchestrator);
      const html = await (
        await fetch(`${orchestrator.url}/probot`, { headers: { cookie } })
      ).text();
      expect(manifestOf(html).hook_attributes.url).toBe(
        'https://agents.example.org/api/github/webhooks',
      );
    } finally {
      process.env = savedEnv;
      await orchestrator.close();
    }
  });
});
