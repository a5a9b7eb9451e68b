import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor, Tx } from '../db/client.js';
import {
  type Job,
  jobs,
  type NewSession,
  type Session,
  type SessionStatus,
  sessionEvents,
  sessionMessages,
  sessions,
  TERMINAL_SESSION_STATUSES,
} from '../db/schema.js';
import type { JobQueue, NewJob } from '../jobs/queue.js';

export const JOB_KINDS = {
  spawn: 'session.spawn',
  turn: 'session.turn',
  stop: 'session.stop',
  /** A webhook's intent, applied where GitHub can be asked (permissions, config, CI details). */
  intent: 'github.intent',
  /** Something the runner saw (agent-failed, agent-stuck) for the reaction rules. */
  reaction: 'session.reaction',
  statusComment: 'session.status-comment',
  notify: 'session.notify',
} as const;

/** Agent turns can be adopted after many restarts; each claim counts as an attempt. */
const TURN_JOB_ATTEMPTS = 25;

export function newSessionId(): string {
  // 12 base36 characters from 8 random bytes: safe for folders, branches and tmux.
  return `s-${BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString(36)
    .padStart(12, '0')
    .slice(-12)}`;
}

export function isTerminal(status: SessionStatus): boolean {
  return (TERMINAL_SESSION_STATUSES as readonly string[]).includes(status);
}

export type CreateSessionInput = Omit<NewSession, 'id' | 'status' | 'createdAt' | 'updatedAt'>;

export type SessionService = ReturnType<typeof createSessionService>;

