/**
 * LifecycleDeps for handler tests: a fake session service that records every call and answers
 * like the real one, a store over an in-memory list of rows, and real Probot Octokits whose
 * requests go to https://api.github.com (intercepted with nock; see github-api.ts).
 */
import pino from 'pino';
import { ProbotOctokit } from 'probot';
import type { z } from 'zod';
import type { Job, Session } from '../../../src/db/schema.js';
import type { LifecycleDeps } from '../../../src/github/lifecycle-deps.js';
import type { Octokit } from '../../../src/github/octokit.js';
import { uncachedRoles } from '../../../src/github/roles.js';
import { operatorConfigSchema } from '../../../src/operator-config.js';
import { deadJobSchema, JOB_DEAD_EVENT } from '../../../src/sessions/dead-job.js';
import { IllegalTransitionError } from '../../../src/sessions/illegal-transition.js';
import type {
  DailySpend,
  LifecycleEvent,
  Transition,
} from '../../../src/sessions/lifecycle-event.js';
import type { SessionService } from '../../../src/sessions/session-service.js';
import { isTerminal } from '../../../src/sessions/session-status.js';
import type { SessionStore } from '../../../src/sessions/session-store.js';
import { unchanged } from '../../../src/sessions/transition-parts.js';

export const REPO = {
  id: 4242,
  fullName: 'octo/widgets',
  cloneUrl: 'https://github.com/octo/widgets.git',
  defaultBranch: 'main',
};
export const INSTALLATION_ID = 77;
export const HEAD_SHA = 'abc1234def5678abc1234def5678abc1234def56';

let sequence = 0;

/** A sessions row with every column of src/db/schema.ts; a live session waiting on a pull request. */
export function session(overrides: Partial<Session> = {}): Session {
  sequence += 1;
  const at = new Date(Date.UTC(2024, 4, 2, 10, 0, sequence));
  return {
    id: `s-test${String(sequence).padStart(8, '0')}`,
    installationId: INSTALLATION_ID,
    repositoryId: REPO.id,
    repositoryFullName: REPO.fullName,
    cloneUrl: REPO.cloneUrl,
    issueNumber: 12,
    prNumber: null,
    branch: null,
    baseBranch: 'main',
    headSha: null,
    agent: 'claude-code',
    profile: null,
    runnerId: null,
    status: 'working',
    statusReason: null,
    workspacePath: null,
    agentSessionRef: null,
    statusCommentId: null,
    triggeredBy: 'alice',
    context: {},
    reactionAttempts: {},
    guards: {},
    costUsd: 0,
    inputTokens: 0,
    outputTokens: 0,
    createdAt: at,
    updatedAt: at,
    endedAt: null,
    ...overrides,
  };
}

/** A jobs row with every column, for running a job handler directly. */
export function job(kind: string, payload: Record<string, unknown>): Job {
  const at = new Date();
  return {
    id: 1,
    kind,
    payload,
    runnerId: null,
    sessionId: typeof payload.sessionId === 'string' ? payload.sessionId : null,
    status: 'running',
    attempts: 1,
    maxAttempts: 8,
    runAt: at,
    lockedBy: 'test-worker',
    leaseExpiresAt: new Date(at.getTime() + 60_000),
    lastError: null,
    createdAt: at,
    updatedAt: at,
    completedAt: null,
  };
}

/** One call to the session service, with its arguments as the handler passed them. */
export type ServiceCall = {
  [M in keyof SessionService]: { method: M; args: Parameters<SessionService[M]> };
}[keyof SessionService];

/** An event on a session's timeline, as the real service would have written it. */
export interface TimelineEvent {
  sessionId: string;
  kind: string;
  data: Record<string, unknown>;
  deliveryId: string | null;
}

/** What a test makes apply answer: parts of the transition, or a throw (IllegalTransitionError). */
export type ApplyAnswer = (session: Session, event: LifecycleEvent) => Partial<Transition>;

export interface FakeLifecycleOptions {
  rows?: Session[];
  operatorConfig?: z.input<typeof operatorConfigSchema>;
  publicUrl?: string;
  /** Today's spend (UTC) the store reports for every repository and installation. */
  spentToday?: DailySpend;
}

