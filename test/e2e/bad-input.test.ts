import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_MARKER } from '../../src/github/status-comment.js';
import { exampleGroups, sign } from '../helpers/webhooks.js';
import {
  type ApiSession,
  type EditablePayload,
  REPOSITORY,
  startWorld,
  type World,
} from './harness.js';

/**
 * Whether a delivery really asks for an agent, decided from the payload alone (the rules users
 * read in the README): the trigger label `agent` (or `agent:<profile>`) added to an issue or pull
 * request, or a new comment with a line starting with the command `/agent`.
 */
function isTrigger(event: string, payload: EditablePayload): boolean {
  if (!payload.installation || !payload.repository) return false;
  const label = String(payload.label?.name ?? '');
  if ((event === 'issues' || event === 'pull_request') && payload.action === 'labeled')
    return label === 'agent' || label.startsWith('agent:');
  if (event === 'issue_comment' && payload.action === 'created')
    return /^ {0,3}\/agent(\s|$)/m.test(String(payload.comment?.body ?? ''));
  return false;
}

/** Files and folders under dir, relative to it, leaving out the given subtrees. */
function listFiles(dir: string, skip: string[]): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (skip.includes(full)) continue;
      out.push(path.relative(dir, full));
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

// One server on embedded PGlite, as `npm start` runs by default. Turns here are limited to 12 s,
// so the hanging agent is stopped quickly; every other agent here finishes at once.
describe('bad input and a hanging agent: the real server on PGlite', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ engine: 'pglite', operator: { limits: { turnMinutes: 0.2 } } });
  }, 180_000);
  afterAll(() => w?.cleanup(), 60_000);

  const allSessions = async () =>
    (await w.api<{ sessions: ApiSession[] }>('/api/sessions?limit=200')).sessions;

  it('talks to a local GitHub that answers 404 to what it does not know and records every call', async () => {
    const route = `/api/v3/repos/${REPOSITORY}/made-up-route`;
    const res = await fetch(`http://${w.github.host}${route}`, { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(404);
    expect(w.github.calls.filter((c) => c.path === route)).toEqual([
      { method: 'POST', path: route, body: { a: 1 }, status: 404, authorization: '' },
    ]);
  });

  it('takes every example payload of every event type: no 5xx, nothing starts unless it is a trigger', async () => {
    const callsBefore = w.github.calls.length;
    // Every sender may write, so only the payload decides whether anything starts.
    for (const group of exampleGroups)
      for (const example of group.examples) {
        const login = (example as EditablePayload).sender?.login;
        if (login) w.github.setRole(login, 'write');
      }
    const answers: { event: string; action: unknown; id: string; status: number; body: string }[] =
      [];
    let triggers = 0;
    for (const group of exampleGroups) {
      for (const example of group.examples) {
        const id = randomUUID();
        const res = await w.post(group.name, example as EditablePayload, { id });
        answers.push({
          event: group.name,
          action: example.action,
          id,
          status: res.status,
          body: await res.text(),
        });
        if (isTrigger(group.name, example as EditablePayload)) triggers += 1;
      }
    }
    expect(answers.length).toBeGreaterThan(300);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect((await fetch(`${w.server.url}/healthz`)).status).toBe(200);

    const queued = answers.filter((a) => JSON.parse(a.body).outcome?.startsWith('queued:'));
    expect(queued.length).toBeGreaterThan(0);
    await w.until('every queued intent to be applied', () =>
      queued.every((a) => w.intentOutcomes(a.id).length > 0),
    );
    expect(triggers).toBe(0);
    expect(await allSessions()).toHaveLength(triggers);
    // Nothing was said on GitHub about any of them, and nothing failed.
    const writes = w.github.calls
      .slice(callsBefore)
      .filter((c) => c.method !== 'GET' && !c.path.endsWith('/access_tokens'));
    expect(writes).toEqual([]);
    expect(w.logs().filter((l) => l.level >= 50)).toEqual([]);
  }, 120_000);

  it('answers malformed requests with a clear error and loses nothing', async () => {
    const url = `${w.server.url}/api/github/webhooks`;
    const id = randomUUID();
    const text = JSON.stringify(w.labelled(60));
    const headers = {
      'content-type': 'application/json',
      'x-github-delivery': id,
      'x-github-event': 'issues',
      'x-hub-signature-256': sign(w.secret, text),
    };
    const post = async (h: Record<string, string>, body: string = text) => {
      const res = await fetch(url, { method: 'POST', headers: h, body });
      return {
        status: res.status,
        error: String(((await res.json()) as { error?: string }).error),
      };
    };
    const without = (name: string) =>
      Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));

    expect(await post({ ...headers, 'x-hub-signature-256': sign('wrong-secret', text) })).toEqual({
      status: 401,
      error: expect.stringContaining('signature'),
    });
    expect((await post(without('x-hub-signature-256'))).status).toBe(401);
    expect(await post(without('x-github-event'))).toEqual({
      status: 400,
      error: expect.stringContaining('X-GitHub-Event'),
    });
    expect((await post(without('x-github-delivery'))).status).toBe(400);
    expect((await post({ ...headers, 'x-github-delivery': '../../etc/passwd' })).status).toBe(400);
    const notJson = 'event=issues&action=labeled';
    expect(
      await post({ ...headers, 'x-hub-signature-256': sign(w.secret, notJson) }, notJson),
    ).toEqual({ status: 400, error: expect.stringContaining('JSON') });
    expect(
      (await post({ ...headers, 'x-hub-signature-256': sign(w.secret, '[]') }, '[]')).status,
    ).toBe(400);
    const huge = `{"padding":"${'x'.repeat(30 * 1024 * 1024)}"}`;
    expect(
      (await post({ ...headers, 'x-hub-signature-256': sign(w.secret, huge) }, huge)).status,
    ).toBe(413);

    // Events and actions the app does not know are recorded and ignored.
    for (const [event, action] of [
      ['issues', 'frobnicated'],
      ['pull_request', 'transmogrified'],
      ['made_up_event', 'labeled'],
    ] as const) {
      const body = w.payload('issues', 'labeled', 'alice', (p) => {
        p.action = action;
        p.issue = w.issue(59);
        p.label = { ...p.label, name: 'agent' };
      });
      expect((await w.deliver(event, body)).outcome).toBe('ignored');
    }

    // None of the refused attempts was recorded: the real delivery with the same id is processed.
    expect((await fetch(`${w.server.url}/healthz`)).status).toBe(200);
    const answer = await w.deliver('issues', JSON.parse(text), id);
    expect(answer).toMatchObject({ outcome: 'queued:label-added' });
    await w.waitForSession(60, ['waiting'], (x) => Boolean(x.prNumber));
    expect(await w.sessions(59)).toEqual([]);
  }, 120_000);

  it('hands a 65,536-character comment to the agent whole', async () => {
    const marker = 'END-OF-THE-LONG-COMMENT';
    let body = '/agent please read all of this\n';
    for (let i = 0; body.length < 65_536 - marker.length - 40; i++)
      body += `line ${i} of a very long comment\n`;
    body = `${body}${'.'.repeat(65_536 - marker.length - body.length)}${marker}`;
    expect(body).toHaveLength(65_536);
    w.github.addComment(REPOSITORY, 61, 'wes', body);
    const answer = await w.deliver('issue_comment', w.commented(61, 'wes', body, 9201));
    expect(answer.outcome).toBe('queued:comment');
    const s = await w.waitForSession(61, ['waiting'], (x) => Boolean(x.prNumber));
    expect(s.triggeredBy).toBe('wes');
    expect(await w.show(s.branch!, 'agent-first.md')).toContain(body);
  }, 120_000);

  it('keeps the branch and paths safe from an issue title full of shell metacharacters and ../', async () => {
    const skip = [w.workspaceRoot, path.join(w.dataDir, 'pglite')];
    const before = listFiles(w.root, skip);
    const pwned = path.join(w.root, 'pwned');
    const title = `$(touch ${pwned}-1); \`touch ${pwned}-2\` && rm -rf ../../.. | cat /etc/passwd > ../../../../escape.txt; ../../${'../'.repeat(8)}tmp/x %s \${HOME} "q" 'q' \\ ..\\..\\ -- --upload-pack=touch ${pwned}-3`;
    await w.deliver('issues', w.labelled(62, title, 'FAKE: no-commit'));
    const s = await w.waitForSession(62, ['waiting'], (x) => Boolean(x.prNumber));

    expect(s.branch).toMatch(/^agent\/62-[a-z0-9]+(-[a-z0-9]+)*$/);
    for (const branch of await w.originBranches())
      expect(branch).toMatch(/^(main|agent\/\d+-[a-z0-9]+(-[a-z0-9]+)*)$/);
    expect(s.workspacePath).toBe(path.join(w.workspaceRoot, 'sessions', s.id));
    for (const n of [1, 2, 3]) expect(existsSync(`${pwned}-${n}`)).toBe(false);
    expect(listFiles(w.root, skip)).toEqual(before);
    // The title itself is not lost: the pull request and the agent have it as written.
    expect(w.github.findPull(REPOSITORY, s.prNumber!)?.title).toBe(title);
    expect(await w.show(s.branch!, 'agent-first.md')).toContain(title);
  }, 120_000);

  it('stops an agent that hangs past its time limit, whole process group, retries once and tells the issue', async () => {
    await w.deliver('issues', w.labelled(63, 'Hang forever', 'FAKE: hang-always'));
    const s = await w.waitForSession(
      63,
      ['needs_human'],
      async (x) => (await w.turnsFinished(x.id)) === 2,
      150_000,
    );
    expect(s.statusReason).toBe(
      'turn 2 exceeded its time limit; agent-stuck: 2 attempts, more than the 1 allowed',
    );
    // The agent ignored SIGTERM and left a grandchild: all of them are gone.
    expect(w.processesUnder(s.workspacePath!)).toEqual([]);
    const notice = await w.until('the notification on the issue', () =>
      w.github.comments.find(
        // On the pull request the first turn opened (its marker file was committed), else the issue.
        (c) =>
          (c.issue === 63 || c.issue === s.prNumber) &&
          !c.body.startsWith(STATUS_MARKER) &&
          c.body.includes('@alice'),
      ),
    );
    expect(notice.body).toContain('time limit');
    const status = await w.until('the status comment to say it needs a human', () =>
      w.github.comments.find(
        (c) =>
          c.issue === 63 && c.body.startsWith(STATUS_MARKER) && c.body.includes('needs a human'),
      ),
    );
    expect(status.body).toContain('exceeded its time limit');
  }, 240_000);
});
