import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { pino } from 'pino';
import { stringify } from 'yaml';
import {
  jobs,
  type Session,
  type SessionStatus,
  sessionEvents,
  sessions,
  turns,
} from '../../src/db/schema.js';
import { STATUS_MARKER } from '../../src/github/status-comment.js';
import { type Orchestrator, startOrchestrator } from '../../src/server/start.js';
import { loadSettings } from '../../src/settings.js';
import { createOrigin, type Origin } from '../helpers/git.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';
import { generatePrivateKey } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { deliveryHeaders, examplePayload } from '../helpers/webhooks.js';
import { fakeAgentConfig } from '../runner/harness.js';

export const SECRET = 'lifecycle-secret';
export const REPOSITORY = 'octo/widgets';
export const INSTALLATION = 7;

// biome-ignore lint/suspicious/noExplicitAny: example payloads are untyped JSON, edited freely per scenario
type EditablePayload = Record<string, any>;

export type LifecycleHarness = Awaited<ReturnType<typeof startLifecycle>>;

/** The whole app in-process (webhooks, lifecycle jobs, embedded runner) against a local GitHub. */
export async function startLifecycle(
  options: { operator?: Record<string, unknown>; repoConfig?: Record<string, unknown> } = {},
) {
  const github: LocalGitHub = await startLocalGitHub();
  const origin: Origin = await createOrigin();
  const dir = mkdtempSync(path.join(tmpdir(), 'ao-lifecycle-'));
  const operatorFile = path.join(dir, 'orchestrator.yml');
  writeFileSync(
    operatorFile,
    stringify({ agents: { fake: fakeAgentConfig }, ...options.operator }),
  );
  github.setFile(
    REPOSITORY,
    '.github/agent.yml',
    stringify({ agent: 'fake', ...options.repoConfig }),
  );
  for (const [login, role] of Object.entries({
    alice: 'admin',
    maya: 'maintain',
    wes: 'write',
    trina: 'triage',
    rita: 'read',
  })) {
    github.setRole(login, role);
  }
  const settings = loadSettings({
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: SECRET,
    DATA_DIR: path.join(dir, 'data'),
    ORCHESTRATOR_CONFIG: operatorFile,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PUBLIC_URL: 'https://agents.example.com',
    ...github.env,
  });
  const orchestrator: Orchestrator = await startOrchestrator({
    settings,
    log: pino({ level: settings.logLevel }),
    envFile: path.join(dir, '.env'),
    githubThrottle: false,
    runnerOptions: { env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, pollMs: 500 },
  });
  const { db } = orchestrator.database;

  const repository = () => ({
    id: 4242,
    node_id: 'R_1',
    name: 'widgets',
    full_name: REPOSITORY,
    owner: { login: 'octo', id: 1, type: 'Organization' },
    clone_url: origin.url,
    html_url: 'https://github.example/octo/widgets',
    default_branch: 'main',
    private: false,
  });
  const user = (login: string, type = 'User') => ({ login, id: login.length, type });

  /** A real example payload of the event, edited to this repository, installation and sender. */
  function payload(
    event: string,
    action: string | undefined,
    sender: string,
    edit: (p: EditablePayload) => void,
  ) {
    const p = examplePayload(event, action) as EditablePayload;
    p.repository = repository();
    p.installation = { id: INSTALLATION, node_id: 'I_1' };
    p.sender = sender.endsWith('[bot]') ? user(sender, 'Bot') : user(sender);
    edit(p);
    return p;
  }

  async function deliver(event: string, body: Record<string, unknown>, id?: string) {
    const text = JSON.stringify(body);
    const res = await fetch(`${orchestrator.url}/api/github/webhooks`, {
      method: 'POST',
      headers: deliveryHeaders(SECRET, event, text, id),
      body: text,
    });
    if (res.status !== 200) throw new Error(`delivery answered ${res.status}: ${await res.text()}`);
    return res.json() as Promise<{ outcome?: string }>;
  }

  return {
    github,
    origin,
    orchestrator,
    db,
    payload,
    deliver,
    until,
    issue: (number: number, title = `Issue ${number}`, body = 'Please fix it.') => ({
      number,
      title,
      body,
      html_url: `https://github.example/${REPOSITORY}/issues/${number}`,
      state: 'open',
      user: user('alice'),
    }),
    async sessionFor(issueNumber: number): Promise<Session | undefined> {
      const [row] = await db
        .select()
        .from(sessions)
        .where(and(eq(sessions.repositoryId, 4242), eq(sessions.issueNumber, issueNumber)));
      return row;
    },
    async waitForSession(
      issueNumber: number,
      statuses: SessionStatus[],
      extra?: (s: Session) => boolean | Promise<boolean>,
    ) {
      return until(`session on #${issueNumber} to be ${statuses.join('|')}`, async () => {
        // The condition first, the status after: a status read later cannot be older than it.
        const before = await this.sessionFor(issueNumber);
        if (!before || (extra && !(await extra(before)))) return undefined;
        const s = await this.sessionFor(issueNumber);
        return s && statuses.includes(s.status) ? s : undefined;
      });
    },
    /** True once the session has had exactly n turns and all have finished. */
    async turnsDone(sessionId: string, n: number): Promise<boolean> {
      const all = await db.select().from(turns).where(eq(turns.sessionId, sessionId));
      return all.length === n && all.every((t) => t.status === 'finished');
    },
    turnsOf: (sessionId: string) =>
      db.select().from(turns).where(eq(turns.sessionId, sessionId)).orderBy(asc(turns.number)),
    eventsOf: (sessionId: string) =>
      db
        .select()
        .from(sessionEvents)
        .where(eq(sessionEvents.sessionId, sessionId))
        .orderBy(asc(sessionEvents.id)),
    statusComments: (issueNumber: number) =>
      github.comments.filter((c) => c.issue === issueNumber && c.body.startsWith(STATUS_MARKER)),
    /** Waits until no job is pending or running (the app is idle). */
    async settled() {
      const unfinished = () =>
        db
          .select({ id: jobs.id, kind: jobs.kind, status: jobs.status, attempts: jobs.attempts })
          .from(jobs)
          .where(inArray(jobs.status, ['pending', 'running']));
      await until('the app to be idle', async () => (await unfinished()).length === 0).catch(
        async (error: Error) => {
          throw new Error(`${error.message}; unfinished: ${JSON.stringify(await unfinished())}`);
        },
      );
    },
    async cleanup() {
      await orchestrator.close();
      await github.close();
      await origin.cleanup();
    },
  };
}
