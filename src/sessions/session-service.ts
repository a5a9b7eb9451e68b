/**
 * The one writer of sessions: each change locks the session's row, asks the state machine what
 * follows, and writes the answer (status, columns, timeline events, queued messages, a new turn)
 * with the jobs it causes, in one transaction. No other module writes the sessions table.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/client.js';
import {
  jobs,
  type NewSession,
  type Session,
  sessionMessages,
  sessions,
  type Turn,
  turns,
} from '../db/schema.js';
import type { JobQueue, NewJob } from '../jobs/queue.js';
import { IllegalTransitionError } from './illegal-transition.js';
import { type IntentJobPayload, JOB_KINDS, type Notice, sessionJobs } from './job-kinds.js';
import type { LifecycleEvent, LifecycleEventType, Transition } from './lifecycle-event.js';
import { recordEvents } from './record-events.js';
import { configOf } from './session-context.js';
import { DEFAULT_OPERATOR_RULES, type OperatorRules, sessionRules } from './session-rules.js';
import { dailySpend } from './spend-store.js';
import { transition } from './transition.js';
import { turnFacts } from './turn-store.js';

export type CreateSessionInput = Omit<NewSession, 'id' | 'status' | 'createdAt' | 'updatedAt'>;

export interface WriteOptions {
  /** The caller's transaction; without one the service opens its own. */
  tx?: Tx | undefined;
  /** The webhook delivery behind the change, kept on its events and messages. */
  deliveryId?: string | undefined;
}

export interface Applied {
  /** The session as written. */
  session: Session;
  transition: Transition;
  /** The turn the transition chose: the new row, or the unfinished one to resume. */
  turn?: Turn | undefined;
}

/** Events whose transition needs the session's turns (numbers, the unfinished one, messages). */
const NEEDS_TURN_FACTS = new Set<LifecycleEventType>([
  'turn-chosen',
  'turn-finished',
  'retry',
  'reconcile',
]);

export type SessionService = ReturnType<typeof createSessionService>;

