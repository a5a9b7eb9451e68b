import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { and, asc, desc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database, Executor } from '../db/client.js';
import { type Session, sessionMessages, sessions, type Turn, turns } from '../db/schema.js';
import { DEFAULT_REPO_CONFIG, type RepoConfig, repoConfigSchema } from '../github/repo-config.js';
import type { JobContext, JobHandler } from '../jobs/worker.js';
import type { TurnMetrics } from '../metrics/metrics.js';
import type { OperatorConfig } from '../operator-config.js';
import { isTerminal, JOB_KINDS, type SessionService } from '../sessions/session-service.js';
import type { AgentAdapter, AgentProfile, TurnCommand } from './adapters/adapter.js';
import { agentEnvironment } from './agent-env.js';
import { findBinary } from './find-binary.js';
import { assertSessionId, branchName } from './names.js';
import { buildMessage, buildPrompt, type IssueSnapshot } from './prompt.js';
import type { RunnerGitHub } from './runner-github.js';
import type { RunningTurn, Runtime, TurnHandle, TurnSpec } from './runtimes/runtime.js';
import { runSetupCommands } from './setup-commands.js';
import { type TurnOutcome, watchTurn } from './turn-watch.js';
import type { Workspaces } from './workspaces.js';

export interface SessionJobsDeps {
  database: Database;
  sessionService: SessionService;
  workspaces: Workspaces;
  runtime: Runtime;
  /** Adapter for an agent name (built-in or operator-defined); undefined when unknown. */
  adapterFor(name: string): AgentAdapter | undefined;
  github: RunnerGitHub;
  operatorConfig: OperatorConfig;
  runnerId: string;
  /** Where prompts, turn logs and exit files live: `<WORKSPACE_ROOT>/state/<session id>`. */
  stateRoot: string;
  /** The agents' HOME, shared by this runner's agents so they can resume their own sessions. */
  agentHome: string;
  /** The app's environment; agents get an allow-listed part of it. */
  env: Record<string, string | undefined>;
  log: Logger;
  /** Told of each turn this runner sees finish. */
  metrics?: TurnMetrics | undefined;
}

/** What the session's context column holds: the issue and config as they were at trigger time. */
interface SessionContext {
  issue?: IssueSnapshot;
  config?: Partial<RepoConfig>;
}

/**
 * The runner's job handlers. A turn job holds its worker slot while the agent runs, which is how
 * MAX_SESSIONS caps running sessions; turn jobs for one session never overlap (the session row
 * is locked while a turn is chosen, and a unique index allows one unfinished turn).
 */
