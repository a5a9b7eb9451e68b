import { defineJob } from '../jobs/define-job.js';
import type { Intent } from '../sessions/intents.js';
import { intentJobPayload } from '../sessions/job-kinds.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { onCi } from './on-ci.js';
import { onComment } from './on-comment.js';
import { onIssueClosed } from './on-issue-closed.js';
import { onLabel } from './on-label.js';
import { onOperatorStart } from './on-operator-start.js';
import { onPullRequest } from './on-pull-request.js';
import { onPush } from './on-push.js';
import { onReview } from './on-review.js';

/** The job of a webhook's intent (or an operator's start): its handler, by kind. */
export function intentJob(deps: LifecycleDeps) {
  return defineJob(intentJobPayload, async ({ intent, deliveryId, receivedAt, check }) => {
    if (intent.kind === 'operator-start') {
      const outcome = await onOperatorStart(deps, intent, receivedAt, deliveryId);
      deps.log.info(
        { startId: deliveryId, repository: intent.repository, outcome },
        'operator start applied',
      );
      return;
    }
    const allowed = deps.operatorConfig.allowedInstallations;
    if (allowed && !allowed.includes(intent.installationId)) return;
    const outcome = await dispatch(deps, intent, receivedAt, deliveryId, check);
    deps.log.info(
      { deliveryId, intent: intent.kind, repository: intent.repo.fullName, outcome },
      'intent applied',
    );
  });
}

function dispatch(
  deps: LifecycleDeps,
  intent: Intent,
  receivedAt: string,
  deliveryId: string,
  check: number,
): Promise<string> {
  switch (intent.kind) {
    case 'label-added':
    case 'label-removed':
      return onLabel(deps, intent, receivedAt, deliveryId);
    case 'issue-closed':
      return onIssueClosed(deps, intent, deliveryId);
    case 'comment':
      return onComment(deps, intent, receivedAt, deliveryId);
    case 'review':
      return onReview(deps, intent, deliveryId);
    case 'ci':
      return onCi(deps, intent, deliveryId);
    case 'pr-opened':
    case 'pr-updated':
    case 'pr-closed':
      return onPullRequest(deps, intent, deliveryId);
    case 'push':
      return onPush(deps, intent, deliveryId, check);
  }
}