export function createSessionService({
  db,
  queue,
  now = () => new Date(),
  operator = DEFAULT_OPERATOR_RULES,
}: {
  db: Db;
  queue: JobQueue;
  now?: () => Date;
  /** The operator's budgets and loop guards (ORCHESTRATOR_CONFIG), the defaults without. */
  operator?: OperatorRules;
}) {
  const rulesOf = (session: Pick<Session, 'context'>) => sessionRules(configOf(session), operator);
  const within = <T>(tx: Tx | undefined, fn: (tx: Tx) => Promise<T>): Promise<T> =>
    tx ? fn(tx) : db.transaction(fn);
  const record = recordEvents;

  /** One pending status-comment edit per session: a burst of changes edits it once or twice. */
  async function touch(tx: Executor, sessionId: string): Promise<void> {
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
    if (!pending) await queue.enqueue(tx, sessionJobs.statusComment(sessionId));
  }

  async function enqueue(tx: Tx, sessionId: string, list: NewJob[]) {
    for (const job of list) {
      if (job.kind === JOB_KINDS.statusComment) await touch(tx, sessionId);
      else await queue.enqueue(tx, job);
    }
  }

  /** Writes what a transition says, inside tx; returns the turn it started or resumes. */
  async function write(
    tx: Tx,
    session: Session,
    t: Transition,
    deliveryId: string | undefined,
  ): Promise<{ session: Session; turn?: Turn | undefined }> {
    let written = session;
    if (t.status !== session.status || Object.keys(t.changes).length > 0) {
      const [row] = await tx
        .update(sessions)
        .set({ ...t.changes, status: t.status, updatedAt: now() })
        .where(eq(sessions.id, session.id))
        .returning();
      written = row!;
    }
    await record(tx, session.id, t.record, deliveryId);
    if (t.dropPending?.length) {
      await tx
        .delete(sessionMessages)
        .where(
          and(
            eq(sessionMessages.sessionId, session.id),
            isNull(sessionMessages.turnId),
            inArray(sessionMessages.source, t.dropPending),
          ),
        );
    }
    if (t.messages.length > 0) {
      await tx.insert(sessionMessages).values(
        t.messages.map((m) => ({
          sessionId: session.id,
          ...m,
          deliveryId: deliveryId ?? null,
        })),
      );
    }
    let turn: Turn | undefined;
    if (t.turn && 'resume' in t.turn) turn = t.turn.resume;
    else if (t.turn) {
      const { number, runnerId, logPath, messageIds } = t.turn.start;
      [turn] = await tx
        .insert(turns)
        .values({ sessionId: session.id, number, runnerId, logPath })
        .returning();
      if (messageIds.length > 0) {
        await tx
          .update(sessionMessages)
          .set({ turnId: turn!.id })
          .where(inArray(sessionMessages.id, messageIds));
      }
    }
    await enqueue(tx, session.id, t.enqueue);
    return { session: written, turn };
  }

  return {
    /**
     * Creates a queued session with its spawn job. Null when the issue already has a live
     * session (the partial unique index decides, so racing deliveries create one).
     */
    async create(input: CreateSessionInput, options: WriteOptions = {}): Promise<Session | null> {
      const id = newSessionId();
      const t = transition(
        null,
        { type: 'created', sessionId: id, triggeredBy: input.triggeredBy, agent: input.agent },
        rulesOf({ context: input.context ?? {} }),
        now(),
      );
      return within(options.tx, async (tx) => {
        const [row] = await tx
          .insert(sessions)
          .values({ ...input, id, status: t.status })
          .onConflictDoNothing()
          .returning();
        if (!row) return null;
        await write(tx, row, { ...t, status: row.status }, options.deliveryId);
        return row;
      });
    },

    /**
     * Applies an event to a session: locks its row, asks the state machine, writes the answer
     * and enqueues its jobs, all in one transaction. Throws IllegalTransitionError when the event
     * cannot happen to the session as it is (its `ended` says whether it came too late).
     */
    async apply(
      sessionId: string,
      event: LifecycleEvent,
      options: WriteOptions = {},
    ): Promise<Applied> {
      return within(options.tx, async (tx) => {
        const [locked] = await tx
          .select()
          .from(sessions)
          .where(eq(sessions.id, sessionId))
          .for('update');
        if (!locked) throw new IllegalTransitionError(null, event.type, sessionId);
        const at = now();
        const facts = NEEDS_TURN_FACTS.has(event.type) ? await turnFacts(tx, sessionId) : undefined;
        // Today's spend matters only where a new turn may start.
        const daily =
          event.type === 'turn-chosen' && !facts?.unfinished
            ? await dailySpend(tx, locked, at)
            : undefined;
        const t = transition({ ...locked, turns: facts, daily }, event, rulesOf(locked), at);
        const written = await write(tx, locked, t, options.deliveryId);
        return { ...written, transition: t };
      });
    },

    /** Adds an event to the session's timeline; nothing about the session changes. */
    async record(
      sessionId: string,
      kind: string,
      data: Record<string, unknown> = {},
      options: WriteOptions = {},
    ): Promise<void> {
      await record(options.tx ?? db, sessionId, [{ kind, data }], options.deliveryId);
    },

    /** Adds events to the session's timeline (an agent's output, in batches), in chunks. */
    async recordAll(
      sessionId: string,
      events: Transition['record'],
      options: WriteOptions = {},
    ): Promise<void> {
      await record(options.tx ?? db, sessionId, events, options.deliveryId);
    },

    /** Tells the configured people (every channel, or the one named), as retried jobs. */
    async notify(notices: Notice | Notice[], options: WriteOptions = {}): Promise<void> {
      await within(options.tx, async (tx) => {
        for (const notice of [notices].flat()) await queue.enqueue(tx, sessionJobs.notify(notice));
      });
    },

    /** The session changed in a way its status comment shows: the comment is brought up to date. */
    touch,

    /** Asks the session's runner to look for queued messages (a no-op while a turn runs). */
    async enqueueTurn(sessionId: string, runnerId: string, options: WriteOptions = {}) {
      await queue.enqueue(options.tx ?? db, sessionJobs.turn(sessionId, runnerId));
    },

    /** Queues a webhook's intent for the lifecycle worker (optionally later, to look again). */
    enqueueIntent(payload: IntentJobPayload, runAt?: Date, options: WriteOptions = {}) {
      return queue.enqueue(options.tx ?? db, sessionJobs.intent(payload, runAt));
    },

    /** The agent's own session reference, for resuming it in the next turn. */
    async recordAgentRef(sessionId: string, ref: string, options: WriteOptions = {}) {
      await (options.tx ?? db)
        .update(sessions)
        .set({ agentSessionRef: ref, updatedAt: now() })
        .where(eq(sessions.id, sessionId));
    },

    /**
     * Claims the creation of the session's status comment (0 marks "being created"), so two
     * jobs never post two comments. False when it exists or another job is creating it.
     */
    async claimStatusComment(sessionId: string): Promise<boolean> {
      const claimed = await db
        .update(sessions)
        .set({ statusCommentId: 0 })
        .where(and(eq(sessions.id, sessionId), sql`${sessions.statusCommentId} is null`))
        .returning({ id: sessions.id });
      return claimed.length > 0;
    },

    /** The status comment's id once made, or null to give the claim back after a failure. */
    async setStatusComment(sessionId: string, commentId: number | null): Promise<void> {
      await db
        .update(sessions)
        .set({ statusCommentId: commentId })
        .where(eq(sessions.id, sessionId));
    },
  };
}

export function newSessionId(): string {
  // 12 base36 characters from 8 random bytes: safe for folders, branches and tmux.
  return `s-${BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString(36)
    .padStart(12, '0')
    .slice(-12)}`;
}
