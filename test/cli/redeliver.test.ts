import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliHarness, startCliHarness } from './harness.js';

describe('agent-orchestrator redeliver, with the app’s credentials against the local GitHub', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(() => h?.cleanup());

  const redeliver = (args: string[] = [], env: Record<string, string> = {}) =>
    h.cli(['redeliver', ...args], { env: { ...h.appEnv, ...env } });

  it('asks GitHub again for the failed deliveries the app never recorded, and prints them', async () => {
    const lost = h.github.addHookDelivery(randomUUID(), 502);
    // GitHub marked this one failed, but the app has it (a later attempt got through).
    const recorded = h.github.addHookDelivery(randomUUID(), 500);
    await h.deliver('ping', { zen: 'Keep it logically awesome.', hook_id: 1 }, recorded.guid);
    h.github.addHookDelivery(randomUUID(), 200);

    const result = await redeliver();
    expect(result.code, result.stderr).toBe(0);
    expect(h.github.redeliveryRequests).toEqual([lost.id]);
    expect(result.stdout).toBe(
      `Asked GitHub to redeliver ${lost.guid} (issues, last attempt answered 502 at ${lost.delivered_at}).\n` +
        'Asked for 1 delivery; they arrive as new webhook attempts.\n',
    );
  });

  it('asks for one delivery by its GUID, whatever became of it', async () => {
    const delivered = h.github.addHookDelivery(randomUUID(), 200);
    const before = h.github.redeliveryRequests.length;
    const result = await redeliver([delivered.guid]);
    expect(result.code, result.stderr).toBe(0);
    expect(h.github.redeliveryRequests.slice(before)).toEqual([delivered.id]);
    expect(result.stdout).toContain(`Asked GitHub to redeliver ${delivered.guid} (issues,`);
  });

  it('fails with exit 1 for a GUID GitHub does not list, and asks for nothing', async () => {
    const before = h.github.redeliveryRequests.length;
    const guid = randomUUID();
    const result = await redeliver([guid]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`GitHub lists no delivery ${guid}`);
    expect(h.github.redeliveryRequests).toHaveLength(before);
  });

  it('needs the app’s credentials (78), and a well-formed GUID (2)', async () => {
    const noApp = await h.cli(['redeliver'], { env: { DATABASE_URL: h.appEnv.DATABASE_URL } });
    expect(noApp.code).toBe(78);
    expect(noApp.stderr).toContain("redeliver needs the app's credentials");
    const bad = await redeliver(['not a guid']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a delivery GUID');
    expect(bad.stderr).toContain('Usage: agent-orchestrator redeliver');
  });

  it('leaves the embedded database alone while a server runs on it', async () => {
    // A server answering as one on the embedded database does.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ready', database: 'pglite' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const lost = h.github.addHookDelivery(randomUUID(), 502);
      const result = await redeliver([], { DATABASE_URL: '', AGENT_ORCHESTRATOR_URL: url });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`The server at ${url} is running on the embedded database`);
      expect(h.github.redeliveryRequests).not.toContain(lost.id);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
