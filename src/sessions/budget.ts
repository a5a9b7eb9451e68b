/**
 * Budgets, as pure decisions: the limits a session works under (the operator's, lowered by its
 * repository), and whether what was spent reaches one. Days are UTC days.
 */
import type { DailyBudget, OperatorLimits, RepoLimits } from '../limits-config.js';

export interface SessionLimits {
  turnMinutes: number;
  stallMinutes: number;
  /** Per session (since the last `/agent retry`). */
  costUsd?: number | undefined;
  turns?: number | undefined;
  agentMinutes?: number | undefined;
  perRepositoryPerDay: DailyBudget;
  perInstallationPerDay: DailyBudget;
}

/** What has been spent: money, turns, and the agents' time. */
export interface Spend {
  costUsd: number;
  turns: number;
  agentSeconds: number;
}

export interface BudgetFacts {
  /** The session's spend since its budget last started over (creation, or `/agent retry`). */
  session: Spend;
  /** Today's (UTC) spend of the session's repository and installation, every session's turns. */
  repositoryToday: Omit<Spend, 'agentSeconds'>;
  installationToday: Omit<Spend, 'agentSeconds'>;
}

export interface BudgetBreach {
  scope: 'session' | 'repository' | 'installation';
  /** In plain words, for the status comment, the dashboard and the notification. */
  reason: string;
}

/** The lower of two limits, either of which may be unset. */
const lower = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/** The operator's limits, lowered (never raised) by the repository's. */
export function effectiveLimits(operator: OperatorLimits, repo: RepoLimits = {}): SessionLimits {
  return {
    turnMinutes: operator.turnMinutes,
    // A repository may ask for a shorter or longer stall, but never past the turn's own limit.
    stallMinutes: Math.min(repo.stallMinutes ?? operator.stallMinutes, operator.turnMinutes),
    costUsd: lower(operator.costUsd, repo.costUsd),
    turns: lower(operator.turns, repo.turns),
    agentMinutes: lower(operator.agentMinutes, repo.agentMinutes),
    perRepositoryPerDay: {
      costUsd: lower(operator.perRepositoryPerDay.costUsd, repo.perDay?.costUsd),
      turns: lower(operator.perRepositoryPerDay.turns, repo.perDay?.turns),
    },
    perInstallationPerDay: operator.perInstallationPerDay,
  };
}

const dollars = (n: number) => `$${n.toFixed(2)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The first daily budget the spend has reached, if any. */
export function dailyBreach(
  scope: 'repository' | 'installation',
  spent: Omit<Spend, 'agentSeconds'>,
  budget: DailyBudget,
  now: Date,
): BudgetBreach | null {
  const day = `${now.toISOString().slice(0, 10)} UTC`;
  const whose = scope === 'repository' ? "this repository's" : "this installation's";
  if (budget.turns !== undefined && spent.turns >= budget.turns)
    return {
      scope,
      reason: `${whose} daily budget of ${plural(budget.turns, 'agent turn')} is used up (${day})`,
    };
  if (budget.costUsd !== undefined && spent.costUsd >= budget.costUsd)
    return {
      scope,
      reason: `${whose} daily budget of ${dollars(budget.costUsd)} is used up (${dollars(spent.costUsd)} on ${day})`,
    };
  return null;
}

/** Before a turn: the first limit the spend has reached, session first, if any. */
export function budgetBreach(
  facts: BudgetFacts,
  limits: SessionLimits,
  now: Date,
): BudgetBreach | null {
  return (
    sessionBreach(facts.session, limits) ??
    dailyBreach('repository', facts.repositoryToday, limits.perRepositoryPerDay, now) ??
    dailyBreach('installation', facts.installationToday, limits.perInstallationPerDay, now)
  );
}

/**
 * The session's own limits: used before a turn (its spend so far), and while one runs (so far
 * plus the running turn's cost and time, which a runner checks as the turn goes on).
 */
export function sessionBreach(
  spent: Spend,
  limits: Pick<SessionLimits, 'costUsd' | 'turns' | 'agentMinutes'>,
): BudgetBreach | null {
  if (limits.costUsd !== undefined && spent.costUsd >= limits.costUsd)
    return {
      scope: 'session',
      reason: `the session's cost limit of ${dollars(limits.costUsd)} is reached (${dollars(spent.costUsd)} spent)`,
    };
  if (limits.turns !== undefined && spent.turns >= limits.turns)
    return {
      scope: 'session',
      reason: `the session's limit of ${plural(limits.turns, 'turn')} is reached`,
    };
  if (limits.agentMinutes !== undefined && spent.agentSeconds >= limits.agentMinutes * 60)
    return {
      scope: 'session',
      reason: `the session's limit of ${plural(limits.agentMinutes, 'minute')} of agent time is reached (${Math.floor(spent.agentSeconds / 60)} used)`,
    };
  return null;
}

/** Midnight UTC of the day `now` is in: where a day's spend starts. */
export function utcDayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}
