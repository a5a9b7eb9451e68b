import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Session } from '../db/schema.js';
import type { JobContext } from '../jobs/worker.js';
import { configOf, contextOf } from '../sessions/session-context.js';
import { isTerminal } from '../sessions/session-status.js';
import { agentProfileOf } from './agent-profile.js';
import { applyUnlessEnded } from './apply-unless-ended.js';
import { findBinary } from './find-binary.js';
import { branchName } from './names.js';
import { runNextTurn } from './run-next-turn.js';
import type { RunnerDeps } from './runner-deps.js';
import { homeOf, sandboxedArgv } from './sandboxed-argv.js';
import { runSetupCommands } from './setup-commands.js';
import { environmentFor } from './turn-command.js';
import { stateDirOf } from './turn-files.js';
import { withGitToken } from './with-git-token.js';

/**
 * Spawns a session on this runner: its worktree on its branch, the repository's setup commands,
 * then the first turn. What stops it before the agent works (an unknown agent, its program
 * missing, a setup command failing) is said on the issue, and the session needs a human.
 */
export async function spawnSession(deps: RunnerDeps, sessionId: string, context: JobContext) {
  const found = await deps.store.find(sessionId);
  if (!found || isTerminal(found.status)) return;
  const config = configOf(found);
  const { agent } = agentProfileOf(found, config, deps.operatorConfig);
  const adapter = deps.adapterFor(agent);
  const dir = stateDirOf(deps.stateRoot, sessionId);
  mkdirSync(dir, { recursive: true });
  mkdirSync(homeOf(deps, sessionId), { recursive: true });

  if (!found.workspacePath) {
    const branch =
      found.branch ??
      branchName(config.branchPrefix, found.issueNumber, contextOf(found).issue?.title ?? 'issue');
    const baseBranch = found.baseBranch ?? config.baseBranch ?? 'main';
    const started = await applyUnlessEnded(deps, sessionId, {
      type: 'spawn-started',
      runnerId: deps.runnerId,
      branch,
      baseBranch,
    });
    if (!started) return;
    const session = started.session;
    if (!adapter) {
      return needsHuman(
        deps,
        session,
        `unknown agent "${agent}"`,
        `I can't start: no agent named \`${agent}\` is configured on this runner. Use one of the built-in agents (claude-code, codex, aider, opencode) or one defined in the operator config.`,
      );
    }
    const env = environmentFor(deps, adapter, { env: {} }, sessionId);
    if (!findBinary(adapter.binary, env.PATH)) {
      return needsHuman(
        deps,
        session,
        `agent program "${adapter.binary}" not found`,
        `I can't start the \`${agent}\` agent: its program \`${adapter.binary}\` is not installed on the runner (not found on its PATH). An operator needs to install it; then comment \`/agent retry\`.`,
      );
    }
    const workspace = await withGitToken(deps, session, 'read', (repo, auth) =>
      deps.workspaces.create({ sessionId, repo, baseBranch, branch, auth }),
    );
    const setupFailure = await runSetupCommands({
      commands: config.setup,
      cwd: workspace.path,
      env,
      logFile: path.join(dir, 'setup.log'),
      timeoutMs: deps.operatorConfig.limits.setupMinutes * 60_000,
      signal: context.signal,
      wrap: (argv) =>
        sandboxedArgv(deps, {
          session: { ...session, workspacePath: workspace.path },
          adapter,
          argv,
          env,
          cwd: workspace.path,
        }),
    });
    const ready = await applyUnlessEnded(deps, sessionId, {
      type: 'workspace-ready',
      path: workspace.path,
      headSha: workspace.headSha,
      baseSha: workspace.baseSha,
    });
    if (!ready) return;
    if (setupFailure) {
      const what = setupFailure.timedOut
        ? 'ran out of time'
        : `exited with status ${setupFailure.exitCode}`;
      return needsHuman(
        deps,
        ready.session,
        `setup command failed: ${setupFailure.command}`,
        `The setup command \`${setupFailure.command}\` ${what}, so the agent did not start. Its output is in the runner's setup log for session \`${sessionId}\`. Fix the command in \`.github/agent.yml\`, then comment \`/agent retry\`.`,
      );
    }
  }
  if (!adapter) return;
  await runNextTurn(deps, sessionId, true, context);
}

/** Says on the issue, in plain words, why the agent did not start; then the session needs a human. */
async function needsHuman(deps: RunnerDeps, session: Session, reason: string, comment: string) {
  // Comment first: whoever watches the status sees the explanation already posted.
  if (session.installationId) {
    await deps.github
      .commentOnIssue({
        installationId: session.installationId,
        repository: session.repositoryFullName,
        issueNumber: session.issueNumber,
        body: comment,
      })
      .catch((error: unknown) =>
        deps.log.warn({ err: error, sessionId: session.id }, 'could not comment on the issue'),
      );
  }
  await applyUnlessEnded(deps, session.id, { type: 'spawn-failed', reason });
}