export interface FakeLifecycle {
  deps: LifecycleDeps;
  /** The sessions table; the fake service writes to it as the real one would. */
  rows: Session[];
  events: TimelineEvent[];
  calls: ServiceCall[];
  /** The installation ids octokitFor was asked for, in order (undefined: the app itself). */
  octokits: (number | undefined)[];
  /** The outcomes recordStartOutcome was given. */
  starts: { startId: string; outcome: string; sessionId: string | null }[];
  callsTo<M extends keyof SessionService>(method: M): Parameters<SessionService[M]>[];
  /** The events apply was given, in order. */
  applied(): LifecycleEvent[];
  answerApply(answer: ApplyAnswer): void;
  answerCreate(answer: (row: Session) => Session | null): void;
}

const BUILT_IN_AGENTS = ['claude-code', 'codex', 'aider', 'opencode'];

export function octokit(): Octokit {
  return new ProbotOctokit({
    auth: { token: 'test-token' },
    throttle: { enabled: false },
    retry: { enabled: false },
  });
}

export function fakeLifecycle(options: FakeLifecycleOptions = {}): FakeLifecycle {
  const rows = [...(options.rows ?? [])];
  const events: TimelineEvent[] = [];
  const calls: ServiceCall[] = [];
  const octokits: (number | undefined)[] = [];
  const starts: FakeLifecycle['starts'] = [];
  const notices = new Set<string>();
  let answerApply: ApplyAnswer = () => ({});
  let answerCreate = (row: Session): Session | null => row;
  const operatorConfig = operatorConfigSchema.parse(options.operatorConfig ?? {});

  const find = (id: string) => rows.find((r) => r.id === id);
  const write = (id: string, changes: Partial<Session>) => {
    const index = rows.findIndex((r) => r.id === id);
    const written = { ...rows[index]!, ...changes, updatedAt: new Date() };
    rows[index] = written;
    return written;
  };
  const remember = (
    sessionId: string,
    list: Transition['record'],
    deliveryId: string | undefined,
  ) => {
    for (const e of list) events.push({ sessionId, ...e, deliveryId: deliveryId ?? null });
  };
  const call = (c: ServiceCall) => calls.push(c);

  const service: AsyncOf<SessionService> = {
    async create(...args) {
      call({ method: 'create', args });
      const [input, writeOptions] = args;
      // The partial unique index: one live session per issue.
      if (live(rows).some((r) => sameIssue(r, input.repositoryId, input.issueNumber))) return null;
      const row = answerCreate(session({ ...defined(input), status: 'queued' }));
      if (!row) return null;
      rows.push(row);
      remember(row.id, [{ kind: 'created', data: {} }], writeOptions?.deliveryId);
      return row;
    },
    async apply(...args) {
      call({ method: 'apply', args });
      const [sessionId, event, writeOptions] = args;
      const row = find(sessionId);
      if (!row) throw new IllegalTransitionError(null, event.type, sessionId);
      const transition: Transition = { ...unchanged(row), ...answerApply(row, event) };
      const changed = transition.status !== row.status || Object.keys(transition.changes).length;
      const written = changed
        ? write(sessionId, { ...transition.changes, status: transition.status })
        : row;
      remember(sessionId, transition.record, writeOptions?.deliveryId);
      return { session: written, transition, turn: undefined };
    },
    async record(...args) {
      call({ method: 'record', args });
      const [sessionId, kind, data = {}, writeOptions] = args;
      remember(sessionId, [{ kind, data }], writeOptions?.deliveryId);
    },
    async recordAll(...args) {
      call({ method: 'recordAll', args });
      const [sessionId, list, writeOptions] = args;
      remember(sessionId, list, writeOptions?.deliveryId);
    },
    async notify(...args) {
      call({ method: 'notify', args });
    },
    async touch(...args) {
      call({ method: 'touch', args });
    },
    async enqueueTurn(...args) {
      call({ method: 'enqueueTurn', args });
    },
    async enqueueIntent(...args) {
      call({ method: 'enqueueIntent', args });
      return job('github.intent', args[0] as unknown as Record<string, unknown>);
    },
    async recordAgentRef(...args) {
      call({ method: 'recordAgentRef', args });
      write(args[0], { agentSessionRef: args[1] });
    },
    async claimStatusComment(...args) {
      call({ method: 'claimStatusComment', args });
      const row = find(args[0]);
      if (!row || row.statusCommentId !== null) return false;
      write(row.id, { statusCommentId: 0 });
      return true;
    },
    async setStatusComment(...args) {
      call({ method: 'setStatusComment', args });
      write(args[0], { statusCommentId: args[1] });
    },
  };

  const newestLive = (where: (r: Session) => boolean) => newestFirst(live(rows).filter(where))[0];
  const store: AsyncOf<SessionStore> = {
    async find(id) {
      return find(id);
    },
    async liveOnIssue(repositoryId, issueNumber) {
      return newestLive((r) => sameIssue(r, repositoryId, issueNumber));
    },
    async liveOnPullRequest(repositoryId, prNumber) {
      return newestLive((r) => r.repositoryId === repositoryId && r.prNumber === prNumber);
    },
    async liveOnBranch(repositoryId, branch) {
      return newestLive((r) => r.repositoryId === repositoryId && r.branch === branch);
    },
    async latestOnIssue(repositoryId, issueNumber) {
      return newestFirst(rows.filter((r) => sameIssue(r, repositoryId, issueNumber)))[0];
    },
    async onCommit(repositoryId, headSha, prNumbers) {
      return rows.filter(
        (r) =>
          r.repositoryId === repositoryId &&
          (r.headSha === headSha ||
            (r.prNumber !== null && prNumbers.includes(r.prNumber) && r.headSha !== null)),
      );
    },
    async liveWithPullRequestOn(repositoryId, baseBranch, limit) {
      return live(rows)
        .filter((r) => r.repositoryId === repositoryId && r.baseBranch === baseBranch && r.prNumber)
        .slice(0, limit);
    },
    async liveCount(repositoryId) {
      return live(rows).filter((r) => r.repositoryId === repositoryId).length;
    },
    async liveAmong(ids) {
      return new Set(
        live(rows)
          .filter((r) => ids.includes(r.id))
          .map((r) => r.id),
      );
    },
    async createdBy(sessionId, deliveryId) {
      return events.some(
        (e) => e.sessionId === sessionId && e.kind === 'created' && e.deliveryId === deliveryId,
      );
    },
    async lastAgentResult(sessionId, turnNumber) {
      return events.findLast(
        (e) => e.sessionId === sessionId && e.kind === 'agent.result' && e.data.turn === turnNumber,
      )?.data;
    },
    async lastReaction(sessionId) {
      const e = events.findLast((e) => e.sessionId === sessionId && e.kind === 'reaction');
      return e ? { key: String(e.data.key), action: String(e.data.action) } : undefined;
    },
    async deadJobSince(session) {
      // The fake's timeline has no times: the newest job-dead event is taken as recent.
      const e = events.findLast((e) => e.sessionId === session.id && e.kind === JOB_DEAD_EVENT);
      return e ? deadJobSchema.parse(e.data) : undefined;
    },
    async spentToday() {
      const none = { costUsd: 0, turns: 0 };
      return options.spentToday ?? { repositoryToday: none, installationToday: none };
    },
  };

  const deps: LifecycleDeps = {
    sessions: service,
    // Drizzle's queries are thenables with builder methods; handlers only await them.
    store: store as unknown as SessionStore,
    async octokitFor(installationId) {
      octokits.push(installationId);
      return octokit();
    },
    operatorConfig,
    // Asked of the mocked GitHub every time, so each test's nock mocks say who has which role.
    roles: uncachedRoles,
    log: pino({ level: 'silent' }),
    publicUrl: options.publicUrl,
    isAgent: (name) => BUILT_IN_AGENTS.includes(name) || Object.hasOwn(operatorConfig.agents, name),
    async firstNotice(key) {
      if (notices.has(key)) return false;
      notices.add(key);
      return true;
    },
    async recordStartOutcome(startId, outcome, sessionId) {
      starts.push({ startId, outcome, sessionId });
    },
  };

  return {
    deps,
    rows,
    events,
    calls,
    octokits,
    starts,
    callsTo: <M extends keyof SessionService>(method: M) =>
      calls.filter((c) => c.method === method).map((c) => c.args as Parameters<SessionService[M]>),
    applied: () => calls.flatMap((c) => (c.method === 'apply' ? [c.args[1]] : [])),
    answerApply(answer) {
      answerApply = answer;
    },
    answerCreate(answer) {
      answerCreate = answer;
    },
  };
}

/** The interface with every method async, its arguments and results as the real one's. */
type AsyncOf<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : T[K];
};

const live = (rows: Session[]) => rows.filter((r) => !isTerminal(r.status));
const newestFirst = (rows: Session[]) =>
  [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
const sameIssue = (r: Session, repositoryId: number, issueNumber: number) =>
  r.repositoryId === repositoryId && r.issueNumber === issueNumber;

/** The keys whose values are set (an insert's optional columns are left to their defaults). */
function defined<T extends object>(input: T): Partial<Session> {
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== undefined),
  ) as Partial<Session>;
}
