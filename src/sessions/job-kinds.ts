/**
 * The jobs sessions run on, with a schema per payload. Both github/ and runner/ import these:
 * the lifecycle worker and the runner's workers parse each payload once, before the handler.
 */
import { z } from 'zod';
import type { NewJob } from '../jobs/queue.js';
import { intentSchema, operatorStartSchema } from './intents.js';
import { TERMINAL_SESSION_STATUSES } from './session-status.js';

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

const sessionId = z.string().min(1);

export const sessionJobPayload = z.object({ sessionId });

export const stopJobPayload = z.object({
  sessionId,
  status: z.enum(TERMINAL_SESSION_STATUSES),
  reason: z.string().default('stopped'),
  cleanup: z.boolean().default(true),
});
export type StopJobPayload = z.infer<typeof stopJobPayload>;

export const intentJobPayload = z.object({
  intent: z.union([intentSchema, operatorStartSchema]),
  deliveryId: z.string(),
  receivedAt: z.string(),
  /** How many times a push's mergeability was looked at already. */
  check: z.number().int().min(0).default(0),
});
export type IntentJobPayload = z.input<typeof intentJobPayload>;

export const reactionJobPayload = z.object({
  sessionId,
  key: z.enum(['agent-failed', 'agent-stuck']),
  detail: z.string().default(''),
});

export const NOTIFY_CHANNELS = ['github', 'slack', 'webhook'] as const;
export const notifyJobPayload = z.object({
  sessionId,
  reason: z.string(),
  text: z.string(),
  /** Unset: fan out into one job per configured channel. */
  channel: z.enum(NOTIFY_CHANNELS).optional(),
});
export type Notice = z.input<typeof notifyJobPayload>;

/** Builders of each job, so every producer addresses and bounds them alike. */
export const sessionJobs = {
  spawn: (id: string, runnerId: string | null = null): NewJob => ({
    kind: JOB_KINDS.spawn,
    sessionId: id,
    runnerId,
    payload: { sessionId: id },
    maxAttempts: TURN_JOB_ATTEMPTS,
  }),
  /** A turn job goes to the runner holding the session's worktree. */
  turn: (id: string, runnerId: string): NewJob => ({
    kind: JOB_KINDS.turn,
    sessionId: id,
    runnerId,
    payload: { sessionId: id },
    maxAttempts: TURN_JOB_ATTEMPTS,
  }),
  stop: (stop: z.input<typeof stopJobPayload>, runnerId: string): NewJob => ({
    kind: JOB_KINDS.stop,
    sessionId: stop.sessionId,
    runnerId,
    payload: stop,
  }),
  reaction: (reaction: z.input<typeof reactionJobPayload>): NewJob => ({
    kind: JOB_KINDS.reaction,
    sessionId: reaction.sessionId,
    payload: reaction,
  }),
  notify: (notice: Notice): NewJob => ({
    kind: JOB_KINDS.notify,
    sessionId: notice.sessionId,
    payload: notice,
    maxAttempts: 8,
  }),
  statusComment: (id: string): NewJob => ({
    kind: JOB_KINDS.statusComment,
    sessionId: id,
    payload: { sessionId: id },
    maxAttempts: 8,
  }),
  intent: (payload: IntentJobPayload, runAt?: Date): NewJob => ({
    kind: JOB_KINDS.intent,
    payload,
    maxAttempts: 6,
    ...(runAt ? { runAt } : {}),
  }),
};
