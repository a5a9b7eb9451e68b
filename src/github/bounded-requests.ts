/**
 * How long one GitHub call may take, so that a job's attempts (with their backoff, and a dead job
 * reported when they run out) decide when to give up, not the retries inside one call. Probot's
 * defaults retry a failed call three times with growing waits (1, 4, 9 s), and the installation
 * token a call asks for first is retried the same way inside each try; they wait out any rate
 * limit however long, and give a request no deadline. With GitHub refusing connections one
 * intent job's attempt took 340 s (bench/github-outage.ts).
 */

/** Tries of a failed call beyond the first (Octokit's retry plugin; not after a timeout). */
export const GITHUB_RETRIES = 1;
/** How long one request waits for GitHub's answer (each try alike). */
export const GITHUB_TIMEOUT_MS = 30_000;
/** A rate limit that lifts within this is waited out, once; a longer one fails the call. */
export const GITHUB_RATE_LIMIT_WAIT_S = 60;

type Fetch = typeof globalThis.fetch;

/**
 * A request GitHub did not answer in time. Named as an abort on purpose: Octokit passes an abort
 * on as it is (status 500) and its retry plugin does not retry it, so a GitHub that hangs costs
 * one deadline per call, and the job's next attempt, after its backoff, is the retry.
 */
export class GitHubTimeoutError extends Error {
  override name = 'AbortError';
}

/** fetch with a deadline: a request GitHub does not answer in time fails, saying so. */
export function fetchWithTimeout(timeoutMs = GITHUB_TIMEOUT_MS): Fetch {
  return async (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      // Looked up per call, so a fetch replaced later (by a test's interceptor) is the one used.
      return await globalThis.fetch(input, { ...init, signal });
    } catch (error) {
      if (deadline.aborted && !init?.signal?.aborted) {
        throw new GitHubTimeoutError(`GitHub did not answer within ${timeoutMs / 1000} s`, {
          cause: error,
        });
      }
      throw error;
    }
  };
}

interface Logged {
  log: { warn(message: string): void };
}

/**
 * The throttling plugin's handlers: wait out a short limit once, and fail the call on a long one
 * or a second hit, so the job backs off and tries again later (Probot's wait for ever).
 */
function waitOnce(what: string) {
  return (
    retryAfter: number,
    options: { method?: string; url?: string },
    octokit: Logged,
    retryCount = 0,
  ): boolean => {
    const call = `${options.method ?? 'GET'} ${options.url ?? ''}`;
    if (retryCount === 0 && retryAfter <= GITHUB_RATE_LIMIT_WAIT_S) {
      octokit.log.warn(`${what} on "${call}", retrying once in ${retryAfter} s`);
      return true;
    }
    octokit.log.warn(`${what} on "${call}" for ${retryAfter} s more: the call fails`);
    return false;
  };
}

/** The Octokit options that bound each call: few retries, a deadline, limited rate-limit waits. */
export function boundedRequestOptions(timeoutMs = GITHUB_TIMEOUT_MS) {
  return {
    retry: { retries: GITHUB_RETRIES },
    request: { fetch: fetchWithTimeout(timeoutMs) },
    throttle: {
      onRateLimit: waitOnce('Rate limit hit'),
      onSecondaryRateLimit: waitOnce('Secondary rate limit hit'),
    },
  };
}
