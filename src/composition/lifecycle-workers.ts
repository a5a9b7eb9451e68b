import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Probot } from 'probot';
import type { Database } from '../db/client.js';
import { firstNotice } from '../db/notices.js';
import { createLifecycle } from '../github/create-lifecycle.js';
import { recordStartOutcome } from '../github/deliveries.js';
import type { Octokit } from '../github/octokit.js';
import { createRoles } from '../github/roles.js';
import type { JobQueue } from '../jobs/queue.js';
import { createWorker, type DeadJobHook, type JobHandler, type Worker } from '../jobs/worker.js';
import { notifyJob } from '../notify/notify-job.js';
import type { OperatorConfig } from '../operator-config.js';
import { JOB_KINDS } from '../sessions/job-kinds.js';
import type { SessionService } from '../sessions/session-service.js';
import { createSessionStore } from '../sessions/session-store.js';

export interface LifecycleWorkersInput {
  database: Database;
  queue: JobQueue;
  sessions: SessionService;
  /** Null in setup mode: nothing can act on a delivery, only the extra handlers run. */
  probot: Probot | null;
  operatorConfig: OperatorConfig;
  /** Whether an agent of this name is known: the runner's adapter registry answers. */
  isAgent(name: string): boolean;
  log: Logger;
  publicUrl?: string | undefined;
  /** Handlers added to the lifecycle lane (tests). */
  extraHandlers?: Record<string, JobHandler>;
  /** What the workers do with a job that gave up (dead-job-reports.ts). */
  onDeadJob?: DeadJobHook | undefined;
}

/**
 * The workers of the GitHub side, in two lanes: intents and the runner's reports decide what
 * happens next; status comments and notifications wait on GitHub's one-write-a-second spacing,
 * so they get a lane of their own and never take the slots of the next webhook's intent.
 */
export function createLifecycleWorkers(input: LifecycleWorkersInput): Worker[] {
  const { database, queue, probot, log } = input;
  const { db } = database;
  const workers: Worker[] = [];
  const octokitFor = (installationId?: number) => probot!.auth(installationId) as Promise<Octokit>;
  const store = createSessionStore(db);
  const lifecycle = probot
    ? createLifecycle({
        sessions: input.sessions,
        store,
        octokitFor,
        operatorConfig: input.operatorConfig,
        roles: createRoles(),
        log,
        publicUrl: input.publicUrl,
        isAgent: input.isAgent,
        firstNotice: (key) => firstNotice(db, key),
        recordStartOutcome: (id, outcome, sessionId) =>
          recordStartOutcome(db, id, outcome, sessionId),
      })
    : null;
  const handlers = { ...lifecycle?.handlers, ...input.extraHandlers };
  if (Object.keys(handlers).length > 0)
    workers.push(
      createWorker({ database, queue, handlers, log, concurrency: 4, onDead: input.onDeadJob }),
    );
  if (lifecycle) {
    const notify = notifyJob({
      findSession: store.find,
      enqueue: (notices) => input.sessions.notify(notices),
      commenterFor: octokitFor,
      notify: input.operatorConfig.notify,
    });
    workers.push(
      createWorker({
        database,
        queue,
        handlers: { ...lifecycle.statusComments, [JOB_KINDS.notify]: notify },
        onePerSession: [JOB_KINDS.statusComment],
        log,
        workerId: `reports:${randomUUID().slice(0, 8)}`,
        concurrency: 4,
        onDead: input.onDeadJob,
      }),
    );
  }
  return workers;
}
