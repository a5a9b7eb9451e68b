import {
  type Guards,
  guardsSchema,
  type OperatorLimits,
  operatorLimitsSchema,
} from '../limits-config.js';
import { effectiveLimits, type SessionLimits } from './budget.js';
import type { RepoConfig } from './repo-config.js';

/** Everything the state machine decides by: the repository's config, the budgets, the guards. */
export interface SessionRules {
  repo: RepoConfig;
  limits: SessionLimits;
  guards: Guards;
}

/** What the operator sets for every session (ORCHESTRATOR_CONFIG `limits` and `guards`). */
export interface OperatorRules {
  limits: OperatorLimits;
  guards: Guards;
}

export const DEFAULT_OPERATOR_RULES: OperatorRules = {
  limits: operatorLimitsSchema.parse({}),
  guards: guardsSchema.parse({}),
};

/** A session's rules: its repository's config, under the operator's limits and guards. */
export function sessionRules(
  repo: RepoConfig,
  operator: OperatorRules = DEFAULT_OPERATOR_RULES,
): SessionRules {
  return { repo, limits: effectiveLimits(operator.limits, repo.limits), guards: operator.guards };
}
