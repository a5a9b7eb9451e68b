import type { Session } from '../db/schema.js';
import type { GitAccess } from '../sessions/runner-github.js';
import { remoteUrl } from './remote-url.js';
import type { RunnerDeps } from './runner-deps.js';
import type { Auth, WorkspaceRepo } from './workspace/workspace-types.js';

/**
 * Runs one git operation on the session's repository. With an installation: a token minted just
 * before, for this repository alone and this access; the remote URL built from the configured
 * host and the name GitHub gave with the token (never the URL stored with the session); the
 * token revoked when the operation ends, however it ends. Without an installation (a local
 * origin in tests): the stored URL, and no token.
 */
export async function withGitToken<T>(
  deps: Pick<RunnerDeps, 'github' | 'githubHost' | 'log'>,
  session: Pick<Session, 'id' | 'installationId' | 'repositoryId' | 'cloneUrl'>,
  access: GitAccess,
  operation: (repo: WorkspaceRepo, auth: Auth) => Promise<T>,
): Promise<T> {
  const { installationId, repositoryId } = session;
  if (!installationId) return operation({ id: repositoryId, cloneUrl: session.cloneUrl }, null);
  const minted = await deps.github.gitToken({ installationId, repositoryId, access });
  try {
    const cloneUrl = remoteUrl(deps.githubHost, minted.fullName);
    return await operation(
      { id: repositoryId, fullName: minted.fullName, cloneUrl },
      { token: minted.token },
    );
  } finally {
    await minted.revoke().catch((error: unknown) =>
      // Not fatal: the operation is done, and the token expires within the hour anyway.
      deps.log.warn(
        { err: error, sessionId: session.id, repository: minted.fullName, access },
        'could not revoke the git token',
      ),
    );
  }
}
