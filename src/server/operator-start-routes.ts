import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, desc, eq, notInArray, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { deliveries, jobs, sessions, TERMINAL_SESSION_STATUSES } from '../db/schema.js';
import {
  type OperatorStart,
  type OperatorStartOutcome,
  operatorStartSchema,
} from '../sessions/intents.js';
import { JOB_KINDS } from '../sessions/job-kinds.js';
import type { SessionService } from '../sessions/session-service.js';
import { requireBearer } from './api-token.js';
import { jsonBody, parse } from './http-input.js';
import { findSession } from './session-queries.js';

export interface StartRoutesDeps {
  database: Database;
  sessionService: SessionService;
  apiToken: string | null;
  /** How often a start's outcome is looked for while `POST /api/sessions` waits (default 100 ms). */
  startPollMs?: number | undefined;
}

const name = /^[a-z][a-z0-9-]*$/;
const startBody = z
  .object({
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name'),
    issue: z.number().int().positive(),
    message: z.string().trim().min(1).max(65_536).optional(),
    agent: z.string().regex(name, 'an agent name such as claude-code').optional(),
    profile: z.string().regex(name, 'a profile name from the operator config').optional(),
  })
  .strict()
  .refine((b) => !(b.agent && b.profile), { message: 'give agent or profile, not both' });
const startQuery = z.object({
  /** Seconds to wait for the session to be created before answering 202 `pending`. */
  wait: z.coerce.number().min(0).max(60).default(10),
});

type StartState = 'pending' | 'created' | 'refused' | 'failed';
interface StartStatus {
  id: string;
  state: StartState;
  /** What the lifecycle job made of it (`session-created`, `not-installed`, ...). */
  outcome: string | null;
  sessionId: string | null;
  jobId: number | null;
  /** Why it was refused or failed. */
  error?: string;
}

/** The HTTP status and message of each way a start can be refused. */
type Refusal = [400 | 403 | 404 | 409 | 422, (s: OperatorStart) => string];
const REFUSALS: Record<Exclude<OperatorStartOutcome, 'session-created'>, Refusal> = {
  'already-running': [409, (s) => `${s.repository}#${s.issueNumber} already has a live session`],
  'at-limit': [
    409,
    (s) =>
      `${s.repository} is at its limit of live sessions (maxConcurrent in .github/agent.yml); try again when one ends`,
  ],
  'not-installed': [
    404,
    (s) => `the app is not installed on ${s.repository}, or there is no such repository`,
  ],
  'installation-not-allowed': [
    403,
    (s) => `the installation on ${s.repository} is not in the operator's allowedInstallations`,
  ],
  'no-such-issue': [404, (s) => `${s.repository} has no issue #${s.issueNumber}`],
  'pull-request': [
    422,
    (s) => `${s.repository}#${s.issueNumber} is a pull request; sessions start on issues`,
  ],
  'issue-closed': [409, (s) => `${s.repository}#${s.issueNumber} is closed`],
  'unknown-profile': [400, (s) => `there is no agent profile named "${s.profile}"`],
  'unknown-agent': [400, (s) => `there is no agent named "${s.agent}"`],
};
const refusalOf = (outcome: string | null): Refusal | undefined =>
  outcome && Object.hasOwn(REFUSALS, outcome)
    ? REFUSALS[outcome as keyof typeof REFUSALS]
    : undefined;

/**
 * `POST /api/sessions` starts a session on an issue as the label trigger does: the start is
 * recorded like a delivery and its intent queued in one transaction; the lifecycle job decides.
 * The request waits a little for that decision; `GET /api/starts/:id` follows it after.
 */
