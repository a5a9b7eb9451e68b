import type { Session } from '../../../db/schema.js';
import type { SessionLimits } from '../../../sessions/budget.js';
import { guardsOf, sessionSpend } from '../../../sessions/guards.js';
import { costAgainst, countAgainst } from './format.js';

/**
 * The session's own spend against its own limits (the operator's, lowered by the repository's
 * config of this session), counted since its budget last started over: rows of its summary.
 */
export function SessionBudget({
  session,
  limits,
}: {
  session: Pick<Session, 'costUsd' | 'guards'>;
  limits: SessionLimits;
}) {
  const spent = sessionSpend(session);
  const since = guardsOf(session).budgetFrom
    ? 'since the last /agent retry'
    : 'since the session started';
  return (
    <>
      <dt>Budget</dt>
      <dd id="session-budget">
        <span class="budget-cost">{costAgainst(spent.costUsd, limits.costUsd)}</span>
        <span class="budget-turns">{countAgainst(spent.turns, limits.turns, 'turn')}</span>
        <span class="budget-minutes">
          {countAgainst(Math.floor(spent.agentSeconds / 60), limits.agentMinutes, 'agent minute')}
        </span>
        <span class="sub muted">{since}</span>
      </dd>
    </>
  );
}
