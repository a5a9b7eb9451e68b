import path from 'node:path';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { pino } from 'pino';
import { type Orchestrator, startOrchestrator } from '../../src/composition/start-orchestrator.js';
import {
  jobs,
  type Session,
  type SessionStatus,
  sessionEvents,
  sessions,
  turns,
} from '../../src/db/schema.js';
import { STATUS_MARKER } from '../../src/github/status-comment.js';
import { loadSettings } from '../../src/settings.js';
import { generatePrivateKey } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { createWorld, REPOSITORY_ID, type WorldSetup } from './world.js';

export type InProcess = Awaited<ReturnType<typeof startInProcess>>;

/**
 * The shared world (./world.ts) with the whole app in this process: webhooks, lifecycle jobs and
 * the embedded runner on PGlite, read straight from its database. Waits default to 30 s; a
 * scenario that starts several sessions passes a longer timeout.
 */
export async function startInProcess(setup: WorldSetup = {}) {
  let orchestrator: Orchestrator | undefined;
  const base = await createWorld('ao-in-process-', setup, () => {
    if (!orchestrator) throw new Error('the app has not started');
    return orchestrator.url;
  });
  const settings = loadSettings({
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: base.secret,
    DATA_DIR: path.join(base.root, 'data'),
    ORCHESTRATOR_CONFIG: base.operatorFile,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PUBLIC_URL: 'https://agents.example.com',
    ...base.github.env,
  });
  const app: Orchestrator = await startOrchestrator({
    settings,
    log: pino({ level: settings.logLevel }),
    envFile: path.join(base.root, '.env'),
    githubThrottle: false,
    runnerOptions: { env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, pollMs: 500 },
  }).catch(async (error: unknown) => {
    await base.cleanup();
    throw error;
  });
  orchestrator = app;
  const { db } = app.database;

  async function sessionFor(issueNumber: number): Promise<Session | undefined> {
    const [row] = await db
      .select()
      .from(sessions)
      .where(and(eq(sessions.repositoryId, REPOSITORY_ID), eq(sessions.issueNumber, issueNumber)));
    return row;
  }

  return {
    ...base,
    orchestrator: app,
    db,
    until,
    sessionFor,
    /** Where the runner keeps mirrors, checkouts and the sessions' HOMEs. */
    workspaceRoot: settings.workspaceRoot,
    async waitForSession(
      issueNumber: number,
      statuses: SessionStatus[],
      extra?: (s: Session) => boolean | Promise<boolean>,
      timeoutMs = 30_000,
    ) {
      return until(
        `session on #${issueNumber} to be ${statuses.join('|')}`,
        async () => {
          // The condition first, the status after: a status read later cannot be older than it.
          const before = await sessionFor(issueNumber);
          if (!before || (extra && !(await extra(before)))) return undefined;
          const s = await sessionFor(issueNumber);
          return s && statuses.includes(s.status) ? s : undefined;
        },
        timeoutMs,
      );
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
      base.github.comments.filter(
        (c) => c.issue === issueNumber && c.body.startsWith(STATUS_MARKER),
      ),
    /** Waits until no job is pending or running (the app is idle). */
    async settled(timeoutMs = 30_000) {
      const unfinished = () =>
        db
          .select({ id: jobs.id, kind: jobs.kind, status: jobs.status, attempts: jobs.attempts })
          .from(jobs)
          .where(inArray(jobs.status, ['pending', 'running']));
      await until(
        'the app to be idle',
        async () => (await unfinished()).length === 0,
        timeoutMs,
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}; unfinished: ${JSON.stringify(await unfinished())}`);
      });
    },
    async cleanup() {
      await app.close();
      await base.cleanup();
    },
  };
}
