import { randomBytes } from 'node:crypto';
import { githubTime } from './github-time.js';

/** A repository of the local GitHub, as its installation access tokens see it. */
export interface TokenRepository {
  id: number;
  fullName: string;
  installationId: number;
  private?: boolean | undefined;
}

/** An installation access token the local GitHub minted, kept so tests can look at it. */
export interface MintedToken {
  token: string;
  installationId: number;
  /** The repositories it was scoped to; null for all of the installation's. */
  repositoryIds: number[] | null;
  permissions: Record<string, string>;
  expiresAt: Date;
  /** Set by `DELETE /installation/token`. */
  revokedAt: Date | null;
}

/** What the app was granted when installed: the most a token may ask for. */
export const APP_PERMISSIONS: Record<string, string> = {
  actions: 'read',
  checks: 'read',
  contents: 'write',
  issues: 'write',
  metadata: 'read',
  pull_requests: 'write',
  statuses: 'read',
};

const LEVEL = { read: 1, write: 2, admin: 3 } as Record<string, number>;
const DOCS =
  'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app';

/**
 * The local GitHub's installation access tokens: `POST /app/installations/{id}/access_tokens`
 * with GitHub's `repository_ids`, `repositories` and `permissions`, answered in GitHub's shape;
 * `DELETE /installation/token`; and the checks git over HTTP makes of them.
 */
export function createTokens(repositoriesOf: (installationId: number) => TokenRepository[]) {
  const minted: MintedToken[] = [];
  let serial = 0;

  function mint(installationId: number, body: Record<string, unknown>) {
    const own = repositoriesOf(installationId);
    const ids = body.repository_ids as unknown[] | undefined;
    const names = body.repositories as unknown[] | undefined;
    const asked = ids !== undefined || names !== undefined;
    const chosen = own.filter(
      (r) => ids?.includes(r.id) || names?.includes(r.fullName.split('/')[1]),
    );
    if (asked && chosen.length !== (ids?.length ?? 0) + (names?.length ?? 0)) {
      return error(
        'There is at least one repository that does not exist or is not accessible to the parent installation.',
      );
    }
    const requested = (body.permissions as Record<string, string> | undefined) ?? APP_PERMISSIONS;
    for (const [name, level] of Object.entries(requested)) {
      if (!LEVEL[level] || (LEVEL[APP_PERMISSIONS[name] ?? ''] ?? 0) < LEVEL[level]!) {
        return error('The permissions requested are not granted to this installation.');
      }
    }
    const permissions = { ...requested, metadata: 'read' };
    serial += 1;
    const token: MintedToken = {
      token: `ghs_local_installation_token_${installationId}_${serial}_${randomBytes(6).toString('hex')}`,
      installationId,
      repositoryIds: asked ? chosen.map((r) => r.id) : null,
      permissions,
      expiresAt: new Date(Date.now() + 3_600_000),
      revokedAt: null,
    };
    minted.push(token);
    return {
      status: 201,
      body: {
        token: token.token,
        expires_at: githubTime(token.expiresAt),
        permissions,
        repository_selection: asked ? 'selected' : 'all',
        ...(asked ? { repositories: chosen.map(repositoryJson) } : {}),
      },
    };
  }

  /** The live token an `Authorization: token ...` (or `Bearer ...`) header carries. */
  function live(token: string | undefined): MintedToken | undefined {
    const found = minted.find((t) => t.token === token);
    return found && !found.revokedAt && found.expiresAt > new Date() ? found : undefined;
  }

  function revoke(authorization: string | undefined): boolean {
    const found = live(/^(?:token|bearer)\s+(\S+)$/i.exec(authorization ?? '')?.[1]);
    if (found) found.revokedAt = new Date();
    return Boolean(found);
  }

  /**
   * Whether git's HTTP Basic `x-access-token:<token>` may read (or write) the repository: 401
   * without a live token, 403 with one not scoped to it or without the `contents` access.
   */
  function gitAccess(
    authorization: string | undefined,
    repository: TokenRepository,
    write: boolean,
  ): { status: 200 | 401 | 403; token: string | null } {
    const basic = /^basic\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const [user, token] = basic
      ? Buffer.from(basic, 'base64').toString('utf8').split(/:(.*)/s)
      : [undefined, undefined];
    const found = user === 'x-access-token' ? live(token) : undefined;
    if (!found) return { status: 401, token: token ?? null };
    const scoped =
      found.installationId === repository.installationId &&
      (found.repositoryIds === null || found.repositoryIds.includes(repository.id));
    const level = LEVEL[found.permissions.contents ?? ''] ?? 0;
    const allowed = scoped && level >= (write ? LEVEL.write! : LEVEL.read!);
    return { status: allowed ? 200 : 403, token: found.token };
  }

  return { minted, mint, revoke, gitAccess };
}

function error(message: string) {
  return { status: 422, body: { message, documentation_url: DOCS } };
}

/** A repository as GitHub lists it in a token's `repositories`. */
function repositoryJson(repo: TokenRepository) {
  const [owner, name] = repo.fullName.split('/');
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name,
    full_name: repo.fullName,
    private: repo.private ?? false,
    owner: { login: owner, id: repo.installationId, node_id: `O_${owner}`, type: 'Organization' },
    html_url: `https://github.example/${repo.fullName}`,
    fork: false,
    url: `https://api.github.example/repos/${repo.fullName}`,
  };
}
