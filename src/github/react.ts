import type { Session } from '../db/schema.js';
import { IllegalTransitionError } from '../sessions/illegal-transition.js';
import { decide, type ReactionKey, ruleFor } from '../sessions/reactions.js';
import { configOf } from '../sessions/session-context.js';
import { autoMerge } from './auto-merge.js';
import type { LifecycleDeps } from './lifecycle-deps.js';

export interface ReactionInput {
  key: ReactionKey;
  /** The commit the event is about; a result for an older head is stale. */
  headSha?: string | undefined;
  /**
   * What the agent is told, fetched only when the rules would send it something; a CI failure's
   * comes with its signature, for the repeated-failure guard.
   */
  message?: () => Promise<string | { body: string; signature?: string | undefined }>;
  deliveryId?: string | undefined;
  /** Whose action caused it, kept on a stop it leads to. */
  by?: string | undefined;
}

/**
 * A reaction: the rules decide on the session as it is now (a first look says whether a message
 * must be fetched from GitHub), the state machine applies the decision under the session's lock,
 * and an auto-merge is carried out once that is written.
 */
export async function react(
  deps: Pick<LifecycleDeps, 'sessions' | 'octokitFor'>,
  session: Session,
  input: ReactionInput,
): Promise<void> {
  const { key, headSha } = input;
  const first = decide(session, { key, headSha }, configOf(session));
  const told = first.do === 'send-to-agent' && input.message ? await input.message() : undefined;
  const { body, signature } =
    typeof told === 'string' ? { body: told, signature: undefined } : (told ?? {});
  let applied: Awaited<ReturnType<LifecycleDeps['sessions']['apply']>>;
  try {
    applied = await deps.sessions.apply(
      session.id,
      {
        type: 'reaction',
        key,
        headSha,
        by: input.by,
        signature,
        ...(body !== undefined ? { body } : {}),
      },
      { deliveryId: input.deliveryId },
    );
  } catch (error) {
    if (error instanceof IllegalTransitionError && error.ended) return;
    throw error;
  }
  const reaction = applied.transition.record.find((e) => e.kind === 'reaction');
  if (reaction?.data.action !== 'auto-merge') return;
  await autoMerge(deps, applied.session, ruleFor(key, configOf(session)).mergeMethod);
}
