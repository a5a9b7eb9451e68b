import { and, desc, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import {
  deliveries,
  notices,
  type Session,
  sessionEvents,
  sessions,
  TERMINAL_SESSION_STATUSES,
} from '../db/schema.js';
import { type JobHandler, RetryLaterError } from '../jobs/worker.js';
import { notifyGitHub, notifySlack, notifyWebhook } from '../notify/index.js';
import type { OperatorConfig } from '../operator-config.js';
import { builtInAdapters } from '../runner/adapters/built-in-adapters.js';
import type { Intent, OperatorStart } from '../sessions/intents.js';
import { type Decision, decide, type ReactionKey } from '../sessions/reactions.js';
import { isTerminal, JOB_KINDS, type SessionService } from '../sessions/session-service.js';
import { buildCiReport } from './ci-report.js';
import { helpText, parseCommand } from './commands.js';
import { type Octokit, splitRepo } from './octokit.js';
import { checkSender } from './permissions.js';
import { DEFAULT_REPO_CONFIG, type RepoConfig, repoConfigSchema } from './repo-config.js';
import { loadRepoConfig, REPO_CONFIG_PATH } from './repo-config-loader.js';
import { buildReviewReport } from './review-report.js';
import { renderStatusComment } from './status-comment.js';

export interface LifecycleDeps {
  database: Database;
  sessionService: SessionService;
  /** An installation's Octokit; without an id, the app's own (its JWT), as Probot's auth(). */
  octokitFor(installationId?: number): Promise<Octokit>;
  operatorConfig: OperatorConfig;
  log: Logger;
  /** The dashboard's address, for links in status comments. */
  publicUrl?: string | undefined;
  fetch?: typeof fetch;
}

const LIVE = notInArray(sessions.status, [...TERMINAL_SESSION_STATUSES]);
const FAILED_CONCLUSIONS = new Set([
  'failure',
  'timed_out',
  'cancelled',
  'action_required',
  'startup_failure',
  'error',
]);
/** Sessions checked for conflicts per push to a base branch. */
const MAX_CONFLICT_CHECKS = 20;
/** Who `triggeredBy` names for a session started through the API: not a login, so never mentioned. */
const API_TRIGGER = 'operator (API)';

/**
 * Applies webhook intents: the permission gate, the repository's config, sessions created,
 * messages queued, reactions decided by the pure rules, and the people told. Runs as jobs, so a
 * webhook request never waits on GitHub.
 */
export function createLifecycle(deps: LifecycleDeps) {
  const { database, sessionService, operatorConfig, log } = deps;
  const { db } = database;
  const fetchImpl = deps.fetch ?? fetch;

  const configOf = (session: Session): RepoConfig =>
    repoConfigSchema.parse({
      ...DEFAULT_REPO_CONFIG,
      ...((session.context as { config?: object }).config ?? {}),
    });

  async function liveSession(where: ReturnType<typeof and>): Promise<Session | undefined> {
    const [row] = await db
      .select()
      .from(sessions)
      .where(and(where, LIVE))
      .orderBy(desc(sessions.createdAt))
      .limit(1);
    return row;
  }

  async function reply(octokit: Octokit, fullName: string, issueNumber: number, body: string) {
    const { owner, repo } = splitRepo(fullName);
    await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
  }

  async function eyes(octokit: Octokit, fullName: string, commentId: number) {
    const { owner, repo } = splitRepo(fullName);
    await octokit.rest.reactions.createForIssueComment({
      owner,
      repo,
      comment_id: commentId,
      content: 'eyes',
    });
  }

  /** The permission gate; a refused person gets one short reply. Returns the refusal, or null. */
  async function gateOrRefuse(
    octokit: Octokit,
    intent: Intent,
    issueNumber: number,
  ): Promise<string | null> {
    const gate = await checkSender(
      octokit,
      intent.repo.fullName,
      intent.sender,
      operatorConfig.allowedBots,
    );
    if (gate.allowed) return null;
    if (!gate.silent)
      await reply(octokit, intent.repo.fullName, issueNumber, refusal(intent.sender.login));
    return `refused: ${gate.reason}`;
  }

  /** Loads the config, telling the issue once per broken file version that the defaults apply. */
  async function repoConfig(
    octokit: Octokit,
    intent: Pick<Intent, 'repo'>,
    issueNumber: number | null,
  ): Promise<RepoConfig> {
    const { config, problem } = await loadRepoConfig(octokit, intent.repo.fullName);
    if (problem && issueNumber) {
      // Once per repository and problem: the first delivery to see it says so.
      const fresh = await db
        .insert(notices)
        .values({ key: `config-problem:${intent.repo.id}:${problem}` })
        .onConflictDoNothing()
        .returning({ key: notices.key });
      if (fresh.length > 0) {
        await reply(
          octokit,
          intent.repo.fullName,
          issueNumber,
          `\`${REPO_CONFIG_PATH}\` is not valid: ${problem}. I'm using the defaults until it is fixed.`,
        );
        log.warn({ repository: intent.repo.fullName, problem }, 'invalid repository config');
      }
    }
    return config;
  }

  /** Records a reaction decision and carries it out. */
  async function react(
    session: Session,
    key: ReactionKey,
    decision: Decision,
    message: () => Promise<string>,
    deliveryId?: string,
  ) {
    if (decision.do === 'ignore') {
      await sessionService.event(
        db,
        session.id,
        'ignored',
        { key, reason: decision.reason },
        deliveryId,
      );
      return;
    }
    const body = decision.do === 'send-to-agent' ? await message() : null;
    await db.transaction(async (tx) => {
      const locked = await sessionService.lockLive(tx, session.id);
      if (!locked) return;
      await sessionService.event(
        tx,
        session.id,
        'reaction',
        { key, action: decision.do, attempts: decision.attempts[key] ?? 0 },
        deliveryId,
      );
      const values: Partial<Session> = { reactionAttempts: decision.attempts };
      if (decision.do === 'escalate') {
        values.status = 'needs_human';
        values.statusReason = `${key}: ${decision.attempts[key]} attempts, more than the ${decision.rule.retries} allowed`;
        await sessionService.notify(tx, session.id, {
          reason: key,
          text: `${values.statusReason}. A human needs to look at this.`,
        });
      } else if (decision.do === 'notify') {
        if (decision.status) values.status = decision.status;
        await sessionService.notify(tx, session.id, {
          reason: key,
          text: decision.rule.message ?? notifyText(key, locked),
        });
      } else if (decision.do === 'send-to-agent' && body) {
        const text = decision.rule.message ? `${decision.rule.message}\n\n${body}` : body;
        await sessionService.queueMessage(tx, locked, { body: text, source: key, deliveryId });
      }
      await tx
        .update(sessions)
        .set({ ...values, updatedAt: sql`now()` })
        .where(eq(sessions.id, session.id));
      await sessionService.touch(tx, session.id);
      if (decision.do === 'cleanup' || decision.do === 'stop') {
        await sessionService.requestStop(tx, locked, {
          status: decision.status === 'merged' ? 'merged' : 'closed',
          reason: key,
          cleanup: true,
        });
      }
    });
    if (decision.do === 'auto-merge') await autoMerge(session, decision.rule.mergeMethod);
  }

  async function autoMerge(session: Session, method: 'merge' | 'squash' | 'rebase') {
    const octokit = await deps.octokitFor(session.installationId!);
    const { owner, repo } = splitRepo(session.repositoryFullName);
    try {
      await octokit.rest.pulls.merge({
        owner,
        repo,
        pull_number: session.prNumber!,
        merge_method: method,
        ...(session.headSha ? { sha: session.headSha } : {}),
      });
      await sessionService.event(db, session.id, 'merge-requested', { method });
    } catch (error) {
      const why =
        (error as { response?: { data?: { message?: string } } }).response?.data?.message ??
        (error as Error).message;
      await db.transaction((tx) =>
        sessionService.notify(tx, session.id, {
          reason: 'merge-refused',
          text: `The pull request is approved and green, but GitHub refused to merge it: ${why}`,
        }),
      );
    }
  }

  /** Approved by a writer, no outstanding change requests, and every check and status green. */
  async function approvedAndGreen(octokit: Octokit, session: Session): Promise<boolean> {
    if (!session.prNumber || !session.headSha) return false;
    const { owner, repo } = splitRepo(session.repositoryFullName);
    const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, {
      owner,
      repo,
      pull_number: session.prNumber,
      per_page: 100,
    });
    const latest = new Map<string, string>();
    for (const r of reviews)
      if (r.user && r.state !== 'COMMENTED') latest.set(r.user.login, r.state);
    const states = [...latest.values()];
    if (!states.includes('APPROVED') || states.includes('CHANGES_REQUESTED')) return false;
    const checks = await octokit.paginate(octokit.rest.checks.listForRef, {
      owner,
      repo,
      ref: session.headSha,
      per_page: 100,
    });
    if (
      checks.some(
        (c) =>
          c.status !== 'completed' ||
          !['success', 'neutral', 'skipped'].includes(c.conclusion ?? ''),
      )
    )
      return false;
    const { data: combined } = await octokit.rest.repos.getCombinedStatusForRef({
      owner,
      repo,
      ref: session.headSha,
    });
    return combined.total_count === 0 || combined.state === 'success';
  }

  async function createSession(
    octokit: Octokit,
    intent: Pick<Intent, 'installationId' | 'repo' | 'sender'>,
    config: RepoConfig,
    issue: { number: number; title: string; body: string; url: string },
    extra: {
      profile?: string | undefined;
      branch?: string;
      baseBranch?: string;
      prNumber?: number;
      /** The operator's choice over the repository's `agent`. */
      agent?: string | undefined;
      /** Started through the API: the operator's message joins the issue in the first prompt. */
      api?: { message?: string | undefined };
    },
    receivedAt: string,
    deliveryId: string,
  ) {
    const live = await db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.repositoryId, intent.repo.id), LIVE));
    if (live.length >= config.maxConcurrent) {
      await reply(
        octokit,
        intent.repo.fullName,
        issue.number,
        `This repository already has ${live.length} agent sessions running, its limit (\`maxConcurrent\` in \`${REPO_CONFIG_PATH}\`). Try again when one finishes.`,
      );
      return null;
    }
    const { owner, repo } = splitRepo(intent.repo.fullName);
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: issue.number,
      per_page: 100,
    });
    const asOfTrigger = comments
      .filter((c) => c.created_at <= receivedAt && c.user?.type !== 'Bot')
      .map((c) => ({
        author: c.user?.login ?? 'ghost',
        body: c.body ?? '',
        createdAt: c.created_at,
      }));
    if (extra.api?.message)
      asOfTrigger.push({ author: API_TRIGGER, body: extra.api.message, createdAt: receivedAt });
    const profileName = extra.profile ?? config.profile;
    const profile = profileName ? operatorConfig.profiles[profileName] : undefined;
    return db.transaction((tx) =>
      sessionService
        .create(
          tx,
          {
            installationId: intent.installationId,
            repositoryId: intent.repo.id,
            repositoryFullName: intent.repo.fullName,
            cloneUrl: intent.repo.cloneUrl,
            issueNumber: issue.number,
            prNumber: extra.prNumber ?? null,
            branch: extra.branch ?? null,
            baseBranch: extra.baseBranch ?? config.baseBranch ?? intent.repo.defaultBranch,
            agent: profile?.agent ?? extra.agent ?? config.agent,
            profile: profile ? profileName! : null,
            triggeredBy: intent.sender.login,
            context: {
              issue: {
                repository: intent.repo.fullName,
                number: issue.number,
                title: issue.title,
                body: issue.body,
                url: issue.url,
                comments: asOfTrigger,
              },
              config,
              ...(extra.api ? { startedThrough: 'api' } : {}),
            },
          },
          deliveryId,
        )
        .then(async (session) => {
          if (session) await sessionService.touch(tx, session.id);
          return session;
        }),
    );
  }

  async function onLabel(
    intent: Extract<Intent, { kind: 'label-added' | 'label-removed' }>,
    receivedAt: string,
    deliveryId: string,
  ) {
    const octokit = await deps.octokitFor(intent.installationId);
    const config = await repoConfig(octokit, intent, intent.issue.number);
    const profile = intent.label.startsWith('agent:')
      ? intent.label.slice('agent:'.length)
      : undefined;
    if (intent.label !== config.label && !profile) return 'ignored';
    if (intent.kind === 'label-removed') {
      return stopWithoutPr(intent.repo.id, intent.issue.number, 'trigger label removed');
    }
    const refused = await gateOrRefuse(octokit, intent, intent.issue.number);
    if (refused) return refused;
    if (profile && !operatorConfig.profiles[profile]) {
      await reply(
        octokit,
        intent.repo.fullName,
        intent.issue.number,
        `There is no agent profile named \`${profile}\` on this installation.`,
      );
      return 'unknown-profile';
    }
    if (
      await liveSession(
        and(
          eq(sessions.repositoryId, intent.repo.id),
          eq(sessions.issueNumber, intent.issue.number),
        ),
      )
    )
      return 'already-running';
    const session = await createSession(
      octokit,
      intent,
      config,
      { ...intent.issue },
      { profile },
      receivedAt,
      deliveryId,
    );
    return session ? 'session-created' : 'not-created';
  }

  async function stopWithoutPr(repositoryId: number, issueNumber: number, reason: string) {
    const session = await liveSession(
      and(eq(sessions.repositoryId, repositoryId), eq(sessions.issueNumber, issueNumber)),
    );
    if (!session) return 'no-session';
    if (session.prNumber) return 'kept: has a pull request';
    await db.transaction((tx) =>
      sessionService.requestStop(tx, session, { status: 'closed', reason, cleanup: true }),
    );
    return 'stopped';
  }

  async function onComment(
    intent: Extract<Intent, { kind: 'comment' }>,
    receivedAt: string,
    deliveryId: string,
  ) {
    const octokit = await deps.octokitFor(intent.installationId);
    const config = await repoConfig(octokit, intent, intent.issueNumber);
    const command = parseCommand(intent.body, config.command);
    if (!command) return 'not-a-command';
    const refused = await gateOrRefuse(octokit, intent, intent.issueNumber);
    if (refused) return refused;
    if (command.name === 'unknown') {
      await reply(
        octokit,
        intent.repo.fullName,
        intent.issueNumber,
        `I don't know the command \`${command.word}\`.\n\n${helpText(config.command)}`,
      );
      return 'unknown-command';
    }
    await eyes(octokit, intent.repo.fullName, intent.commentId);
    if (command.name === 'help') {
      await reply(octokit, intent.repo.fullName, intent.issueNumber, helpText(config.command));
      return 'help';
    }

    const repoId = intent.repo.id;
    let session =
      (intent.isPullRequest
        ? await liveSession(
            and(eq(sessions.repositoryId, repoId), eq(sessions.prNumber, intent.issueNumber)),
          )
        : undefined) ??
      (await liveSession(
        and(eq(sessions.repositoryId, repoId), eq(sessions.issueNumber, intent.issueNumber)),
      ));
    // A human's command starts the reaction counts over.
    if (session && Object.keys(session.reactionAttempts).length > 0) {
      await db.update(sessions).set({ reactionAttempts: {} }).where(eq(sessions.id, session.id));
      session = { ...session, reactionAttempts: {} };
    }

    switch (command.name) {
      case 'send': {
        if (session) {
          await db.transaction(async (tx) => {
            await sessionService.queueMessage(tx, session!, {
              body: command.text,
              source: intent.sender.login,
              deliveryId,
            });
            await sessionService.touch(tx, session!.id);
          });
          return 'message-queued';
        }
        if (intent.isPullRequest)
          return startOnPullRequest(octokit, intent, config, receivedAt, deliveryId);
        const created = await createSession(
          octokit,
          intent,
          config,
          { number: intent.issueNumber, ...intent.issue },
          {},
          receivedAt,
          deliveryId,
        );
        return created ? 'session-created' : 'not-created';
      }
      case 'stop': {
        if (!session) return replyNoSession(octokit, intent);
        await db.transaction((tx) =>
          sessionService.requestStop(tx, session!, {
            status: 'stopped',
            reason: `stopped by @${intent.sender.login}`,
            cleanup: true,
          }),
        );
        return 'stop-requested';
      }
      case 'status': {
        if (!session) return replyNoSession(octokit, intent);
        await reply(
          octokit,
          intent.repo.fullName,
          intent.issueNumber,
          renderStatusComment(session, {
            config: configOf(session),
            dashboardUrl: deps.publicUrl,
          }).replace(/^<!--.*-->\n/, ''),
        );
        return 'status';
      }
      case 'retry':
        return retry(octokit, intent, session, config, receivedAt, deliveryId);
    }
  }

  async function replyNoSession(octokit: Octokit, intent: Extract<Intent, { kind: 'comment' }>) {
    await reply(
      octokit,
      intent.repo.fullName,
      intent.issueNumber,
      'There is no agent session running here.',
    );
    return 'no-session';
  }

  async function retry(
    octokit: Octokit,
    intent: Extract<Intent, { kind: 'comment' }>,
    session: Session | undefined,
    config: RepoConfig,
    receivedAt: string,
    deliveryId: string,
  ) {
    if (!session) {
      const [last] = await db
        .select()
        .from(sessions)
        .where(
          and(
            eq(sessions.repositoryId, intent.repo.id),
            eq(sessions.issueNumber, intent.issueNumber),
          ),
        )
        .orderBy(desc(sessions.createdAt))
        .limit(1);
      if (!last) return replyNoSession(octokit, intent);
      const created = await createSession(
        octokit,
        intent,
        config,
        { number: intent.issueNumber, ...intent.issue },
        { profile: last.profile ?? undefined },
        receivedAt,
        deliveryId,
      );
      return created ? 'respawned' : 'not-created';
    }
    if (session.status !== 'needs_human') {
      await reply(
        octokit,
        intent.repo.fullName,
        intent.issueNumber,
        `The session is ${session.status}; there is nothing to retry.`,
      );
      return 'nothing-to-retry';
    }
    await db.transaction(async (tx) => {
      if (!session.workspacePath) {
        // It never got to work (setup failed, agent missing): spawn again.
        await tx
          .update(sessions)
          .set({ status: 'queued', statusReason: null, runnerId: null, updatedAt: sql`now()` })
          .where(eq(sessions.id, session.id));
        await sessionService.event(
          tx,
          session.id,
          'retry',
          { by: intent.sender.login, respawn: true },
          deliveryId,
        );
        await sessionService.respawn(tx, session.id);
      } else {
        await sessionService.queueMessage(tx, session, {
          body: 'The previous turn did not finish. Please look at where you left off and carry on with the task.',
          source: intent.sender.login,
          deliveryId,
        });
      }
      await sessionService.touch(tx, session.id);
    });
    return 'retrying';
  }

  async function startOnPullRequest(
    octokit: Octokit,
    intent: Extract<Intent, { kind: 'comment' }>,
    config: RepoConfig,
    receivedAt: string,
    deliveryId: string,
  ) {
    const { owner, repo } = splitRepo(intent.repo.fullName);
    const { data: pr } = await octokit.rest.pulls.get({
      owner,
      repo,
      pull_number: intent.issueNumber,
    });
    if (!pr.head.repo || pr.head.repo.full_name !== pr.base.repo.full_name) {
      await reply(
        octokit,
        intent.repo.fullName,
        intent.issueNumber,
        'I only work on pull requests whose branch is in this repository, not on forks.',
      );
      return 'refused: fork';
    }
    const created = await createSession(
      octokit,
      intent,
      config,
      { number: intent.issueNumber, ...intent.issue },
      { branch: pr.head.ref, baseBranch: pr.base.ref, prNumber: pr.number },
      receivedAt,
      deliveryId,
    );
    return created ? 'session-created-on-pr' : 'not-created';
  }

  async function onReview(intent: Extract<Intent, { kind: 'review' }>, deliveryId: string) {
    const session = await liveSession(
      and(eq(sessions.repositoryId, intent.repo.id), eq(sessions.prNumber, intent.prNumber)),
    );
    if (!session) return 'no-session';
    if (intent.state !== 'changes_requested' && intent.state !== 'approved') return 'not-acted-on';
    const octokit = await deps.octokitFor(intent.installationId);
    const gate = await checkSender(
      octokit,
      intent.repo.fullName,
      intent.sender,
      operatorConfig.allowedBots,
    );
    if (!gate.allowed) return `ignored: reviewer ${gate.reason}`;
    const config = configOf(session);
    if (intent.state === 'approved')
      return checkApprovedAndGreen(octokit, session, config, deliveryId);
    const { owner, repo } = splitRepo(intent.repo.fullName);
    await react(
      session,
      'changes-requested',
      decide(session, { key: 'changes-requested', headSha: intent.headSha }, config),
      async () => {
        const report = await buildReviewReport(octokit, {
          owner,
          repo,
          prNumber: intent.prNumber,
          reviewId: intent.reviewId,
        });
        return `@${intent.sender.login} requested changes on the pull request:\n\n${report.text}`;
      },
      deliveryId,
    );
    return 'changes-requested';
  }

  async function checkApprovedAndGreen(
    octokit: Octokit,
    session: Session,
    config: RepoConfig,
    deliveryId: string,
  ) {
    if (!(await approvedAndGreen(octokit, session))) return 'not-yet-approved-and-green';
    await react(
      session,
      'approved-and-green',
      decide(session, { key: 'approved-and-green', headSha: session.headSha ?? undefined }, config),
      async () => '',
      deliveryId,
    );
    return 'approved-and-green';
  }

  async function onCi(intent: Extract<Intent, { kind: 'ci' }>, deliveryId: string) {
    // GitHub Actions reports a run twice (check suite and workflow run); the workflow run counts.
    if (intent.source === 'check_suite' && intent.name === 'github-actions')
      return 'covered-by-workflow-run';
    const byHead = await db
      .select()
      .from(sessions)
      .where(and(eq(sessions.repositoryId, intent.repo.id), eq(sessions.headSha, intent.headSha)));
    const byPr = intent.prNumbers.length
      ? await db
          .select()
          .from(sessions)
          .where(
            and(
              eq(sessions.repositoryId, intent.repo.id),
              inArray(sessions.prNumber, intent.prNumbers),
              isNotNull(sessions.headSha),
            ),
          )
      : [];
    const found = [...new Map([...byHead, ...byPr].map((s) => [s.id, s])).values()];
    if (found.length === 0) return 'no-session';
    const octokit = await deps.octokitFor(intent.installationId);
    const { owner, repo } = splitRepo(intent.repo.fullName);
    const outcomes: string[] = [];
    for (const session of found) {
      const config = configOf(session);
      const event = `${intent.source}:${intent.sourceId}:${intent.runAttempt}`;
      if (FAILED_CONCLUSIONS.has(intent.conclusion)) {
        await react(
          session,
          'ci-failed',
          decide(session, { key: 'ci-failed', headSha: intent.headSha }, config),
          async () => {
            const report = await buildCiReport(octokit, { owner, repo, headSha: intent.headSha });
            return `CI failed on ${intent.headSha.slice(0, 7)} (${intent.name}, ${event}):\n\n${report.text}`;
          },
          deliveryId,
        );
        outcomes.push('ci-failed');
      } else if (intent.conclusion === 'success' && !isTerminal(session.status)) {
        outcomes.push(await checkApprovedAndGreen(octokit, session, config, deliveryId));
      }
    }
    return outcomes.join(',') || 'nothing';
  }

  async function onPullRequest(
    intent: Extract<Intent, { kind: 'pr-opened' | 'pr-updated' | 'pr-closed' }>,
    deliveryId: string,
  ) {
    const repoId = intent.repo.id;
    const session =
      (await liveSession(
        and(eq(sessions.repositoryId, repoId), eq(sessions.prNumber, intent.prNumber)),
      )) ??
      (await liveSession(
        and(eq(sessions.repositoryId, repoId), eq(sessions.branch, intent.branch)),
      ));
    if (!session) return 'no-session';
    if (intent.kind === 'pr-closed') {
      const key = intent.merged ? 'merged' : 'pr-closed';
      await react(
        session,
        key,
        decide(session, { key }, configOf(session)),
        async () => '',
        deliveryId,
      );
      return key;
    }
    if ('fromFork' in intent && intent.fromFork) return 'fork';
    await db.transaction(async (tx) => {
      await tx
        .update(sessions)
        .set({
          prNumber: session.prNumber ?? intent.prNumber,
          headSha: intent.headSha,
          updatedAt: sql`now()`,
        })
        .where(eq(sessions.id, session.id));
      await sessionService.event(
        tx,
        session.id,
        intent.kind,
        { prNumber: intent.prNumber, headSha: intent.headSha },
        deliveryId,
      );
      if (!session.prNumber) await sessionService.touch(tx, session.id);
    });
    return 'linked';
  }

  async function onPush(
    intent: Extract<Intent, { kind: 'push' }>,
    deliveryId: string,
    check: number,
  ) {
    const candidates = await db
      .select()
      .from(sessions)
      .where(
        and(
          eq(sessions.repositoryId, intent.repo.id),
          eq(sessions.baseBranch, intent.branch),
          isNotNull(sessions.prNumber),
          LIVE,
        ),
      )
      .limit(MAX_CONFLICT_CHECKS);
    if (candidates.length === 0) return 'no-session';
    const octokit = await deps.octokitFor(intent.installationId);
    const { owner, repo } = splitRepo(intent.repo.fullName);
    let unknown = 0;
    for (const session of candidates) {
      const { data: pr } = await octokit.rest.pulls.get({
        owner,
        repo,
        pull_number: session.prNumber!,
      });
      if (pr.mergeable === null) unknown += 1;
      if (pr.mergeable !== false) continue;
      await react(
        session,
        'merge-conflict',
        decide(session, { key: 'merge-conflict' }, configOf(session)),
        async () =>
          `\`${intent.branch}\` moved on (now ${intent.headSha.slice(0, 7)}) and this pull request no longer merges cleanly. Merge or rebase onto \`origin/${intent.branch}\` (run \`git fetch\` first), resolve the conflicts, run the tests and commit.`,
        deliveryId,
      );
    }
    // GitHub computes mergeability in the background: look again a little later, a few times.
    if (unknown > 0 && check < 3) {
      await db.transaction((tx) =>
        sessionService.enqueueIntent(
          tx,
          { intent, deliveryId, receivedAt: new Date().toISOString(), check: check + 1 },
          new Date(Date.now() + 15_000 * (check + 1)),
        ),
      );
    }
    return `checked ${candidates.length}`;
  }

  /**
   * A start the operator asked for through the API: the label trigger's path without the
   * permission gate (the API token is the permission). The installation is found as the app, the
   * repository and the issue are read, and the outcome is written on the start's record, which
   * `POST /api/sessions` and `GET /api/starts/:id` answer from.
   */
  async function onOperatorStart(start: OperatorStart, receivedAt: string, deliveryId: string) {
    const result = await startForOperator(start, receivedAt, deliveryId);
    await db
      .update(deliveries)
      .set({ outcome: result.outcome, sessionId: result.sessionId ?? null })
      .where(eq(deliveries.id, deliveryId));
    return result.outcome;
  }

  async function startForOperator(
    start: OperatorStart,
    receivedAt: string,
    deliveryId: string,
  ): Promise<{ outcome: OperatorStartOutcome; sessionId?: string }> {
    if (start.profile && !Object.hasOwn(operatorConfig.profiles, start.profile))
      return { outcome: 'unknown-profile' };
    if (
      start.agent &&
      !Object.hasOwn(builtInAdapters, start.agent) &&
      !Object.hasOwn(operatorConfig.agents, start.agent)
    )
      return { outcome: 'unknown-agent' };
    const { owner, repo } = splitRepo(start.repository);
    const app = await deps.octokitFor();
    const installation = await ifFound(app.rest.apps.getRepoInstallation({ owner, repo }));
    if (!installation) return { outcome: 'not-installed' };
    const allowed = operatorConfig.allowedInstallations;
    if (allowed && !allowed.includes(installation.data.id))
      return { outcome: 'installation-not-allowed' };
    const octokit = await deps.octokitFor(installation.data.id);
    const repository = await ifFound(octokit.rest.repos.get({ owner, repo }));
    if (!repository) return { outcome: 'not-installed' };
    const found = await ifFound(
      octokit.rest.issues.get({ owner, repo, issue_number: start.issueNumber }),
    );
    if (!found) return { outcome: 'no-such-issue' };
    const issue = found.data;
    if (issue.pull_request) return { outcome: 'pull-request' };
    if (issue.state === 'closed') return { outcome: 'issue-closed' };
    const intent = {
      installationId: installation.data.id,
      repo: {
        id: repository.data.id,
        fullName: repository.data.full_name,
        cloneUrl: repository.data.clone_url,
        defaultBranch: repository.data.default_branch,
      },
      sender: { login: API_TRIGGER, type: 'Operator' },
    };
    const config = await repoConfig(octokit, intent, issue.number);
    const onIssue = and(
      eq(sessions.repositoryId, intent.repo.id),
      eq(sessions.issueNumber, issue.number),
    );
    const running = await liveSession(onIssue);
    if (running)
      return { outcome: await ownOrRunning(running.id, deliveryId), sessionId: running.id };
    const session = await createSession(
      octokit,
      intent,
      config,
      { number: issue.number, title: issue.title, body: issue.body ?? '', url: issue.html_url },
      { profile: start.profile, agent: start.agent, api: { message: start.message } },
      receivedAt,
      deliveryId,
    );
    if (session) return { outcome: 'session-created', sessionId: session.id };
    // Not created: another start won the race for the issue, or the repository is at its limit.
    const raced = await liveSession(onIssue);
    return raced ? { outcome: 'already-running', sessionId: raced.id } : { outcome: 'at-limit' };
  }

  /** A retried start finds the session it created itself before it could say so. */
  async function ownOrRunning(sessionId: string, deliveryId: string) {
    const [created] = await db
      .select({ id: sessionEvents.id })
      .from(sessionEvents)
      .where(
        and(
          eq(sessionEvents.sessionId, sessionId),
          eq(sessionEvents.kind, 'created'),
          eq(sessionEvents.deliveryId, deliveryId),
        ),
      );
    return created ? ('session-created' as const) : ('already-running' as const);
  }

  const intentJob: JobHandler = async (job) => {
    const payload = job.payload as {
      intent: Intent | OperatorStart;
      deliveryId: string;
      receivedAt: string;
      check?: number;
    };
    if (payload.intent.kind === 'operator-start') {
      const outcome = await onOperatorStart(payload.intent, payload.receivedAt, payload.deliveryId);
      log.info(
        { startId: payload.deliveryId, repository: payload.intent.repository, outcome },
        'operator start applied',
      );
      return;
    }
    const { intent, deliveryId, receivedAt, check } = payload as typeof payload & {
      intent: Intent;
    };
    const allowed = operatorConfig.allowedInstallations;
    if (allowed && !allowed.includes(intent.installationId)) return;
    const outcome = await (async () => {
      switch (intent.kind) {
        case 'label-added':
        case 'label-removed':
          return onLabel(intent, receivedAt, deliveryId);
        case 'issue-closed':
          return stopWithoutPr(intent.repo.id, intent.issueNumber, 'issue closed');
        case 'comment':
          return onComment(intent, receivedAt, deliveryId);
        case 'review':
          return onReview(intent, deliveryId);
        case 'ci':
          return onCi(intent, deliveryId);
        case 'pr-opened':
        case 'pr-updated':
        case 'pr-closed':
          return onPullRequest(intent, deliveryId);
        case 'push':
          return onPush(intent, deliveryId, check ?? 0);
      }
    })();
    log.info(
      { deliveryId, intent: intent.kind, repository: intent.repo.fullName, outcome },
      'intent applied',
    );
  };

  const reactionJob: JobHandler = async (job) => {
    const [session] = await db
      .select()
      .from(sessions)
      .where(eq(sessions.id, String(job.payload.sessionId)));
    if (!session) return;
    const key = job.payload.key as ReactionKey;
    await react(session, key, decide(session, { key }, configOf(session)), async () => '');
  };

  const statusCommentJob: JobHandler = async (job) => {
    const sessionId = String(job.payload.sessionId);
    const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId));
    if (!session?.installationId) return;
    const octokit = await deps.octokitFor(session.installationId);
    const { owner, repo } = splitRepo(session.repositoryFullName);
    const [last] = await db
      .select()
      .from(sessionEvents)
      .where(and(eq(sessionEvents.sessionId, sessionId), eq(sessionEvents.kind, 'reaction')))
      .orderBy(desc(sessionEvents.id))
      .limit(1);
    const body = renderStatusComment(session, {
      config: configOf(session),
      lastReaction: last
        ? { key: String(last.data.key), action: String(last.data.action) }
        : undefined,
      dashboardUrl: deps.publicUrl,
    });
    if (session.statusCommentId && session.statusCommentId > 0) {
      await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: session.statusCommentId,
        body,
      });
      return;
    }
    // Claim the creation (0 marks "being created"), so two jobs never post two comments.
    const claimed = await db
      .update(sessions)
      .set({ statusCommentId: 0 })
      .where(and(eq(sessions.id, sessionId), sql`${sessions.statusCommentId} is null`))
      .returning({ id: sessions.id });
    if (claimed.length === 0)
      throw new RetryLaterError('the status comment is being created by another job');
    try {
      const { data } = await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: session.issueNumber,
        body,
      });
      await db.update(sessions).set({ statusCommentId: data.id }).where(eq(sessions.id, sessionId));
    } catch (error) {
      await db.update(sessions).set({ statusCommentId: null }).where(eq(sessions.id, sessionId));
      throw error;
    }
  };

  /** Fans a notification out into one job per channel, so a retry never repeats a delivered one. */
  const notifyJob: JobHandler = async (job) => {
    const channel = job.payload.channel as 'github' | 'slack' | 'webhook' | undefined;
    if (!channel) {
      const channels: string[] = ['github'];
      if (operatorConfig.notify.slackWebhookUrl) channels.push('slack');
      if (operatorConfig.notify.webhook) channels.push('webhook');
      await db.transaction(async (tx) => {
        for (const c of channels)
          await sessionService.notify(tx, String(job.payload.sessionId), {
            reason: String(job.payload.reason),
            text: String(job.payload.text),
            channel: c,
          });
      });
      return;
    }
    const [session] = await db
      .select()
      .from(sessions)
      .where(eq(sessions.id, String(job.payload.sessionId)));
    if (!session?.installationId) return;
    const config = configOf(session);
    const text = String(job.payload.text);
    const issueNumber = session.prNumber ?? session.issueNumber;
    if (channel === 'github') {
      const { owner, repo } = splitRepo(session.repositoryFullName);
      const octokit = await deps.octokitFor(session.installationId);
      await notifyGitHub(octokit, {
        owner,
        repo,
        issueNumber,
        mentions: config.notify.mentions ?? [session.triggeredBy],
        text,
      });
    } else if (channel === 'slack' && operatorConfig.notify.slackWebhookUrl) {
      await notifySlack(fetchImpl, {
        webhookUrl: operatorConfig.notify.slackWebhookUrl,
        text: `${session.repositoryFullName}#${issueNumber}: ${text}`,
        channel: config.notify.slackChannel,
      });
    } else if (channel === 'webhook' && operatorConfig.notify.webhook) {
      const { url, secret } = operatorConfig.notify.webhook;
      await notifyWebhook(fetchImpl, {
        url,
        secret,
        event: {
          type: 'session.notify',
          sessionId: session.id,
          repository: session.repositoryFullName,
          issueNumber: session.issueNumber,
          prNumber: session.prNumber,
          reason: String(job.payload.reason),
          text,
        },
      });
    }
  };

  return {
    /** The jobs that decide what happens next: a webhook's intent, a runner's report. */
    handlers: {
      [JOB_KINDS.intent]: intentJob,
      [JOB_KINDS.reaction]: reactionJob,
    } as Record<string, JobHandler>,
    /**
     * The jobs that tell people: status comment edits and notifications. They mostly wait on
     * GitHub's spacing of writes, so they get a worker of their own and never hold up the above.
     */
    reportHandlers: {
      [JOB_KINDS.statusComment]: statusCommentJob,
      [JOB_KINDS.notify]: notifyJob,
    } as Record<string, JobHandler>,
  };
}

/** What became of a start asked for through the API (see `onOperatorStart`). */
export type OperatorStartOutcome =
  | 'session-created'
  | 'already-running'
  | 'at-limit'
  | 'not-installed'
  | 'installation-not-allowed'
  | 'no-such-issue'
  | 'pull-request'
  | 'issue-closed'
  | 'unknown-profile'
  | 'unknown-agent';

/** The call's response, or null when GitHub answers 404 (or 410: an issue deleted). */
async function ifFound<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 410) return null;
    throw error;
  }
}

function refusal(login: string): string {
  return `Sorry @${login}, only people with write access to this repository can start or instruct the agent.`;
}

function notifyText(key: ReactionKey, session: Session): string {
  switch (key) {
    case 'approved-and-green':
      return `Pull request #${session.prNumber} is approved and every check is green: ready to merge.`;
    case 'agent-failed':
      return `The agent failed: ${session.statusReason ?? 'its turn exited with an error'}.`;
    case 'agent-stuck':
      return `The agent ran past its time limit and was stopped: ${session.statusReason ?? ''}`;
    default:
      return `${key} on session ${session.id}.`;
  }
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
