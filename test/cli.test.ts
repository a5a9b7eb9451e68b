import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../src/db/client.js';
import { deliveries } from '../src/db/schema.js';
import { openTestDatabase } from './helpers/databases.js';
import { generatePrivateKey, runCli } from './helpers/processes.js';
import { deliveryHeaders, examplePayload } from './helpers/webhooks.js';

const made: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ao-cli-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('agent-orchestrator CLI', () => {
  it('refuses to start in production without a webhook secret, naming the variable', async () => {
    const cli = runCli(
      ['start'],
      { NODE_ENV: 'production', APP_ID: '1', PRIVATE_KEY: generatePrivateKey() },
      tempDir(),
    );
    const { code } = await cli.exited;
    expect(code).toBe(78);
    expect(cli.output()).toContain('Configuration error: WEBHOOK_SECRET: missing in production');
  });

  it('refuses to start a registered app without a webhook secret, saying what to set', async () => {
    const cli = runCli(['start'], { APP_ID: '1', PRIVATE_KEY: generatePrivateKey() }, tempDir());
    const { code } = await cli.exited;
    expect(code).toBe(78);
    expect(cli.output()).toContain(
      'Configuration error: WEBHOOK_SECRET: missing while APP_ID is set; set it to the webhook secret configured on the GitHub App',
    );
  });

  it('refuses to start with WORKSPACE_CHECKOUT=overlay where it cannot mount, saying why', async () => {
    const dir = tempDir();
    const cli = runCli(
      ['start'],
      {
        APP_ID: '1',
        PRIVATE_KEY: generatePrivateKey(),
        WEBHOOK_SECRET: 'overlay-test-secret',
        PORT: '0',
        WORKSPACE_CHECKOUT: 'overlay',
        SANDBOX: 'off',
        WORKSPACE_ROOT: path.join(dir, 'odd:root'),
      },
      dir,
    );
    const { code } = await cli.exited;
    expect(code).toBe(78);
    expect(cli.output()).toContain(
      "Configuration error: WORKSPACE_CHECKOUT: overlay cannot use a WORKSPACE_ROOT with ',' or ':'",
    );
  });

  it("refuses to start where the agents' sandbox cannot be built, saying what to do", async () => {
    const dir = tempDir();
    const env = {
      APP_ID: '1',
      PRIVATE_KEY: generatePrivateKey(),
      WEBHOOK_SECRET: 'sandbox-test-secret',
      PORT: '0',
      DATA_DIR: path.join(dir, 'data'),
    };
    // A host where no process may create a user namespace (a container's default profile).
    const noUserNamespaces = [
      'unshare',
      '--user',
      '--map-root-user',
      'sh',
      '-c',
      'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"',
      'sh',
    ];
    const cli = runCli(['start'], env, dir, noUserNamespaces);
    expect((await cli.exited).code).toBe(78);
    expect(cli.output()).toContain(
      "Configuration error: SANDBOX: the agents' sandbox (bubblewrap) cannot be built on this host",
    );
    expect(cli.output()).toContain('user namespaces');
    expect(cli.output()).toContain('SANDBOX=off');

    // Overlays asked for where they cannot be mounted (overlayfs options cannot carry a ':').
    const overlay = runCli(
      ['start'],
      { ...env, WORKSPACE_CHECKOUT: 'overlay', WORKSPACE_ROOT: path.join(dir, 'odd:root') },
      dir,
    );
    expect((await overlay.exited).code).toBe(78);
    expect(overlay.output()).toContain(
      'Configuration error: WORKSPACE_CHECKOUT: WORKSPACE_CHECKOUT=overlay needs Linux 5.11 or later',
    );
    expect(overlay.output()).toContain('Set WORKSPACE_CHECKOUT=worktree');
  });

  it('answers an unknown command with usage and exit code 2', async () => {
    const cli = runCli(['launch'], {}, tempDir());
    expect((await cli.exited).code).toBe(2);
    expect(cli.output()).toContain('Unknown command "launch"');
    expect(cli.output()).toContain('Usage: agent-orchestrator <command>');
  });

  it('applies migrations with `migrate` against Postgres, and again without change', async () => {
    const t = await openTestDatabase('postgres');
    try {
      await t.database.db.execute('drop schema drizzle cascade');
      await t.database.db.execute('drop schema public cascade');
      await t.database.db.execute('create schema public');
      for (let i = 0; i < 2; i++) {
        const cli = runCli(['migrate'], { DATABASE_URL: t.url! }, tempDir());
        expect((await cli.exited).code, cli.output()).toBe(0);
        expect(cli.output()).toContain('migrations applied');
      }
      expect(await t.database.db.select().from(deliveries)).toEqual([]);
    } finally {
      await t.cleanup();
    }
  });

  it('on SIGTERM stops accepting, finishes the request in flight, and exits 0', async () => {
    const dataDir = tempDir();
    const secret = 'shutdown-secret';
    const cli = runCli(
      ['start'],
      {
        APP_ID: '1',
        PRIVATE_KEY: generatePrivateKey(),
        WEBHOOK_SECRET: secret,
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        // Nothing listens here: the app's GitHub calls (failed-delivery recovery) stay on this machine.
        GHE_HOST: '127.0.0.1:9',
        GHE_PROTOCOL: 'http',
      },
      dataDir,
    );
    const line = await cli.waitFor(/agent orchestrator listening/);
    const url = new URL(JSON.parse(line).url as string);

    // Half a delivery is on the wire when the signal arrives.
    const body = JSON.stringify(examplePayload('issues', 'labeled'));
    const headers = deliveryHeaders(secret, 'issues', body);
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: '/api/github/webhooks',
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 100));
      setTimeout(() => {
        cli.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(100)), 500);
      }, 300);
    });

    const answered = await response;
    expect(answered.status).toBe(200);
    const exit = await cli.exited;
    expect(exit, cli.output()).toEqual({ code: 0, signal: null });
    expect(cli.output()).toContain('agent orchestrator stopped');
    await expect(fetch(`${url.origin}/healthz`)).rejects.toThrow();

    // The delivery it finished is stored in the embedded database it closed cleanly.
    const database = await createDatabase({ dataDir });
    const rows = await database.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.id, headers['x-github-delivery']!));
    await database.close();
    expect(rows).toHaveLength(1);
  });
});