export function createSessionJobs(deps: SessionJobsDeps) {
  const { database, sessionService, workspaces, runtime, github, runnerId, log } = deps;
  const { db } = database;
  /** Turns this process is running or watching, by session id. */
  const active = new Map<string, RunningTurn>();
  /** Sessions a job of this process is working on; another job for one of them leaves it be. */
  const busy = new Set<string>();
  /** Sessions whose jobs were turned away while busy: their owner looks again when done. */
  const turnedAway = new Set<string>();

  /** Runs fn unless another job of this process already works on the session. */
  async function exclusively(sessionId: string, fn: () => Promise<void>): Promise<void> {
    if (busy.has(sessionId)) {
      turnedAway.add(sessionId);
      return;
    }
    busy.add(sessionId);
    try {
      await fn();
    } finally {
      busy.delete(sessionId);
      // A message may have arrived after the owner last looked: one more turn job finds it.
      if (turnedAway.delete(sessionId))
        await sessionService.enqueueTurn(db, { id: sessionId, runnerId });
    }
  }

  const stateDir = (sessionId: string) => path.join(deps.stateRoot, assertSessionId(sessionId));
  const configOf = (session: Session): RepoConfig =>
    repoConfigSchema.parse({
      ...DEFAULT_REPO_CONFIG,
      ...((session.context as SessionContext).config ?? {}),
    });

  async function load(sessionId: string): Promise<Session | undefined> {
    const [row] = await db.select().from(sessions).where(eq(sessions.id, sessionId));
    return row;
  }

  async function update(sessionId: string, values: Partial<Session>, tx: Executor = db) {
    await tx
      .update(sessions)
      .set({ ...values, updatedAt: sql`now()` })
      .where(eq(sessions.id, sessionId));
    if (values.status || values.prNumber || values.branch)
      await sessionService.touch(tx, sessionId);
  }

  function profileOf(
    session: Session,
    config: RepoConfig,
  ): { agent: string; profile: AgentProfile } {
    const named = session.profile ? deps.operatorConfig.profiles[session.profile] : undefined;
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

  function environmentFor(adapter: AgentAdapter, command: TurnCommand): Record<string, string> {
    return agentEnvironment({
      from: deps.env,
      home: deps.agentHome,
      pass: [...adapter.passEnv, ...deps.operatorConfig.env.pass],
      set: { ...deps.operatorConfig.env.set, ...command.env },
    });
  }

  function specFor(
    session: Session,
    turn: Turn,
    command: TurnCommand,
    env: Record<string, string>,
  ): TurnSpec {
    return {
      sessionId: session.id,
      turnId: turn.id,
      argv: command.argv,
      env,
      cwd: session.workspacePath!,
      logFile: turn.logPath,
      exitFile: turn.logPath.replace(/\.log$/, '.exit'),
      stdinFile: command.stdinFile,
      timeoutMs: deps.operatorConfig.limits.turnMinutes * 60_000,
    };
  }

  /** Tells the issue, in plain words, when something stops the session before the agent works. */
  async function needsHuman(session: Session, reason: string, comment: string) {
    // Comment first: whoever watches the status sees the explanation already posted.
    if (session.installationId) {
      await github
        .commentOnIssue({
          installationId: session.installationId,
          repository: session.repositoryFullName,
          issueNumber: session.issueNumber,
          body: comment,
        })
        .catch((error: unknown) =>
          log.warn({ err: error, sessionId: session.id }, 'could not comment on the issue'),
        );
    }
    await db.transaction(async (tx) => {
      await sessionService.event(tx, session.id, 'needs-human', { reason });
      await update(session.id, { status: 'needs_human', statusReason: reason }, tx);
    });
  }

  /** Runs (or re-adopts) one turn and applies its outcome; returns early if the job was taken away. */
  async function runTurn(
    session: Session,
    turn: Turn,
    command: TurnCommand,
    adapter: AgentAdapter,
    context: JobContext,
  ) {
    const spec = specFor(session, turn, command, environmentFor(adapter, command));
    context.log.debug({ turn: turn.number, adopting: Boolean(turn.handle) }, 'running turn');
    let running: RunningTurn | undefined = active.get(session.id);
    let finishedEarlier: TurnOutcome | undefined;
    if (!running && turn.handle) {
      const adopted = await runtime.adopt(spec, turn.handle as unknown as TurnHandle);
      if ('done' in adopted) running = adopted;
      else finishedEarlier = { ...adopted, events: undefined };
      await sessionService.event(db, session.id, 'turn-adopted', {
        turn: turn.number,
        alive: Boolean(running),
      });
    }
    if (!running && !finishedEarlier) {
      await workspaces.ready(session.id); // an overlay unmounted by a reboot is mounted again
      running = await runtime.start(spec);
      await db
        .update(turns)
        .set({ status: 'running', handle: running.handle as unknown as Record<string, unknown> })
        .where(eq(turns.id, turn.id));
      await sessionService.event(db, session.id, 'turn-started', {
        turn: turn.number,
        argv0: spec.argv[0],
      });
    }
    if (running) active.set(session.id, running);

    const outcome = await watchTurn({
      database,
      sessionService,
      session,
      turn,
      adapter,
      running,
      finished: finishedEarlier,
      signal: context.signal,
    });
    if (outcome === 'detached') return; // shutting down or lease lost: the turn runs on, to be adopted
    active.delete(session.id);
    await afterTurn(session, turn, outcome);
  }

  async function afterTurn(session: Session, turn: Turn, outcome: TurnOutcome) {
    const config = configOf(session);
    const failed = outcome.stopped
      ? null
      : outcome.timedOut
        ? 'agent-stuck'
        : outcome.exitCode !== 0
          ? 'agent-failed'
          : null;
    const result = outcome.events;
    const turnOutcome = outcome.stopped ? 'stopped' : (failed ?? 'ok');
    const [finished] = await db
      .update(turns)
      .set({
        status: 'finished',
        exitCode: outcome.exitCode,
        outcome: turnOutcome,
        summary: result?.summary ?? null,
        costUsd: result?.costUsd ?? 0,
        endedAt: sql`now()`,
      })
      .where(and(eq(turns.id, turn.id), ne(turns.status, 'finished')))
      .returning({ startedAt: turns.startedAt, endedAt: turns.endedAt });
    // Only the process that marks the turn finished counts it, so it is counted once.
    if (finished?.endedAt) {
      deps.metrics?.turnFinished({
        agent: profileOf(session, config).agent,
        outcome: turnOutcome,
        seconds: (finished.endedAt.getTime() - finished.startedAt.getTime()) / 1000,
        costUsd: result?.costUsd ?? 0,
        inputTokens: result?.inputTokens ?? 0,
        outputTokens: result?.outputTokens ?? 0,
      });
    }
    await sessionService.event(db, session.id, 'turn-finished', {
      turn: turn.number,
      exitCode: outcome.exitCode,
      timedOut: outcome.timedOut,
      stopped: outcome.stopped,
      costUsd: result?.costUsd ?? 0,
    });
    if (outcome.stopped) return; // the stop job ends the session

    const current = (await load(session.id))!;
    const values: Partial<Session> = {
      costUsd: current.costUsd + (result?.costUsd ?? 0),
      inputTokens: current.inputTokens + (result?.inputTokens ?? 0),
      outputTokens: current.outputTokens + (result?.outputTokens ?? 0),
    };
    let problem: { reason: string; comment?: string } | null = failed
      ? {
          reason:
            failed === 'agent-stuck'
              ? `turn ${turn.number} exceeded its time limit`
              : `turn ${turn.number} exited with status ${outcome.exitCode}`,
        }
      : null;

    try {
      const committed = await workspaces.commitAll({
        sessionId: session.id,
        message: `Agent Orchestrator: changes left uncommitted after turn ${turn.number}\n\nSession ${session.id}, issue #${session.issueNumber}.`,
      });
      if (committed)
        await sessionService.event(db, session.id, 'committed-leftovers', { sha: committed });
      const auth = session.installationId
        ? { token: await github.installationToken(session.installationId) }
        : null;
      const base = (session.context as SessionContext & { baseSha?: string }).baseSha;
      const head = await workspaces.headSha(session.id);
      values.headSha = head;
      if (head !== base) {
        const pushed = await workspaces.push({
          sessionId: session.id,
          repo: { id: session.repositoryId, cloneUrl: session.cloneUrl },
          branch: session.branch!,
          auth,
        });
        if (pushed.pushed)
          await sessionService.event(db, session.id, 'pushed', {
            sha: pushed.headSha,
            branch: session.branch,
          });
        if (!current.prNumber && session.installationId) {
          const pr =
            (await github.findPullRequest({
              installationId: session.installationId,
              repository: session.repositoryFullName,
              branch: session.branch!,
            })) ??
            (await github.openPullRequest({
              installationId: session.installationId,
              repository: session.repositoryFullName,
              branch: session.branch!,
              base: session.baseBranch!,
              title:
                (session.context as SessionContext).issue?.title ??
                `Agent work on #${session.issueNumber}`,
              body: pullRequestBody(session, result?.summary),
              draft: config.draft,
            }));
          values.prNumber = pr.number;
          await sessionService.event(db, session.id, 'pr-opened', {
            number: pr.number,
            url: pr.url,
          });
        }
      } else {
        await sessionService.event(db, session.id, 'no-changes', { turn: turn.number });
      }
    } catch (error) {
      log.error({ err: error, sessionId: session.id }, 'pushing the turn failed');
      problem ??= { reason: `pushing turn ${turn.number} failed: ${(error as Error).message}` };
    }

    const limit = deps.operatorConfig.limits.costUsd;
    if (!problem && limit !== undefined && (values.costUsd ?? 0) >= limit) {
      problem = { reason: `cost limit of $${limit} reached ($${values.costUsd?.toFixed(2)})` };
    }

    await db.transaction(async (tx) => {
      const locked = await sessionService.lockLive(tx, session.id);
      if (!locked) return;
      await update(
        session.id,
        {
          ...values,
          status: problem ? 'needs_human' : 'waiting',
          statusReason: problem?.reason ?? null,
        },
        tx,
      );
      if (problem) {
        await sessionService.event(tx, session.id, failed ?? 'needs-human', {
          reason: problem.reason,
        });
        // agent-failed and agent-stuck go to the reaction rules, which notify by default.
        if (failed) await sessionService.react(tx, session.id, failed, problem.reason);
        return;
      }
      const pending = await sessionService.pendingMessages(tx, session.id);
      if (pending.length > 0) await sessionService.enqueueTurn(tx, { id: session.id, runnerId });
    });
  }

  /**
   * Picks the session's turn to run under a row lock: the unfinished one (after a restart), or a
   * new one for the queued messages. Returns null when there is nothing to do now.
   */
  async function chooseTurn(sessionId: string, first: { prompt: string } | null) {
    return db.transaction(async (tx) => {
      const session = await sessionService.lockLive(tx, sessionId);
      if (!session) return null;
      const [unfinished] = await tx
        .select()
        .from(turns)
        .where(and(eq(turns.sessionId, sessionId), ne(turns.status, 'finished')));
      if (unfinished) return { session, turn: unfinished, resumed: true, messageFile: null };
      const [last] = await tx
        .select({ number: turns.number })
        .from(turns)
        .where(eq(turns.sessionId, sessionId))
        .orderBy(desc(turns.number))
        .limit(1);
      const number = (last?.number ?? 0) + 1;
      const dir = stateDir(sessionId);
      let messageFile: string | null = null;
      if (first) {
        if (last) return null; // the first turn already ran: an old spawn job
        messageFile = path.join(dir, 'prompt.md');
        writeFileSync(messageFile, first.prompt);
      } else {
        if (!last || !['waiting', 'needs_human'].includes(session.status)) return null; // spawn delivers
        const pending = await tx
          .select()
          .from(sessionMessages)
          .where(and(eq(sessionMessages.sessionId, sessionId), isNull(sessionMessages.turnId)))
          .orderBy(asc(sessionMessages.id));
        if (pending.length === 0) return null;
        messageFile = path.join(dir, `message-${number}.md`);
        writeFileSync(messageFile, buildMessage(pending));
        const [turn] = await tx
          .insert(turns)
          .values({ sessionId, number, runnerId, logPath: path.join(dir, `turn-${number}.log`) })
          .returning();
        await tx
          .update(sessionMessages)
          .set({ turnId: turn!.id })
          .where(
            inArray(
              sessionMessages.id,
              pending.map((m) => m.id),
            ),
          );
        await update(sessionId, { status: 'working', statusReason: null }, tx);
        await sessionService.event(tx, sessionId, 'messages-delivered', {
          turn: number,
          count: pending.length,
        });
        return {
          session: { ...session, status: 'working' as const },
          turn: turn!,
          resumed: false,
          messageFile,
        };
      }
      const [turn] = await tx
        .insert(turns)
        .values({ sessionId, number, runnerId, logPath: path.join(dir, `turn-${number}.log`) })
        .returning();
      await update(sessionId, { status: 'working' }, tx);
      return {
        session: { ...session, status: 'working' as const },
        turn: turn!,
        resumed: false,
        messageFile,
      };
    });
  }

  function commandFor(
    adapter: AgentAdapter,
    session: Session,
    turn: Turn,
    messageFile: string | null,
  ): TurnCommand {
    const { profile } = profileOf(session, configOf(session));
    const dir = stateDir(session.id);
    if (turn.number === 1) {
      return adapter.firstTurn({
        workdir: session.workspacePath!,
        promptFile: messageFile ?? path.join(dir, 'prompt.md'),
        profile,
      });
    }
    return adapter.nextTurn({
      workdir: session.workspacePath!,
      messageFile: messageFile ?? path.join(dir, `message-${turn.number}.md`),
      sessionRef: session.agentSessionRef,
      profile,
    });
  }

  type Chosen = NonNullable<Awaited<ReturnType<typeof chooseTurn>>>;
  function runChosen(chosen: Chosen, adapter: AgentAdapter, context: JobContext) {
    const command = commandFor(adapter, chosen.session, chosen.turn, chosen.messageFile);
    return runTurn(chosen.session, chosen.turn, command, adapter, context);
  }

  const spawnJob: JobHandler = (job, context) =>
    exclusively(String(job.payload.sessionId), () => spawn(String(job.payload.sessionId), context));

  async function spawn(sessionId: string, context: JobContext) {
    let session = await load(sessionId);
    if (!session || isTerminal(session.status)) return;
    const config = configOf(session);
    const { agent } = profileOf(session, config);
    const adapter = deps.adapterFor(agent);
    const issue = (session.context as SessionContext).issue;
    const branch =
      session.branch ??
      branchName(config.branchPrefix, session.issueNumber, issue?.title ?? 'issue');
    const baseBranch = session.baseBranch ?? config.baseBranch ?? 'main';
    const dir = stateDir(sessionId);
    mkdirSync(dir, { recursive: true });
    mkdirSync(deps.agentHome, { recursive: true });

    if (!session.workspacePath) {
      await update(sessionId, { status: 'spawning', runnerId, branch, baseBranch });
      await sessionService.event(db, sessionId, 'spawning', { runnerId, branch, baseBranch });
      session = (await load(sessionId))!;
      if (!adapter) {
        await needsHuman(
          session,
          `unknown agent "${agent}"`,
          `I can't start: no agent named \`${agent}\` is configured on this runner. Use one of the built-in agents (claude-code, codex, aider, opencode) or one defined in the operator config.`,
        );
        return;
      }
      const env = environmentFor(adapter, { argv: [], env: {} });
      if (!findBinary(adapter.binary, env.PATH)) {
        await needsHuman(
          session,
          `agent program "${adapter.binary}" not found`,
          `I can't start the \`${agent}\` agent: its program \`${adapter.binary}\` is not installed on the runner (not found on its PATH). An operator needs to install it; then comment \`/agent retry\`.`,
        );
        return;
      }
      const auth = session.installationId
        ? { token: await github.installationToken(session.installationId) }
        : null;
      const workspace = await workspaces.create({
        sessionId,
        repo: { id: session.repositoryId, cloneUrl: session.cloneUrl },
        baseBranch,
        branch,
        auth,
      });
      const setupFailure = await runSetupCommands({
        commands: config.setup,
        cwd: workspace.path,
        env,
        logFile: path.join(dir, 'setup.log'),
        timeoutMs: deps.operatorConfig.limits.setupMinutes * 60_000,
        signal: context.signal,
      });
      await update(sessionId, {
        workspacePath: workspace.path,
        headSha: workspace.headSha,
        context: { ...session.context, baseSha: workspace.baseSha },
      });
      session = (await load(sessionId))!;
      await sessionService.event(db, sessionId, 'workspace-ready', {
        path: workspace.path,
        baseSha: workspace.baseSha,
      });
      if (setupFailure) {
        const what = setupFailure.timedOut
          ? 'ran out of time'
          : `exited with status ${setupFailure.exitCode}`;
        await needsHuman(
          session,
          `setup command failed: ${setupFailure.command}`,
          `The setup command \`${setupFailure.command}\` ${what}, so the agent did not start. Its output is in the runner's setup log for session \`${sessionId}\`. Fix the command in \`.github/agent.yml\`, then comment \`/agent retry\`.`,
        );
        return;
      }
    }
    if (!adapter) return;

    const prompt = buildPrompt({
      issue: issue ?? {
        repository: session.repositoryFullName,
        number: session.issueNumber,
        title: '',
        body: '',
        comments: [],
      },
      branch: session.branch!,
      baseBranch: session.baseBranch!,
      instructions: [profileOf(session, config).profile.instructions ?? ''],
    });
    const chosen = await chooseTurn(sessionId, { prompt });
    if (!chosen) return;
    await runChosen(chosen, adapter, context);
  }

  const turnJob: JobHandler = (job, context) =>
    exclusively(String(job.payload.sessionId), () =>
      nextTurn(String(job.payload.sessionId), context),
    );

  async function nextTurn(sessionId: string, context: JobContext) {
    const chosen = await chooseTurn(sessionId, null);
    if (!chosen) return;
    const { agent } = profileOf(chosen.session, configOf(chosen.session));
    const adapter = deps.adapterFor(agent);
    if (!adapter) return;
    await runChosen(chosen, adapter, context);
  }

  const stopJob: JobHandler = async (job) => {
    const sessionId = String(job.payload.sessionId);
    const session = await load(sessionId);
    if (!session || isTerminal(session.status)) return;
    const status = job.payload.status as 'stopped' | 'closed' | 'merged' | 'failed';
    const reason = String(job.payload.reason ?? 'stopped');
    const [unfinished] = await db
      .select()
      .from(turns)
      .where(and(eq(turns.sessionId, sessionId), ne(turns.status, 'finished')));
    const running = active.get(sessionId);
    if (running) {
      await running.stop();
    } else if (unfinished?.handle) {
      const adopted = await runtime.adopt(
        {
          sessionId,
          turnId: unfinished.id,
          argv: ['true'],
          env: {},
          cwd: session.workspacePath ?? deps.stateRoot,
          logFile: unfinished.logPath,
          exitFile: unfinished.logPath.replace(/\.log$/, '.exit'),
          timeoutMs: 60_000,
        },
        unfinished.handle as unknown as TurnHandle,
      );
      if ('done' in adopted) await adopted.stop();
    }
    if (unfinished) {
      await db
        .update(turns)
        .set({ status: 'finished', outcome: 'stopped', endedAt: sql`now()` })
        .where(and(eq(turns.id, unfinished.id), ne(turns.status, 'finished')));
    }
    if (job.payload.cleanup !== false && session.workspacePath && session.branch) {
      await workspaces.remove({
        sessionId,
        repo: { id: session.repositoryId, cloneUrl: session.cloneUrl },
        branch: session.branch,
      });
    }
    await update(sessionId, { status, statusReason: reason, endedAt: new Date() });
    await sessionService.event(db, sessionId, 'ended', {
      status,
      reason,
      cleanedUp: job.payload.cleanup !== false,
    });
  };

  return {
    handlers: { [JOB_KINDS.spawn]: spawnJob, [JOB_KINDS.turn]: turnJob } as Record<
      string,
      JobHandler
    >,
    controlHandlers: { [JOB_KINDS.stop]: stopJob } as Record<string, JobHandler>,
    /** Session ids whose turns this process is running. */
    activeSessions: () => [...active.keys()],
  };
}

function pullRequestBody(session: Session, summary: string | undefined): string {
  const parts = [`Closes #${session.issueNumber}`];
  if (summary?.trim())
    parts.push(`## Summary from the agent\n\n${summary.trim().slice(0, 20_000)}`);
  parts.push(`---\nOpened by Agent Orchestrator for session \`${session.id}\` (${session.agent}).`);
  return parts.join('\n\n');
}
