import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { turns } from '../../src/db/schema.js';
import { type InProcess, startInProcess } from '../e2e/in-process.js';

const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) against the
 * whole app in-process: webhooks from a local GitHub, the embedded runner, a fake agent.
 * UPDATE_SCREENSHOT=1 writes the screenshot to docs/dashboard.png; otherwise to a temp dir.
 */
/** The file the held agent waits for, in its HOME. */
const GATE = 'let-the-agent-finish';

describe('the dashboard in a browser', () => {
  let h: InProcess;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  // What the browser refused under the Content-Security-Policy: the dashboard must need nothing.
  const refused: string[] = [];

  beforeAll(async () => {
    // Daily limits of the repository's own, for the spend section to show against.
    h = await startInProcess({ repoConfig: { limits: { perDay: { costUsd: 2, turns: 40 } } } });
    dir = mkdtempSync(path.join(tmpdir(), 'ao-browser-'));
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking'],
      viewport: { width: 1440, height: 760 },
      deviceScaleFactor: 1,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });
  });
  afterAll(async () => {
    const held = await h?.sessionFor(105);
    if (held) {
      // The held agent is a process of its own: let it end before its folder goes. The gate is
      // in its HOME, which its sandbox shares.
      writeFileSync(path.join(h.workspaceRoot, 'homes', held.id, GATE), '');
      await h.waitForSession(105, ['waiting', 'needs_human']);
    }
    // The app first, while the page still follows its stream: open streams must not hold it up.
    await h?.cleanup();
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const label = (number: number, title: string, body = 'Please fix it.') =>
    h.deliver(
      'issues',
      h.payload('issues', 'labeled', 'alice', (p) => {
        p.issue = h.issue(number, title, body);
        p.label = { ...p.label, name: 'agent' };
      }),
    );
  const row = (text: string) => page.locator('#sessions-body tr', { hasText: text });

  it('logs in with a one-time link, shows a new session live, and delivers a message to the agent', async () => {
    // A login link like the one printed at startup; its code does not stay in the address bar.
    const link = h.orchestrator.loginLink()!;
    await page.goto(link);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(page.url()).not.toContain(new URL(link).searchParams.get('code')!);
    await page.locator('#no-sessions').waitFor();
    await page.locator('#live[data-state="on"]').waitFor();
    // A mark on this page's window: still there later means the page was never reloaded.
    await page.evaluate(() => {
      (globalThis as { notReloaded?: boolean }).notReloaded = true;
    });

    // A maintainer labels an issue: the row appears without a reload.
    await label(101, 'Crash when saving an empty widget');
    await row('Crash when saving an empty widget').waitFor();
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    // ...and follows the session to waiting, with its pull request, still without a reload.
    await row('Crash when saving an empty widget').locator('.s-waiting').waitFor();
    await row('Crash when saving an empty widget').locator('a[href*="/pull/"]').waitFor();
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );

    // Open it: the timeline and the agent's output are there.
    await row('Crash when saving an empty widget').locator('a[href^="/sessions/"]').click();
    await page.locator('#summary h1', { hasText: 'Crash when saving an empty widget' }).waitFor();
    await page.locator('#timeline li', { hasText: 'pr-opened' }).waitFor();
    await page.locator('#output', { hasText: 'Working (first) on:' }).waitFor();
    await page.locator('#live[data-state="on"]').waitFor();

    // Send a message: it is queued, then delivered as turn 2, and the agent works on it.
    await page.locator('textarea[name="body"]').fill('Please also cover empty files with a test.');
    await page.getByRole('button', { name: 'Send message' }).click();
    await page.locator('.flash.ok', { hasText: 'Message queued' }).waitFor();
    const message = page.locator('#messages li', {
      hasText: 'Please also cover empty files with a test.',
    });
    await message.locator('text=delivered in turn 2').waitFor();
    await page.locator('#timeline li', { hasText: 'messages-delivered' }).waitFor();
    await page
      .locator('#output', { hasText: 'Working (next) on: Please also cover empty files' })
      .waitFor();
    const session = await h.sessionFor(101);
    const next = await h.until('the second turn to finish', async () =>
      (await h.turnsDone(session!.id, 2)) ? h.turnsOf(session!.id) : undefined,
    );
    expect(next.map((t) => t.number)).toEqual([1, 2]);
    // Live updates, forms and styles all ran under the policy: nothing was refused.
    expect(refused).toEqual([]);
  }, 120_000);

  it('refuses to show the dashboard inside another site’s frame', async () => {
    const framer = await context.newPage();
    try {
      const blocked = framer.waitForEvent('console', (m) =>
        m.text().includes("frame-ancestors 'none'"),
      );
      await framer.setContent(`<iframe src="${h.orchestrator.url}/sessions"></iframe>`);
      await blocked;
      const frame = framer.frames().find((f) => f !== framer.mainFrame());
      expect(await frame?.locator('#sessions-body').count()).toBe(0);
    } finally {
      await framer.close();
    }
  }, 30_000);

  it('shows sessions in every state; the screenshot of the table', async () => {
    // Merged: label, pull request, merge.
    await label(102, 'Add a CHANGELOG for the 2.0 release');
    const merged = await h.waitForSession(102, ['waiting'], (s) => Boolean(s.prNumber));
    await h.deliver(
      'pull_request',
      h.payload('pull_request', 'closed', 'alice', (p) => {
        p.pull_request = {
          ...p.pull_request,
          number: merged.prNumber,
          merged: true,
          head: { ...p.pull_request.head, ref: merged.branch, sha: merged.headSha },
        };
      }),
    );
    // Stopped by a maintainer's command.
    await label(103, 'Typo in the install section of the README');
    await h.waitForSession(103, ['waiting']);
    await h.deliver(
      'issue_comment',
      h.payload('issue_comment', 'created', 'wes', (p) => {
        p.issue = h.issue(103, 'Typo in the install section of the README');
        p.comment = { ...p.comment, id: 9103, body: '/agent stop', user: { login: 'wes' } };
      }),
    );
    // Needs a human: the agent's turn fails.
    await label(104, 'Export widgets as CSV', 'FAKE: fail');
    // Working: the agent is held until the test ends.
    await label(105, 'Dark mode for the settings page', `FAKE: until-file ~/${GATE}`);
    await h.waitForSession(102, ['merged']);
    await h.waitForSession(103, ['stopped']);
    await h.waitForSession(104, ['needs_human']);
    await h.waitForSession(105, ['working']);

    // Two weeks of earlier spend (this run's turns are all today's), so the chart has a history.
    const history = [0.42, 0.9, 0, 1.35, 0.6, 0, 0, 1.8, 0.75, 1.1, 0.3, 2.05, 0.95];
    await h.db.insert(turns).values(
      history.map((costUsd, i) => {
        const startedAt = new Date();
        startedAt.setUTCHours(12, 0, 0, 0);
        startedAt.setUTCDate(startedAt.getUTCDate() - (history.length - i));
        const number = 1000 + i;
        const logPath = `/nowhere/turn-${number}.log`;
        const status = 'finished' as const;
        return {
          sessionId: merged.id,
          number,
          runnerId: 'r-history',
          logPath,
          status,
          costUsd,
          startedAt,
        };
      }),
    );

    await page.goto(`${h.orchestrator.url}/`);
    for (const status of ['working', 'needs_human', 'stopped', 'merged', 'waiting']) {
      await page.locator(`#sessions-body .s-${status}`).first().waitFor();
    }
    expect(await page.locator('#sessions-body tr').count()).toBe(5);
    // The held agent has said what it works on: its row shows that as the last event.
    await row('Dark mode').locator('td.last', { hasText: 'agent.text' }).waitFor();
    await page.locator('#live[data-state="on"]').waitFor();
    // Spend today against the repository's limits, and its chart, named for assistive technology.
    expect(await page.locator('#spend .spend-cost').textContent()).toMatch(
      /^\$\d+\.\d\d of \$2\.00$/,
    );
    expect(await page.locator('#spend .spend-turns').textContent()).toMatch(/^\d+ of 40 turns$/);
    const chart = page.getByRole('img', { name: /^Spend per day of .+, last 14 days/ });
    await chart.waitFor();
    expect(await chart.locator('g.day').count()).toBe(14);
    expect(await chart.locator('rect.bar.over').count()).toBe(1);
    const file =
      process.env.UPDATE_SCREENSHOT === '1' ? DOCS_SCREENSHOT : path.join(dir, 'dashboard.png');
    // Just the content: the window shrunk to the table's height.
    const main = await page.locator('main').boundingBox();
    const height = Math.ceil(main!.y + main!.height - 16);
    await page.setViewportSize({ width: 1440, height });
    await page.screenshot({ path: file });
    expect(refused).toEqual([]);
  }, 120_000);
});