/** State changes of sessions, each written with the job it causes in the caller's transaction. */
export function createSessionService({ queue }: { queue: JobQueue }) {
  async function event(
    tx: Executor,
    sessionId: string,
    kind: string,
    data: Record<string, unknown> = {},
    deliveryId?: string,
  ) {
    await tx
      .insert(sessionEvents)
      .values({ sessionId, kind, data, deliveryId: deliveryId ?? null });
  }

  return {
    event,

    /**
     * Creates a queued session and its spawn job. Returns null when the issue already has a live
     * session (the partial unique index decides, so concurrent deliveries create one).
     */
    async create(tx: Tx, input: CreateSessionInput, deliveryId?: string): Promise<Session | null> {
      const id = newSessionId();
      const [row] = await tx
        .insert(sessions)
        .values({ ...input, id, status: 'queued' })
        .onConflictDoNothing()
        .returning();
      if (!row) return null;
      await event(
        tx,
        id,
        'created',
        { triggeredBy: input.triggeredBy, agent: input.agent },
        deliveryId,
      );
      await queue.enqueue(tx, {
        kind: JOB_KINDS.spawn,
        sessionId: id,
        payload: { sessionId: id },
        maxAttempts: TURN_JOB_ATTEMPTS,
      });
      return row;
    },

    /**
     * Queues a message for the agent. It becomes the next turn once the current one ends;
     * messages are delivered in order, each exactly once.
     */
    async queueMessage(
      tx: Tx,
      session: Pick<Session, 'id' | 'runnerId' | 'status'>,
      message: { body: string; source: string; deliveryId?: string | undefined },
    ): Promise<void> {
      if (isTerminal(session.status))
        throw new Error(`session ${session.id} has ended (${session.status})`);
      await tx.insert(sessionMessages).values({
        sessionId: session.id,
        body: message.body,
        source: message.source,
        deliveryId: message.deliveryId ?? null,
      });
      await event(tx, session.id, 'message-queued', { source: message.source }, message.deliveryId);
      await this.enqueueTurn(tx, session);
    },

    /** Asks the session's runner to run a turn for its queued messages (a no-op while one runs). */
    async enqueueTurn(tx: Executor, session: Pick<Session, 'id' | 'runnerId'>): Promise<void> {
      if (!session.runnerId) return; // the spawn job delivers whatever is queued by then
      await queue.enqueue(tx, {
        kind: JOB_KINDS.turn,
        sessionId: session.id,
        runnerId: session.runnerId,
        payload: { sessionId: session.id },
        maxAttempts: TURN_JOB_ATTEMPTS,
      });
    },

    /** Stops any running turn and ends the session; cleanup removes its worktree. */
    async requestStop(
      tx: Tx,
      session: Pick<Session, 'id' | 'runnerId' | 'status'>,
      stop: {
        status: Extract<SessionStatus, 'stopped' | 'closed' | 'merged' | 'failed'>;
        reason: string;
        cleanup: boolean;
      },
    ): Promise<void> {
      if (isTerminal(session.status)) return;
      await event(tx, session.id, 'stop-requested', stop);
      if (!session.runnerId) {
        // Never reached a runner: nothing runs and there is nothing on disk.
        await tx
          .update(sessions)
          .set({
            status: stop.status,
            statusReason: stop.reason,
            endedAt: sql`now()`,
            updatedAt: sql`now()`,
          })
          .where(eq(sessions.id, session.id));
        return;
      }
      await queue.enqueue(tx, {
        kind: JOB_KINDS.stop,
        sessionId: session.id,
        runnerId: session.runnerId,
        payload: { sessionId: session.id, ...stop },
      });
    },

    /**
     * The session changed: its status comment will be brought up to date. One pending update per
     * session at a time, so a burst of transitions edits the comment once or twice, not each time.
     */
    async touch(tx: Executor, sessionId: string): Promise<void> {
      const [pending] = await tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(
          and(
            eq(jobs.kind, JOB_KINDS.statusComment),
            eq(jobs.sessionId, sessionId),
            eq(jobs.status, 'pending'),
          ),
        )
        .limit(1);
      if (pending) return;
      await queue.enqueue(tx, {
        kind: JOB_KINDS.statusComment,
        sessionId,
        payload: { sessionId },
        maxAttempts: 8,
      });
    },

    /** Reports a runner-side event (agent-failed, agent-stuck) to the reaction rules. */
    async react(
      tx: Executor,
      sessionId: string,
      key: 'agent-failed' | 'agent-stuck',
      detail: string,
    ): Promise<void> {
      await queue.enqueue(tx, {
        kind: JOB_KINDS.reaction,
        sessionId,
        payload: { sessionId, key, detail },
      });
    },

    /** Tells the configured people (every channel, or the one named) as a retried job. */
    async notify(
      tx: Executor,
      sessionId: string,
      notice: { reason: string; text: string; channel?: string },
    ): Promise<void> {
      await queue.enqueue(tx, {
        kind: JOB_KINDS.notify,
        sessionId,
        payload: { sessionId, ...notice },
        maxAttempts: 8,
      });
    },

    /** Spawns the session again from the start (its workspace never got made). */
    async respawn(tx: Executor, sessionId: string): Promise<void> {
      await queue.enqueue(tx, {
        kind: JOB_KINDS.spawn,
        sessionId,
        payload: { sessionId },
        maxAttempts: TURN_JOB_ATTEMPTS,
      });
    },

    /** A webhook's intent as a job for the lifecycle worker (optionally later, to look again). */
    intentJob(payload: Record<string, unknown>, runAt?: Date): NewJob {
      return { kind: JOB_KINDS.intent, payload, maxAttempts: 6, ...(runAt ? { runAt } : {}) };
    },

    /** Queues a webhook's intent for the lifecycle worker (optionally later, e.g. to look again). */
    async enqueueIntent(
      tx: Executor,
      payload: Record<string, unknown>,
      runAt?: Date,
    ): Promise<Job> {
      return queue.enqueue(tx, this.intentJob(payload, runAt));
    },

    /** Locks the session's row for the rest of the transaction; null when it is gone or ended. */
    async lockLive(tx: Tx, sessionId: string): Promise<Session | null> {
      const [locked] = await tx
        .select()
        .from(sessions)
        .where(eq(sessions.id, sessionId))
        .for('update');
      return locked && !isTerminal(locked.status) ? locked : null;
    },

    async pendingMessages(tx: Executor, sessionId: string) {
      return tx
        .select()
        .from(sessionMessages)
        .where(and(eq(sessionMessages.sessionId, sessionId), isNull(sessionMessages.turnId)))
        .orderBy(asc(sessionMessages.id));
    },
  };
}