export function operatorStartRoutes({
  database,
  sessionService,
  apiToken,
  startPollMs = 100,
}: StartRoutesDeps) {
  const { db } = database;

  /** A start asked for through the API, as its record and intent job say now. */
  async function startStatus(id: string, jobId?: number): Promise<StartStatus | null> {
    const [record] = await db.select().from(deliveries).where(eq(deliveries.id, id));
    if (record?.event !== 'api') return null;
    const [job] = await db
      .select()
      .from(jobs)
      .where(
        jobId === undefined
          ? and(eq(jobs.kind, JOB_KINDS.intent), sql`${jobs.payload}->>'deliveryId' = ${id}`)
          : eq(jobs.id, jobId),
      )
      .orderBy(desc(jobs.id))
      .limit(1);
    const parsed = operatorStartSchema.safeParse(job?.payload.intent);
    const start = parsed.success ? parsed.data : undefined;
    const status = {
      id,
      outcome: record.outcome,
      sessionId: record.sessionId,
      jobId: job?.id ?? null,
    };
    if (record.outcome === 'session-created') return { ...status, state: 'created' };
    const refusal = refusalOf(record.outcome);
    if (refusal && start) {
      const suffix = record.sessionId ? `: ${record.sessionId}` : '';
      return { ...status, state: 'refused', error: `${refusal[1](start)}${suffix}` };
    }
    if (job?.status === 'dead')
      return {
        ...status,
        state: 'failed',
        error: `the start failed: ${firstLine(job.lastError)}`,
      };
    return { ...status, state: 'pending' };
  }

  return new Hono()
    .use('/api/sessions', requireBearer(apiToken))
    .use('/api/starts/*', requireBearer(apiToken))
    .post('/api/sessions', async (c) => {
      const input = parse(startBody, await jsonBody(c.req.raw));
      const { wait } = parse(startQuery, c.req.query());
      // A cheap early answer; the job decides for certain, by repository id.
      const [live] = await db
        .select({ id: sessions.id, status: sessions.status })
        .from(sessions)
        .where(
          and(
            sql`lower(${sessions.repositoryFullName}) = ${input.repository.toLowerCase()}`,
            eq(sessions.issueNumber, input.issue),
            notInArray(sessions.status, [...TERMINAL_SESSION_STATUSES]),
          ),
        )
        .limit(1);
      if (live)
        throw new HTTPException(409, {
          message: `${input.repository}#${input.issue} already has a live session: ${live.id} (${live.status})`,
        });
      // The label trigger's path: the start is recorded and its intent queued in one transaction.
      const id = `api-${randomUUID()}`;
      const intent: OperatorStart = {
        kind: 'operator-start',
        repository: input.repository,
        issueNumber: input.issue,
        message: input.message,
        agent: input.agent,
        profile: input.profile,
      };
      const job = await db.transaction(async (tx) => {
        await tx
          .insert(deliveries)
          .values({ id, event: 'api', action: 'start-session', outcome: 'queued:operator-start' });
        return sessionService.enqueueIntent(
          { intent, deliveryId: id, receivedAt: new Date().toISOString() },
          undefined,
          { tx },
        );
      });
      const deadline = Date.now() + wait * 1000;
      let status = (await startStatus(id, job.id))!;
      while (status.state === 'pending' && Date.now() < deadline) {
        await sleep(startPollMs);
        status = (await startStatus(id, job.id))!;
      }
      if (status.state === 'refused') {
        const [code] = refusalOf(status.outcome)!;
        throw new HTTPException(code, { message: status.error! });
      }
      if (status.state === 'failed') throw new HTTPException(502, { message: status.error! });
      const session = status.sessionId ? ((await findSession(db, status.sessionId)) ?? null) : null;
      return c.json({ start: status, session, follow: `/api/starts/${id}` }, 202);
    })
    .get('/api/starts/:id', async (c) => {
      const status = await startStatus(c.req.param('id'));
      if (!status) throw new HTTPException(404, { message: `no start ${c.req.param('id')}` });
      return c.json({ start: status });
    });
}

function firstLine(text: string | null): string {
  return (text ?? 'unknown error').split('\n')[0]!.replace(/^\w*Error: /, '');
}
