import type { Session } from '../db/schema.js';
import { fetchApprovalState } from './approval-state.js';
import { isApprovedAndGreen } from './approved-and-green.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import type { Octokit } from './octokit.js';
import { react } from './react.js';

/** After an approval or a green CI result: the approved-and-green reaction, once both hold. */
export async function reactWhenApprovedAndGreen(
  deps: Pick<LifecycleDeps, 'sessions' | 'octokitFor' | 'operatorConfig' | 'roles'>,
  octokit: Octokit,
  session: Session,
  deliveryId: string,
): Promise<string> {
  const state = await fetchApprovalState(deps, octokit, session);
  if (!state || !isApprovedAndGreen(state)) return 'not-yet-approved-and-green';
  await react(deps, session, {
    key: 'approved-and-green',
    headSha: session.headSha ?? undefined,
    deliveryId,
  });
  return 'approved-and-green';
}
