import type { SessionStatus } from '../db/schema.js';
import type { RepoConfig } from './repo-config.js';
import { isTerminal } from './session-status.js';

export const REACTION_KEYS = [
  'changes-requested',
  'ci-failed',
  'approved-and-green',
  'merge-conflict',
  'merged',
  'pr-closed',
  'issue-closed',
  'agent-failed',
  'agent-stuck',
] as const;
export type ReactionKey = (typeof REACTION_KEYS)[number];

/** What the runner reports about a turn it ran, as the turn leaves the session needing a human. */
const RUNNER_KEYS = new Set<ReactionKey>(['agent-failed', 'agent-stuck']);
export const isRunnerKey = (key: ReactionKey) => RUNNER_KEYS.has(key);

export type ReactionAction =
  | 'send-to-agent'
  | 'notify'
  | 'auto-merge'
  | 'cleanup'
  | 'stop'
  | 'ignore';

export interface ReactionRule {
  action: ReactionAction;
  /** For send-to-agent: attempts before the session needs a human. */
  retries: number;
  mergeMethod: 'merge' | 'squash' | 'rebase';
  message?: string | undefined;
}

/** DESIGN.md's reaction table; a repository overrides any row in `.github/agent.yml`. */
export const DEFAULT_REACTIONS: Record<ReactionKey, ReactionRule> = {
  'changes-requested': { action: 'send-to-agent', retries: 3, mergeMethod: 'squash' },
  'ci-failed': { action: 'send-to-agent', retries: 3, mergeMethod: 'squash' },
  'approved-and-green': { action: 'notify', retries: 0, mergeMethod: 'squash' },
  'merge-conflict': { action: 'send-to-agent', retries: 3, mergeMethod: 'squash' },
  merged: { action: 'cleanup', retries: 0, mergeMethod: 'squash' },
  'pr-closed': { action: 'stop', retries: 0, mergeMethod: 'squash' },
  'issue-closed': { action: 'stop', retries: 0, mergeMethod: 'squash' },
  'agent-failed': { action: 'notify', retries: 0, mergeMethod: 'squash' },
  // A stuck turn (past its time limit, or stalled) gets one more try before a human is told.
  'agent-stuck': {
    action: 'send-to-agent',
    retries: 1,
    mergeMethod: 'squash',
    message:
      'Your last turn was stopped: it ran past its time limit, or made no progress (no output and no file change) for too long. Carry on from where you left off, in smaller steps, and commit as you go.',
  },
};

export function ruleFor(key: ReactionKey, config: Pick<RepoConfig, 'reactions'>): ReactionRule {
  const override = config.reactions[key];
  const base = DEFAULT_REACTIONS[key];
  return {
    action: override?.action ?? base.action,
    retries: override?.retries ?? base.retries,
    mergeMethod: override?.mergeMethod ?? base.mergeMethod,
    message: override?.message ?? base.message,
  };
}

export interface SessionView {
  status: SessionStatus;
  headSha: string | null;
  reactionAttempts: Record<string, number>;
}

export interface ReactionEvent {
  key: ReactionKey;
  /** The commit the event is about (CI results, reviews); older than the session's head is stale. */
  headSha?: string | undefined;
}

/** What to do about an event, and the session's next state; nothing here performs it. */
export type Decision =
  | {
      do: 'ignore';
      reason: 'terminal-session' | 'stale-head' | 'configured-ignore' | 'awaiting-human';
    }
  | {
      do: Exclude<ReactionAction, 'ignore'>;
      rule: ReactionRule;
      /** The attempts after this event, to store. */
      attempts: Record<string, number>;
      /** The status to move to, when it changes. */
      status?: SessionStatus | undefined;
    }
  | { do: 'escalate'; rule: ReactionRule; attempts: Record<string, number>; status: 'needs_human' };

/**
 * The reaction rules: a pure function of the session, the event and the repository's config.
 * Sending to the agent counts an attempt for that key; past its retries the session needs a
 * human instead (escalate), until a human's command resets the counts.
 */
export function decide(
  session: SessionView,
  event: ReactionEvent,
  config: Pick<RepoConfig, 'reactions'>,
): Decision {
  if (isTerminal(session.status)) return { do: 'ignore', reason: 'terminal-session' };
  if (event.headSha && session.headSha && event.headSha !== session.headSha) {
    return { do: 'ignore', reason: 'stale-head' };
  }
  const rule = ruleFor(event.key, config);
  if (rule.action === 'ignore') return { do: 'ignore', reason: 'configured-ignore' };

  const attempts = { ...session.reactionAttempts };
  if (rule.action === 'send-to-agent') {
    // A session waiting for a human gets no automatic messages, and is not escalated again.
    // (The runner's own reports are the exception: they arrive as the turn puts the session there.)
    if (session.status === 'needs_human' && !RUNNER_KEYS.has(event.key))
      return { do: 'ignore', reason: 'awaiting-human' };
    const next = (attempts[event.key] ?? 0) + 1;
    attempts[event.key] = next;
    if (next > rule.retries) return { do: 'escalate', rule, attempts, status: 'needs_human' };
  }
  const ends = rule.action === 'cleanup' || rule.action === 'stop';
  const status: SessionStatus | undefined =
    event.key === 'merged' && ends
      ? 'merged'
      : ends
        ? 'closed'
        : rule.action === 'notify' && (event.key === 'agent-failed' || event.key === 'agent-stuck')
          ? 'needs_human'
          : undefined;
  return { do: rule.action, rule, attempts, status };
}
