import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { githubApiUrl, githubGitHost, loadSettings, SettingsError } from '../src/settings.js';

const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n';

function errorOf(env: Record<string, string | undefined>): SettingsError {
  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error('expected loadSettings to throw');
}

describe('loadSettings', () => {
  it('runs on embedded defaults with nothing set: setup mode, PGlite under .data, port 3000', () => {
    const settings = loadSettings({});
    expect(settings.app).toBeNull();
    expect(settings.databaseUrl).toBeUndefined();
    expect(settings.dataDir).toBe(path.resolve('.data'));
    expect(settings.workspaceRoot).toBe(path.resolve('.data', 'workspaces'));
    expect(settings.port).toBe(3000);
    expect(settings.host).toBe('127.0.0.1'); // setup mode: only this machine reaches it
    expect(settings.metricsToken).toBeUndefined();
    expect(settings.runner).toBe('embedded');
    expect(settings.maxSessions).toBe(4);
    expect(settings.webhookSecret).toBe('development');
    expect(githubApiUrl(settings)).toBe('https://api.github.com');
    expect(githubGitHost(settings)).toEqual({ protocol: 'https', host: 'github.com' });
  });

  it('reads every contract variable', () => {
    const settings = loadSettings({
      APP_ID: '123',
      PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
      WEBHOOK_SECRET: 's3cret',
      GHE_HOST: 'github.example.com',
      GHE_PROTOCOL: 'http',
      PORT: '8080',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: 'postgres://u@db:5432/ao',
      DATA_DIR: '/var/lib/ao',
      WORKSPACE_ROOT: '/srv/work',
      API_TOKEN: 'a'.repeat(32),
      METRICS_TOKEN: 'm'.repeat(32),
      RUNNER: 'off',
      MAX_SESSIONS: '8',
      WORKSPACE_CHECKOUT: 'overlay',
      ORCHESTRATOR_CONFIG: '/etc/ao.yml',
    });
    expect(settings.app).toEqual({ id: 123, privateKey: pem });
    expect(githubApiUrl(settings)).toBe('http://github.example.com/api/v3');
    expect(githubGitHost(settings)).toEqual({ protocol: 'http', host: 'github.example.com' });
    expect(settings).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      logLevel: 'warn',
      databaseUrl: 'postgres://u@db:5432/ao',
      dataDir: '/var/lib/ao',
      workspaceRoot: '/srv/work',
      metricsToken: 'm'.repeat(32),
      runner: 'off',
      maxSessions: 8,
      workspaceCheckout: 'overlay',
      orchestratorConfig: '/etc/ao.yml',
    });
  });

  it('reads the private key from PRIVATE_KEY_PATH, and names the variable when the file is missing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ao-settings-'));
    const file = path.join(dir, 'app.pem');
    writeFileSync(file, pem);
    const withKey = { APP_ID: '1', PRIVATE_KEY_PATH: file, WEBHOOK_SECRET: 's3cret' };
    expect(loadSettings(withKey).app?.privateKey).toBe(pem);
    const error = errorOf({ APP_ID: '1', PRIVATE_KEY_PATH: path.join(dir, 'nope.pem') });
    expect(error.variable).toBe('PRIVATE_KEY_PATH');
    expect(error.message).toContain('nope.pem');
  });

  it('accepts a base64-encoded private key', () => {
    const settings = loadSettings({
      APP_ID: '1',
      PRIVATE_KEY: Buffer.from(pem).toString('base64'),
      WEBHOOK_SECRET: 's3cret',
    });
    expect(settings.app?.privateKey).toContain('-----BEGIN RSA PRIVATE KEY-----');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'port number'],
    [{ MAX_SESSIONS: '0' }, 'MAX_SESSIONS', 'at least 1'],
    [{ RUNNER: 'remote' }, 'RUNNER', 'embedded'],
    [{ WORKSPACE_CHECKOUT: 'copy' }, 'WORKSPACE_CHECKOUT', 'CAP_SYS_ADMIN'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', 'postgres://'],
    [{ API_TOKEN: 'short' }, 'API_TOKEN', 'openssl rand'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN', 'openssl rand'],
    [{ APP_ID: '1', PRIVATE_KEY: pem }, 'WEBHOOK_SECRET', 'missing while APP_ID is set'],
    [{ APP_ID: 'abc' }, 'APP_ID', 'number'],
    [{ APP_ID: '12' }, 'PRIVATE_KEY', 'missing while APP_ID is set'],
    [{ PRIVATE_KEY: pem }, 'APP_ID', 'missing while a private key is set'],
    [{ PRIVATE_KEY: 'not a key', APP_ID: '1' }, 'PRIVATE_KEY', 'not a PEM'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'trace'],
  ])('rejects %o naming %s and the fix', (env, variable, fix) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable}: `));
    expect(error.message).toContain(fix);
  });

  it('refuses to start in production without a webhook secret, or with the development one', () => {
    const base = { NODE_ENV: 'production', APP_ID: '1', PRIVATE_KEY: pem };
    expect(errorOf(base).variable).toBe('WEBHOOK_SECRET');
    expect(errorOf({ ...base, WEBHOOK_SECRET: 'development' }).message).toContain(
      'development default',
    );
    expect(loadSettings({ ...base, WEBHOOK_SECRET: 'real-secret' }).production).toBe(true);
  });

  it('takes no fallback webhook secret once the app is registered, except where no webhook arrives', () => {
    const registered = { APP_ID: '1', PRIVATE_KEY: pem };
    const error = errorOf(registered);
    expect(error.message).toBe(
      'WEBHOOK_SECRET: missing while APP_ID is set; set it to the webhook secret configured on the GitHub App (setup mode writes it to .env with APP_ID)',
    );
    expect(errorOf({ ...registered, WEBHOOK_SECRET: '  ' }).variable).toBe('WEBHOOK_SECRET');
    expect(loadSettings({ ...registered, WEBHOOK_SECRET: 's3cret' }).webhookSecret).toBe('s3cret');
    // A runner host or a CLI command verifies no signature.
    expect(loadSettings(registered, { receivesWebhooks: false }).app?.id).toBe(1);
    // Setup mode (no app yet) still starts without one.
    expect(loadSettings({}).app).toBeNull();
  });

  it('listens on 127.0.0.1 in setup mode and on every interface once registered, unless HOST says', () => {
    const registered = { APP_ID: '1', PRIVATE_KEY: pem, WEBHOOK_SECRET: 's3cret' };
    expect(loadSettings({}).host).toBe('127.0.0.1');
    expect(loadSettings({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadSettings({ HOST: '' }).host).toBe('127.0.0.1');
    expect(loadSettings(registered).host).toBe('0.0.0.0');
    expect(loadSettings({ ...registered, HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
  });

  it('has no setup mode in production: a missing APP_ID is an error', () => {
    const error = errorOf({ NODE_ENV: 'production', WEBHOOK_SECRET: 'real-secret' });
    expect(error.variable).toBe('APP_ID');
  });

  it('treats empty variables as unset', () => {
    expect(loadSettings({ PORT: '', DATABASE_URL: '', APP_ID: '' }).port).toBe(3000);
  });
});
