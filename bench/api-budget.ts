/**
 * Benchmark 4: GitHub API calls, counted at the HTTP layer of the local GitHub the app talks to:
 * an idle session with an open pull request, and each kind of reaction.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedCall } from '../test/helpers/local-github.js';
import { type AppScenario, startAppScenario } from './support/app-scenario.js';
import { createCleanupStack } from './support/cleanup.js';
import { ciFailure, payload } from './support/payloads.js';
import { type Benchmark, verdict } from './support/report.js';
import { median } from './support/stats.js';

/** The polling peer: about 1.25 conditional calls per pull request every 30 s. */
const PEER_PER_HOUR = 1.25 * (3_600 / 30);

/** `GET /repos/{o}/{r}/pulls/{n}` from `GET /api/v3/repos/octo/widgets/pulls/101?x=1`. */
function route(call: RecordedCall): string {
  const pathname = call.path
    .split('?')[0]!
    .replace(/^\/api\/v3/, '')
    .replace(/^\/repos\/[^/]+\/[^/]+/, '/repos/{o}/{r}')
    .replace(/\/[0-9a-f]{40}(?=\/|$)/g, '/{sha}')
    .replace(/\/\d+(?=\/|$)/g, '/{n}');
  return `${call.method} ${pathname}`;
}

function byRoute(calls: RecordedCall[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(route(call), (counts.get(route(call)) ?? 0) + 1);
  return counts;
}

/** Sends one reaction's webhook once the app is idle; returns where its calls begin. */
async function startReaction(app: AppScenario, send: () => Promise<void>): Promise<number> {
  await app.idle();
  const mark = app.github.calls.length;
  await send();
  return mark;
}

export const apiBudget: Benchmark = {
  id: 'api',
  title: '4. GitHub API budget',
  async run({ quick, resultsDir, log }) {
    const cleanup = createCleanupStack(log);
    try {
      const app = await startAppScenario({
        name: 'api',
        resultsDir,
        cleanup,
        log,
        repoConfig: {
          reactions: { 'ci-failed': { retries: 50 }, 'changes-requested': { retries: 50 } },
        },
      });
      let { session } = await app.startSession(1);
      await app.idle();
      let turns = 1;

      const idleMs = quick ? 10_000 : 60_000;
      log(`idle for ${idleMs / 1000} s with PR #${session.prNumber} open`);
      const idleMark = app.github.calls.length;
      await sleep(idleMs);
      const idleCalls = app.github.calls.slice(idleMark);
      const idlePerHour = (idleCalls.length * 3_600_000) / idleMs;

      const repeats = quick ? 2 : 5;
      const ciCounts: number[] = [];
      const ciRoutes: RecordedCall[] = [];
      for (let i = 0; i < repeats; i++) {
        const sha = session.headSha!;
        app.github.addCheckRun({
          name: 'test',
          head_sha: sha,
          status: 'completed',
          conclusion: 'failure',
          app: { slug: 'ci-bot' },
          details_url: 'https://ci.example/run/1',
          output: { title: '1 test failed', summary: 'expected 2, received 3' },
          annotations: [],
        });
        const mark = await startReaction(app, async () => {
          const answer = await app.deliver(
            'check_suite',
            ciFailure(sha, session.prNumber!, 60_000 + i),
          );
          if (answer.status !== 200) throw new Error(`CI delivery answered ${answer.status}`);
        });
        turns += 1;
        session = await app.turnsFinished(session.id, turns);
        await app.idle();
        const calls = app.github.calls.slice(mark);
        ciCounts.push(calls.length);
        if (i === 0) ciRoutes.push(...calls);
      }

      const reviewCounts: number[] = [];
      const reviewRoutes: RecordedCall[] = [];
      for (let i = 0; i < repeats; i++) {
        const sha = session.headSha!;
        const review = app.github.addReview('octo/widgets', session.prNumber!, {
          state: 'CHANGES_REQUESTED',
          body: 'Please rename the helper and add a test.',
          user: { login: 'alice', type: 'User' },
          commit_id: sha,
          comments: [
            {
              id: 9_000 + i,
              path: 'src/widget.ts',
              line: 3,
              original_line: 3,
              diff_hunk: '@@ -1,3 +1,3 @@\n-old\n+new',
              body: 'This name is unclear.',
              user: { login: 'alice' },
            },
          ],
        });
        const body = payload('pull_request_review', 'submitted', {
          edit: (p) => {
            p.review = {
              ...p.review,
              id: review.id,
              state: 'changes_requested',
              body: review.body,
            };
            p.pull_request = {
              ...p.pull_request,
              number: session.prNumber,
              head: { ...p.pull_request.head, sha },
            };
          },
        });
        const mark = await startReaction(app, async () => {
          const answer = await app.deliver('pull_request_review', body);
          if (answer.status !== 200) throw new Error(`review delivery answered ${answer.status}`);
        });
        turns += 1;
        session = await app.turnsFinished(session.id, turns);
        await app.idle();
        const calls = app.github.calls.slice(mark);
        reviewCounts.push(calls.length);
        if (i === 0) reviewRoutes.push(...calls);
      }

      const breakdown = (calls: RecordedCall[]) =>
        [...byRoute(calls).entries()].map(([r, n]) => `${n}× ${r}`).join('; ') || 'none';
      return {
        rows: [
          {
            metric: `idle session with an open PR: calls in ${idleMs / 1000} s`,
            value: String(idleCalls.length),
            target: '0',
            verdict: verdict(idleCalls.length === 0),
          },
          {
            metric: 'idle session, calls per session-hour (extrapolated)',
            value: String(Math.round(idlePerHour)),
            target: `0 (polling peer: about ${PEER_PER_HOUR} per PR-hour)`,
            verdict: verdict(idlePerHour === 0),
          },
          {
            metric: `calls per CI-failure reaction (median of ${repeats})`,
            value: String(median(ciCounts)),
          },
          {
            metric: `calls per review reaction (median of ${repeats})`,
            value: String(median(reviewCounts)),
          },
        ],
        tables: [
          {
            title: 'The calls, by route (first reaction of each kind)',
            header: ['what', 'calls'],
            rows: [
              ['idle period', breakdown(idleCalls)],
              ['CI failure: webhook to idle again', breakdown(ciRoutes)],
              ['review requesting changes: webhook to idle again', breakdown(reviewRoutes)],
            ],
          },
        ],
        notes: [
          'Every request the app sends to GitHub is recorded by the local GitHub (test/helpers/local-github.ts) it is pointed at (GHE_HOST), so nothing is missed: API calls, installation token requests, comments.',
          `Idle: after the session's pull request is open and every job has finished, ${idleMs / 1000} s with no event; the count is extrapolated to an hour. App-wide (not per session) the failed-delivery check adds about 6 calls an hour (GET /app/hook/deliveries at startup and every 10 minutes); it ran at startup, before the measured period.`,
          "A reaction is counted from its webhook until the agent has taken the turn, pushed, and every job has finished (status comment edits included). git fetch and push go to the bare origin over file://, not through the API, as they would go to github.com over git's HTTPS transport.",
          `The polling peer's rate is the figure from the issue: about 1.25 conditional calls per pull request every 30 s, ${PEER_PER_HOUR} an hour, whether anything happened or not.`,
        ],
      };
    } finally {
      await cleanup.run();
    }
  },
};
