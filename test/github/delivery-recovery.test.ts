import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries } from '../../src/db/schema.js';
import { createGitHubApp } from '../../src/github/app.js';
import { createDeliveryRecovery } from '../../src/github/delivery-recovery.js';
import type { Octokit } from '../../src/github/octokit.js';
import { loadSettings } from '../../src/settings.js';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';
import { generatePrivateKey } from '../helpers/processes.js';

describe('failed-delivery recovery', () => {
  let t: TestDatabase;
  let github: LocalGitHub;
  let recovery: ReturnType<typeof createDeliveryRecovery>;

  beforeAll(async () => {
    t = await openTestDatabase('pglite');
    github = await startLocalGitHub();
    const log = pino({ level: 'silent' });
    const probot = createGitHubApp(
      loadSettings(
        { APP_ID: '1', PRIVATE_KEY: generatePrivateKey(), ...github.env },
        { receivesWebhooks: false },
      ),
      log,
      { throttle: false },
    ).probot!;
    recovery = createDeliveryRecovery({
      database: t.database,
      appOctokit: () => probot.auth() as Promise<Octokit>,
      log,
    });
  });
  afterAll(async () => {
    await github?.close();
    await t?.cleanup();
  });

  it('redelivers failed deliveries the app never recorded, once, and leaves the rest alone', async () => {
    await t.database.db.insert(deliveries).values([
      { id: 'recorded-guid', event: 'issues' },
      { id: 'retried-ok-guid', event: 'issues' },
    ]);
    const lost = github.addHookDelivery('lost-guid', 503);
    github.addHookDelivery('lost-guid', 503); // GitHub lists each attempt
    github.addHookDelivery('recorded-guid', 502); // failed at GitHub's end, but the app has it
    github.addHookDelivery('retried-ok-guid', 500);
    github.addHookDelivery('retried-ok-guid', 200); // a later attempt got through and was recorded
    github.addHookDelivery('ancient-guid', 500, new Date(Date.now() - 3 * 86_400_000));

    expect(await recovery.runOnce()).toBe(1);
    expect(github.redeliveryRequests).toHaveLength(1);
    expect([lost.id, lost.id + 1]).toContain(github.redeliveryRequests[0]);
    // The app authenticated as itself (a JWT), not as an installation.
    const list = github.calls.find((c) => c.path.startsWith('/api/v3/app/hook/deliveries?'));
    expect(list?.path).toContain('status=failure');

    // Looking again does not ask twice for the same delivery.
    expect(await recovery.runOnce()).toBe(0);
    expect(github.redeliveryRequests).toHaveLength(1);
  });
});
