import type { Session } from '../db/schema.js';
import { defineJob } from '../jobs/define-job.js';
import type { OperatorConfig } from '../operator-config.js';
import { NOTIFY_CHANNELS, type Notice, notifyJobPayload } from '../sessions/job-kinds.js';
import { configOf } from '../sessions/session-context.js';
import { type IssueCommenter, notifyGitHub } from './notify-github.js';
import { notifySlack } from './notify-slack.js';
import { notifyWebhook } from './notify-webhook.js';

export interface NotifyJobDeps {
  findSession(id: string): Promise<Session | undefined>;
  /** Queues notices as jobs, all or none. */
  enqueue(notices: Notice[]): Promise<void>;
  commenterFor(installationId: number): Promise<IssueCommenter>;
  notify: OperatorConfig['notify'];
  fetch?: typeof fetch;
}

/**
 * A notification: fanned out first into one job per configured channel, so that a retry never
 * repeats one already delivered; then each channel's job tells its people.
 */
export function notifyJob(deps: NotifyJobDeps) {
  const fetchImpl = deps.fetch ?? fetch;
  return defineJob(notifyJobPayload, async (notice) => {
    const { channel, sessionId, reason, text } = notice;
    if (!channel) {
      const configured = NOTIFY_CHANNELS.filter(
        (c) =>
          c === 'github' ||
          (c === 'slack' && deps.notify.slackWebhookUrl) ||
          (c === 'webhook' && deps.notify.webhook),
      );
      await deps.enqueue(configured.map((c) => ({ sessionId, reason, text, channel: c })));
      return;
    }
    const session = await deps.findSession(sessionId);
    if (!session?.installationId) return;
    const config = configOf(session);
    const issueNumber = session.prNumber ?? session.issueNumber;
    const [owner = '', repo = ''] = session.repositoryFullName.split('/');
    if (channel === 'github') {
      await notifyGitHub(await deps.commenterFor(session.installationId), {
        owner,
        repo,
        issueNumber,
        mentions: config.notify.mentions ?? [session.triggeredBy],
        text,
      });
    } else if (channel === 'slack' && deps.notify.slackWebhookUrl) {
      await notifySlack(fetchImpl, {
        webhookUrl: deps.notify.slackWebhookUrl,
        text: `${session.repositoryFullName}#${issueNumber}: ${text}`,
        channel: config.notify.slackChannel,
      });
    } else if (channel === 'webhook' && deps.notify.webhook) {
      const { url, secret } = deps.notify.webhook;
      await notifyWebhook(fetchImpl, {
        url,
        secret,
        event: {
          type: 'session.notify',
          sessionId: session.id,
          repository: session.repositoryFullName,
          issueNumber: session.issueNumber,
          prNumber: session.prNumber,
          reason,
          text,
        },
      });
    }
  });
}
