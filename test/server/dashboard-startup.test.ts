import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Orchestrator, startOrchestrator } from '../../src/composition/start-orchestrator.js';
import { loadSettings } from '../../src/settings.js';

describe('the dashboard of a started app', () => {
  let dir: string;
  let orchestrator: Orchestrator;
  const logged: { msg: string; loginUrl?: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ao-dashboard-start-'));
    const settings = loadSettings({
      DATA_DIR: path.join(dir, 'data'),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    const log = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    orchestrator = await startOrchestrator({ settings, log, envFile: path.join(dir, '.env') });
  });
  afterAll(async () => {
    await orchestrator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints a one-time login link, not the token, when it generates the token; the link logs in once', async () => {
    const line = logged.find((l) => l.loginUrl);
    expect(line?.loginUrl).toMatch(new RegExp(`^${orchestrator.url}/login\\?code=[\\w-]{32}$`));
    expect(line!.loginUrl).not.toContain(orchestrator.apiToken!);
    expect(line?.msg).toContain(line!.loginUrl!);
    const res = await fetch(line!.loginUrl!, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(`${orchestrator.url}/sessions`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('No sessions yet.');

    // Used once: the same link (from a history, a log) logs nobody in again.
    const again = await fetch(line!.loginUrl!, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    // Nor does the token in an address.
    for (const url of [
      `/login?token=${orchestrator.apiToken}`,
      `/sessions?token=${orchestrator.apiToken}`,
    ]) {
      const res = await fetch(`${orchestrator.url}${url}`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/login/);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('shuts down while a browser follows a live stream', async () => {
    const res = await fetch(orchestrator.loginLink()!, { redirect: 'manual' });
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const stream = await fetch(`${orchestrator.url}/sessions/stream`, {
      headers: { cookie, accept: 'text/event-stream' },
    });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    await reader.read(); // the stream is open
    // close() waits for every connection to end: the stream has to be ended by the app.
    await orchestrator.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
  });
});
