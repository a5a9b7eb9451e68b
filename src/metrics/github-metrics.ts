import type { Metrics } from './metrics.js';

interface RequestOptions {
  method?: string | undefined;
  url?: string | undefined;
}
interface GitHubResponse {
  status: number;
  headers: Record<string, string | number | undefined>;
}
type Request = (options: RequestOptions) => Promise<GitHubResponse>;

/** The shape of an Octokit `request` hook, also taken by `request.defaults({ request: { hook } })`. */
export type RequestHook = (request: Request, options: RequestOptions) => Promise<GitHubResponse>;

/**
 * Counts each GitHub call by method, route template and status class, and keeps the rate limit
 * GitHub reported last for this installation ('app' for the app's own JWT calls).
 */
export function observeGitHubRequests(
  metrics: Pick<Metrics, 'githubRequests' | 'githubRateLimitRemaining'>,
  installation: string,
): RequestHook {
  return async (request, options) => {
    const method = (options.method ?? 'GET').toUpperCase();
    const route = routeLabel(options.url ?? '');
    // /app/... calls are authenticated as the app (JWT), whichever client makes them.
    const limited = route.startsWith('/app/') ? 'app' : installation;
    const record = (response: GitHubResponse | undefined) => {
      const status = response ? `${Math.floor(response.status / 100)}xx` : 'error';
      metrics.githubRequests.inc({ method, route, status });
      const remaining = Number(response?.headers['x-ratelimit-remaining'] ?? Number.NaN);
      if (Number.isFinite(remaining)) {
        const resource = String(response?.headers['x-ratelimit-resource'] ?? 'core');
        metrics.githubRateLimitRemaining.set({ installation: limited, resource }, remaining);
      }
    };
    try {
      const response = await request(options);
      record(response);
      return response;
    } catch (error) {
      // A RequestError carries GitHub's answer; a network failure has none.
      record((error as { response?: GitHubResponse }).response);
      throw error;
    }
  };
}

/**
 * An Octokit plugin that observes every call of each client made from the class: the app's
 * (JWT) client and every installation client Probot derives from it.
 */
export function githubMetricsPlugin(metrics: Metrics) {
  return (
    octokit: { hook: { wrap(name: 'request', hook: RequestHook): void } },
    options: { auth?: unknown },
  ) => {
    const id = (options.auth as { installationId?: unknown } | undefined)?.installationId;
    octokit.hook.wrap('request', observeGitHubRequests(metrics, id ? String(id) : 'app'));
  };
}

const SEGMENT = /^(\{[a-z_]+\}|[a-z][a-z_-]*)$/;

/**
 * Octokit's route template ("/repos/{owner}/{repo}/pulls"), never an expanded URL: a full URL
 * (a next-page link) has its owner, repository, ids and SHAs put back as placeholders, and
 * anything still carrying a name becomes "other", so no repository or file name is a label.
 */
export function routeLabel(url: string): string {
  const path = url
    .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i, '')
    .replace(/[?#].*$/, '')
    .replace(/\{\?[^}]*\}$/, '')
    .replace(/^\/api\/v3(?=\/)/, '');
  if (!path.startsWith('/')) return 'other';
  if (path.includes('{')) return path;
  const normalized = path
    .replace(/^\/repos\/[^/]+\/[^/]+/, '/repos/{owner}/{repo}')
    .replace(/^\/(users|orgs)\/[^/]+/, (_, kind: string) =>
      kind === 'users' ? '/users/{username}' : '/orgs/{org}',
    )
    .split('/')
    .map((segment) =>
      /^\d+$/.test(segment) ? '{id}' : /^[0-9a-f]{40}$/.test(segment) ? '{sha}' : segment,
    );
  return normalized.slice(1).every((segment) => SEGMENT.test(segment))
    ? normalized.join('/')
    : 'other';
}
