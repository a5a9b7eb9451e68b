import { Webhooks } from '@octokit/webhooks';
import type { Logger } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { githubMetricsPlugin, observeGitHubRequests } from '../metrics/github-metrics.js';
import type { Metrics } from '../metrics/metrics.js';
import { githubApiUrl, type Settings } from '../settings.js';
import { boundedRequestOptions } from './bounded-requests.js';

export interface GitHubApp {
  /** Null in setup mode (no APP_ID and private key yet): nothing can call GitHub. */
  probot: Probot | null;
  /** Verifies X-Hub-Signature-256 against the raw body. */
  verify(body: string, signature: string): Promise<boolean>;
}

/**
 * Probot for the registered app (authentication, throttling, retries), or a verifier alone.
 * Every call is bounded (bounded-requests.ts): one retry, a deadline, short rate-limit waits.
 * Tests may turn throttling off: it spaces out content-creating calls as GitHub asks. With
 * metrics, every GitHub call of every client the app makes is counted.
 */
export function createGitHubApp(
  settings: Settings,
  log: Logger,
  {
    throttle = true,
    metrics,
    requestTimeoutMs,
  }: {
    throttle?: boolean;
    metrics?: Metrics | undefined;
    /** How long one request waits for an answer (default GITHUB_TIMEOUT_MS; tests shorten it). */
    requestTimeoutMs?: number | undefined;
  } = {},
): GitHubApp {
  if (!settings.app) {
    const webhooks = new Webhooks({ secret: settings.webhookSecret });
    return { probot: null, verify: (body, signature) => webhooks.verify(body, signature) };
  }
  const baseUrl = githubApiUrl(settings);
  const bounded = boundedRequestOptions(requestTimeoutMs);
  const probot = new Probot({
    appId: settings.app.id,
    privateKey: settings.app.privateKey,
    secret: settings.webhookSecret,
    baseUrl,
    Octokit: withEnterpriseAuth(baseUrl, throttle, metrics, bounded),
    // Probot hands the deadline to the app's own token requests too (the runner's push tokens).
    request: bounded.request,
    log: log.child({ name: 'probot' }),
  });
  return { probot, verify: (body, signature) => probot.webhooks.verify(body, signature) };
}

type OctokitOptions = {
  auth?: { request?: { defaults(options: { baseUrl: string; request?: object }): unknown } };
  request?: object;
  throttle?: object;
};

/**
 * Probot 14 builds the app-auth `request` without its baseUrl, so installation tokens would be
 * asked of api.github.com even on GitHub Enterprise (and the tests' local GitHub). This gives
 * that request the same base URL as every other call.
 */
function withEnterpriseAuth(
  baseUrl: string,
  throttle: boolean,
  metrics: Metrics | undefined,
  bounded: ReturnType<typeof boundedRequestOptions>,
): typeof ProbotOctokit {
  // A token asked for outright (the runner's, to push with) comes through this request, outside
  // the clients' hooks; one fetched for an API call goes through them.
  const tokenRequests = metrics ? { request: { hook: observeGitHubRequests(metrics, 'app') } } : {};
  const Octokit = ProbotOctokit.defaults((options: OctokitOptions) => {
    const request = options.auth?.request;
    const withAuth = request
      ? {
          ...options,
          auth: { ...options.auth, request: request.defaults({ baseUrl, ...tokenRequests }) },
        }
      : options;
    const withBounds = {
      ...withAuth,
      retry: bounded.retry,
      request: { ...withAuth.request, ...bounded.request },
    };
    return throttle
      ? { ...withBounds, throttle: { ...withBounds.throttle, ...bounded.throttle } }
      : { ...withBounds, throttle: { enabled: false } };
  }) as typeof ProbotOctokit;
  return metrics
    ? (Octokit.plugin(githubMetricsPlugin(metrics) as never) as typeof ProbotOctokit)
    : Octokit;
}
