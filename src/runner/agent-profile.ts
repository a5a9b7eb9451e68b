import type { Session } from '../db/schema.js';
import type { OperatorConfig } from '../operator-config.js';
import type { RepoConfig } from '../sessions/repo-config.js';
import type { AgentProfile } from './adapters/adapter.js';

/**
 * The agent a session runs and how: the operator's profile (when the session names one) picks
 * the agent and model; its instructions follow the repository's.
 */
export function agentProfileOf(
  session: Pick<Session, 'agent' | 'profile'>,
  config: Pick<RepoConfig, 'instructions'>,
  operatorConfig: Pick<OperatorConfig, 'profiles'>,
): { agent: string; profile: AgentProfile } {
  const named = session.profile ? operatorConfig.profiles[session.profile] : undefined;
  const instructions = [config.instructions, named?.instructions].filter(Boolean).join('\n\n');
  return {
    agent: named?.agent ?? session.agent,
    profile: {
      model: named?.model,
      instructions: instructions || undefined,
      mcpConfig: named?.mcpConfig,
    },
  };
}
