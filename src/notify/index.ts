export { type NotificationChannel, NotificationError } from './notification-error.js';
export { type GitHubNotification, mentionLine, notifyGitHub } from './notify-github.js';
export { escapeSlack, notifySlack, type SlackNotification } from './notify-slack.js';
export { notifyWebhook, type WebhookNotification } from './notify-webhook.js';
export {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  sign,
  verifySignature,
} from './signature.js';

/** What a notification says, whatever the channel; the generic webhook sends it as its event. */
export interface NotificationPayload {
  sessionId: string;
  /** `owner/name`. */
  repository: string;
  issueNumber: number;
  prNumber?: number | undefined;
  /** Why: a reaction key (`approved-and-green`, `agent-failed`, ...) or `needs_human`. */
  reason: string;
  text: string;
  /** Where to look: the pull request, the issue or the session's dashboard page. */
  url?: string | undefined;
}
