import { z } from 'zod';

/**
 * The budgets and loop guards an operator sets (ORCHESTRATOR_CONFIG `limits` and `guards`) and a
 * repository may lower (`.github/agent.yml` `limits`). Kept apart from both config files because
 * both are validated with it; the decisions on them are in sessions/budget.ts and guards.ts.
 */

const money = z.number().positive();
const count = z.number().int().positive();

/** Spend within one UTC day. */
export const dailyBudgetSchema = z
  .object({ costUsd: money.optional(), turns: count.optional() })
  .strict();
export type DailyBudget = z.infer<typeof dailyBudgetSchema>;

export const operatorLimitsSchema = z
  .object({
    /** One turn's time limit; past it the turn is stopped (agent-stuck). */
    turnMinutes: z.number().positive().default(60),
    setupMinutes: z.number().positive().default(15),
    /** A turn with no output and no file change for this long is stopped (agent-stuck). */
    stallMinutes: z.number().positive().default(10),
    /** Per session: spend, turns and the agents' time over all its turns. */
    costUsd: money.optional(),
    turns: count.optional(),
    agentMinutes: z.number().positive().optional(),
    perRepositoryPerDay: dailyBudgetSchema.default({}),
    perInstallationPerDay: dailyBudgetSchema.default({}),
  })
  .strict();
export type OperatorLimits = z.infer<typeof operatorLimitsSchema>;

/** What a repository may set: lower budgets than the operator's, and its own stall time. */
export const repoLimitsSchema = z
  .object({
    costUsd: money.optional(),
    turns: count.optional(),
    agentMinutes: z.number().positive().optional(),
    stallMinutes: z.number().positive().optional(),
    perDay: dailyBudgetSchema.optional(),
  })
  .strict();
export type RepoLimits = z.infer<typeof repoLimitsSchema>;

export const guardsSchema = z
  .object({
    /** The same CI failure after an agent's turn escalates instead of being sent again. */
    sameCiFailure: z.boolean().default(true),
    /** Turns in a row that change no file before a human is asked. */
    noChangeTurns: count.default(3),
    /** Automated messages (CI, reviews, bots) a session takes in an hour before it is paused. */
    automatedPerHour: count.default(20),
  })
  .strict();
export type Guards = z.infer<typeof guardsSchema>;
