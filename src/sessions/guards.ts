/**
 * Loop guards, as pure decisions on what a session remembers in its `guards` column: the last CI
 * failure's signature, the turns in a row that changed nothing, the automated messages of the
 * last hour, and where its budget last started over.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Session } from '../db/schema.js';
import type { Spend } from './budget.js';

export const guardStateSchema = z.looseObject({
  /** The last CI failure sent to the agent, and how many turns had run when it was sent. */
  ci: z.object({ signature: z.string(), afterTurns: z.number().int() }).optional(),
  /** Turns in a row, up to the last, that changed no file. */
  noChangeTurns: z.number().int().min(0).default(0),
  /** When automated messages (CI, reviews, conflicts, bots) reached the session lately. */
  automated: z.array(z.string()).default([]),
  /** Turns finished and the agents' time over them, for the session's budget. */
  turns: z.number().int().min(0).default(0),
  agentSeconds: z.number().min(0).default(0),
  /** The unfinished turn a reconcile already picked up again (it is not picked up twice). */
  reconciledTurn: z.number().int().optional(),
  /** The session's spend when its budget last started over (`/agent retry`). */
  budgetFrom: z
    .object({ costUsd: z.number(), turns: z.number(), agentSeconds: z.number() })
    .optional(),
});
export type GuardState = z.infer<typeof guardStateSchema>;

export function guardsOf(session: Pick<Session, 'guards'>): GuardState {
  const parsed = guardStateSchema.safeParse(session.guards);
  return parsed.success ? parsed.data : guardStateSchema.parse({});
}

/**
 * A CI failure's signature: the failing checks, and the first failing annotation or log lines,
 * so the same failure hashes the same on a new commit and a different one does not.
 */
export function ciFailureSignature(failure: { checks: string[]; firstError: string }): string {
  const text = `${[...new Set(failure.checks)].sort().join('\n')}\n--\n${normalize(failure.firstError)}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

// Timestamps, shas and durations differ between runs of the same failure.
const normalize = (text: string) =>
  text
    .replace(/\b\d{4}-\d{2}-\d{2}T[\d:.]+Z?\b/g, '<time>')
    .replace(/\b[0-9a-f]{7,64}\b/g, '<sha>')
    .replace(/\b\d+(\.\d+)?\s?(ms|s|m)\b/g, '<duration>')
    .trim();

/** The same failure came back after the agent had a turn to fix it. */
export function isRepeatedCiFailure(
  guards: GuardState,
  signature: string,
  turnsSoFar: number,
): boolean {
  return guards.ci?.signature === signature && turnsSoFar > guards.ci.afterTurns;
}

const HOUR_MS = 3_600_000;

/** The automated messages of the last hour, with one more at `now`. */
export function automatedWithin(guards: GuardState, now: Date): string[] {
  const since = now.getTime() - HOUR_MS;
  return [...guards.automated.filter((t) => Date.parse(t) > since), now.toISOString()];
}

/** The session's whole spend: its cost, and the turns and agent time its guards counted. */
export function totalSpend(session: Pick<Session, 'costUsd' | 'guards'>): Spend {
  const guards = guardsOf(session);
  return { costUsd: session.costUsd, turns: guards.turns, agentSeconds: guards.agentSeconds };
}

/** The session's spend since its budget last started over (its creation or `/agent retry`). */
export function sessionSpend(session: Pick<Session, 'costUsd' | 'guards'>): Spend {
  const total = totalSpend(session);
  const from = guardsOf(session).budgetFrom ?? { costUsd: 0, turns: 0, agentSeconds: 0 };
  return {
    costUsd: total.costUsd - from.costUsd,
    turns: total.turns - from.turns,
    agentSeconds: total.agentSeconds - from.agentSeconds,
  };
}
