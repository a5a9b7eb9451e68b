/**
 * The vocabulary of the session state machine: what can happen to a session (the events), what a
 * session looks like to the machine (the snapshot), and what the machine answers (a transition).
 */
import type { Session, Turn } from '../db/schema.js';
import type { NewJob } from '../jobs/queue.js';
import type { BudgetFacts } from './budget.js';
import type { ReactionKey } from './reactions.js';
import type { SessionStatus, TerminalStatus } from './session-status.js';

/** What a turn came to, as the runner's classifier puts it. */
export type TurnVerdict =
  | { kind: 'ok' }
  /** The agent exited non-zero, or ran past its time limit: the reaction rules hear of it. */
  | { kind: 'agent-failed' | 'agent-stuck'; reason: string }
  /** The runner could not finish the turn's work (its push failed). */
  | { kind: 'needs-human'; reason: string }
  /** The session reached one of its budgets (before or during the turn): a human decides. */
  | { kind: 'over-budget'; reason: string };

export interface TurnUsage {
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

export type LifecycleEvent =
  /** A trigger made the session (its row is inserted with the status this gives). */
  | { type: 'created'; sessionId: string; triggeredBy: string; agent: string }
  /** A runner took the spawn job and makes the workspace. */
  | { type: 'spawn-started'; runnerId: string; branch: string; baseBranch: string }
  | { type: 'workspace-ready'; path: string; headSha: string; baseSha: string }
  /** The agent cannot start: unknown agent, program missing, a setup command failed. */
  | { type: 'spawn-failed'; reason: string }
  /** A runner wants to run the session's next turn (the first, or one for queued messages). */
  | { type: 'turn-chosen'; first: boolean; runnerId: string; stateDir: string }
  | {
      type: 'turn-finished';
      turn: number;
      verdict: TurnVerdict;
      usage: TurnUsage;
      /** The worktree's head after the turn, when it could be read. */
      headSha?: string | undefined;
      /** The pull request the turn opened (or found). */
      prNumber?: number | undefined;
      /** Whether the turn changed any file (a commit, or changes left to commit). */
      changed?: boolean | undefined;
      /** How long the agent ran. */
      seconds?: number | undefined;
    }
  | {
      type: 'stop-requested';
      status: TerminalStatus;
      reason: string;
      cleanup: boolean;
      /** Who stopped it: a login, `api`, `dashboard`. */
      by: string;
    }
  /** The runner stopped the session's turn and cleaned up: the session is over. */
  | { type: 'ended'; status: TerminalStatus; reason: string; cleanedUp: boolean }
  /**
   * Something happened that the reaction rules decide on (`decide` runs on the locked row). For
   * send-to-agent, body is what the agent is told; an empty body sends nothing.
   */
  | {
      type: 'reaction';
      key: ReactionKey;
      headSha?: string | undefined;
      body?: string;
      /** Whose action it was (the webhook's sender), kept on a stop it causes. */
      by?: string | undefined;
      /** A CI failure's signature (sessions/guards.ts): the same one after a turn escalates. */
      signature?: string | undefined;
    }
  /** A message for the agent: it becomes the next turn. Automated ones (bots) are counted. */
  | { type: 'message'; body: string; source: string; automated?: boolean | undefined }
  /** A human's command: the reaction counts start over. */
  | { type: 'human-command'; by: string }
  | { type: 'retry'; by: string }
  | { type: 'pr-linked'; kind: 'pr-opened' | 'pr-updated'; prNumber: number; headSha: string }
  /** The session's runner is gone: another (or any, when null) makes the workspace again. */
  | { type: 'takeover'; from: string; runnerId: string | null }
  /** The session is `working` but nothing has run it for longer than a turn may take. */
  | { type: 'reconcile'; idleMinutes: number };

export type LifecycleEventType = LifecycleEvent['type'];
export type EventOf<T extends LifecycleEventType> = Extract<LifecycleEvent, { type: T }>;

/** What the machine needs to know of a session's turns, for the events that choose them. */
export interface TurnFacts {
  /** The highest turn number so far; null before the first turn. */
  last: number | null;
  /** A turn that has not finished (found again after a restart). */
  unfinished: Turn | null;
  /** Messages queued for the agent and not yet delivered, oldest first. */
  pending: { id: number }[];
}

/** Today's (UTC) spend of the session's repository and installation, for choosing a turn. */
export type DailySpend = Pick<BudgetFacts, 'repositoryToday' | 'installationToday'>;

/** The session row as the machine sees it, with the facts the event needs. */
export type SessionSnapshot = Session & {
  turns?: TurnFacts | undefined;
  daily?: DailySpend | undefined;
};

/** The columns a transition writes besides the status. */
export type SessionChanges = Partial<
  Pick<
    Session,
    | 'statusReason'
    | 'runnerId'
    | 'branch'
    | 'baseBranch'
    | 'workspacePath'
    | 'headSha'
    | 'prNumber'
    | 'reactionAttempts'
    | 'costUsd'
    | 'inputTokens'
    | 'outputTokens'
    | 'context'
    | 'guards'
    | 'endedAt'
  >
>;

/** A new turn to insert: its number, where its log goes, and the messages it delivers. */
export interface TurnPlan {
  number: number;
  runnerId: string;
  logPath: string;
  messageIds: number[];
}

/** What follows an event: the next status, what to write, record and enqueue. Nothing done yet. */
export interface Transition {
  status: SessionStatus;
  changes: SessionChanges;
  /** Events for the session's timeline, in order. */
  record: { kind: string; data: Record<string, unknown> }[];
  /** Jobs to enqueue with the change (a status-comment job is kept to one pending per session). */
  enqueue: NewJob[];
  /** Messages to queue for the agent. */
  messages: { body: string; source: string }[];
  /** Sources whose queued, undelivered messages the new ones replace (an older head's CI). */
  dropPending?: string[] | undefined;
  /** The turn to run: an unfinished one again, or a new one. */
  turn?: { resume: Turn } | { start: TurnPlan } | undefined;
  /** Why nothing changed, when nothing did (a stale job, nothing pending, already ended). */
  ignored?: string | undefined;
}
