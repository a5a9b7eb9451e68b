import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

/** Statuses after which a session never acts again; its events are kept. */
export const TERMINAL_SESSION_STATUSES = ['merged', 'closed', 'stopped', 'failed'] as const;
export const SESSION_STATUSES = [
  'queued',
  'spawning',
  'working',
  'waiting',
  'needs_human',
  ...TERMINAL_SESSION_STATUSES,
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    installationId: bigint('installation_id', { mode: 'number' }),
    repositoryId: bigint('repository_id', { mode: 'number' }).notNull(),
    repositoryFullName: text('repository_full_name').notNull(),
    cloneUrl: text('clone_url').notNull(),
    issueNumber: integer('issue_number').notNull(),
    prNumber: integer('pr_number'),
    branch: text('branch'),
    baseBranch: text('base_branch'),
    headSha: text('head_sha'),
    agent: text('agent').notNull(),
    profile: text('profile'),
    runnerId: text('runner_id'),
    status: text('status', { enum: SESSION_STATUSES }).notNull().default('queued'),
    statusReason: text('status_reason'),
    workspacePath: text('workspace_path'),
    agentSessionRef: text('agent_session_ref'),
    statusCommentId: bigint('status_comment_id', { mode: 'number' }),
    triggeredBy: text('triggered_by').notNull(),
    /** The issue as it was at trigger time (title, body, comments) and the repository config then. */
    context: jsonb('context').$type<Record<string, unknown>>().notNull().default({}),
    /** Attempts per reaction key, e.g. { "ci-failed": 2 }; reset by a human's command. */
    reactionAttempts: jsonb('reaction_attempts')
      .$type<Record<string, number>>()
      .notNull()
      .default({}),
    /** What the loop guards and budgets remember (see sessions/guards.ts). */
    guards: jsonb('guards').$type<Record<string, unknown>>().notNull().default({}),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    ...timestamps,
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    // One live session per issue, whatever number of deliveries race to create it.
    uniqueIndex('sessions_one_active_per_issue')
      .on(t.repositoryId, t.issueNumber)
      .where(sql`${t.status} not in ('merged', 'closed', 'stopped', 'failed')`),
    index('sessions_status_idx').on(t.status),
    index('sessions_repository_pr_idx').on(t.repositoryId, t.prNumber),
  ],
);

export const sessionEvents = pgTable(
  'session_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    deliveryId: text('delivery_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('session_events_session_idx').on(t.sessionId, t.id)],
);

export const deliveries = pgTable(
  'deliveries',
  {
    /** GitHub's X-GitHub-Delivery id: a redelivery conflicts here and does nothing. */
    id: text('id').primaryKey(),
    event: text('event').notNull(),
    action: text('action'),
    installationId: bigint('installation_id', { mode: 'number' }),
    repositoryId: bigint('repository_id', { mode: 'number' }),
    outcome: text('outcome').notNull().default('recorded'),
    sessionId: text('session_id'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('deliveries_received_idx').on(t.receivedAt)],
);

/** Messages for the agent; each is delivered in exactly one turn, in order. */
export const sessionMessages = pgTable(
  'session_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    /** Who or what sent it: a GitHub login, `ci`, `review`, `api`. */
    source: text('source').notNull(),
    deliveryId: text('delivery_id'),
    /** The turn that delivered it; null while queued. */
    turnId: bigint('turn_id', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('session_messages_pending_idx').on(t.sessionId, t.id).where(sql`${t.turnId} is null`),
  ],
);

export const TURN_STATUSES = ['starting', 'running', 'finished'] as const;

/** One agent process run; the handle finds it again after a restart. */
export const turns = pgTable(
  'turns',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    status: text('status', { enum: TURN_STATUSES }).notNull().default('starting'),
    runnerId: text('runner_id').notNull(),
    /** The runtime's TurnHandle (pid, tmux target, start time). */
    handle: jsonb('handle').$type<Record<string, unknown>>(),
    logPath: text('log_path').notNull(),
    /** Bytes of the log already parsed into events. */
    logOffset: bigint('log_offset', { mode: 'number' }).notNull().default(0),
    exitCode: integer('exit_code'),
    outcome: text('outcome'),
    summary: text('summary'),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('turns_session_number_idx').on(t.sessionId, t.number),
    // At most one unfinished turn per session.
    uniqueIndex('turns_one_active_idx').on(t.sessionId).where(sql`${t.status} <> 'finished'`),
  ],
);

export const JOB_STATUSES = ['pending', 'running', 'done', 'dead'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const jobs = pgTable(
  'jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    /** When set, only this runner may claim the job (it holds the session's worktree). */
    runnerId: text('runner_id'),
    sessionId: text('session_id'),
    status: text('status', { enum: JOB_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(5),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    lockedBy: text('locked_by'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    lastError: text('last_error'),
    ...timestamps,
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    index('jobs_claimable_idx').on(t.runAt, t.id).where(sql`${t.status} = 'pending'`),
    index('jobs_leased_idx').on(t.leaseExpiresAt).where(sql`${t.status} = 'running'`),
    index('jobs_session_idx').on(t.sessionId),
  ],
);

/** Things said once (e.g. "your .github/agent.yml is invalid"), by a key naming what and where. */
export const notices = pgTable('notices', {
  key: text('key').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const runners = pgTable('runners', {
  id: text('id').primaryKey(),
  hostname: text('hostname').notNull(),
  pid: integer('pid').notNull(),
  maxSessions: integer('max_sessions').notNull(),
  version: text('version').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
});

export type Session = typeof sessions.$inferSelect;
export type NewSession = typeof sessions.$inferInsert;
export type SessionEvent = typeof sessionEvents.$inferSelect;
export type Delivery = typeof deliveries.$inferSelect;
export type Job = typeof jobs.$inferSelect;
export type Runner = typeof runners.$inferSelect;
export type SessionMessage = typeof sessionMessages.$inferSelect;
export type Turn = typeof turns.$inferSelect;
