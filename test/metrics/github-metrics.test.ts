import { describe, expect, it } from 'vitest';
import { observeGitHubRequests, routeLabel } from '../../src/metrics/github-metrics.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

describe('GitHub route labels', () => {
  it("keeps Octokit's route template as it is", () => {
    expect(routeLabel('/repos/{owner}/{repo}/issues/{issue_number}/comments')).toBe(
      '/repos/{owner}/{repo}/issues/{issue_number}/comments',
    );
    expect(routeLabel('/app/hook/deliveries')).toBe('/app/hook/deliveries');
  });

  it('turns an expanded next-page link back into a template, with no name or id in it', () => {
    expect(
      routeLabel('https://ghe.example.com/api/v3/repositories/1296269/issues/1347/comments?page=2'),
    ).toBe('/repositories/{id}/issues/{id}/comments');
    expect(routeLabel('/repos/octo/secret-project/pulls/12/reviews?per_page=100&page=3')).toBe(
      '/repos/{owner}/{repo}/pulls/{id}/reviews',
    );
    expect(
      routeLabel('/repos/octo/widgets/commits/0123456789abcdef0123456789abcdef01234567/check-runs'),
    ).toBe('/repos/{owner}/{repo}/commits/{sha}/check-runs');
    expect(routeLabel('/users/alice/repos')).toBe('/users/{username}/repos');
  });

  it('labels "other" what it cannot make a template of, rather than expose a name', () => {
    expect(routeLabel('/repos/octo/widgets/contents/docs/Secret Plan.md')).toBe('other');
    expect(routeLabel('/repos/octo/widgets/git/ref/heads/feature/launch-2')).toBe('other');
    expect(routeLabel('')).toBe('other');
  });
});

describe('a GitHub call that gets no answer', () => {
  it('is counted with status "error" and leaves the rate limit alone', async () => {
    const metrics = createMetrics();
    const observe = observeGitHubRequests(metrics, '7');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { status: 500 });
    await expect(
      observe(() => Promise.reject(refused), { method: 'get', url: '/repos/{owner}/{repo}' }),
    ).rejects.toBe(refused);
    const samples = parsePrometheusText(await metrics.registry.metrics());
    expect(
      sampleValue(samples, 'agent_orchestrator_github_requests_total', {
        method: 'GET',
        route: '/repos/{owner}/{repo}',
        status: 'error',
      }),
    ).toBe(1);
    expect(samples.some((s) => s.name === 'agent_orchestrator_github_rate_limit_remaining')).toBe(
      false,
    );
  });
});
