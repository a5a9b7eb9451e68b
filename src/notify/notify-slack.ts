import { postJson } from './post-json.js';

export interface SlackNotification {
  /** A Slack incoming webhook URL (a secret: it is never logged or put in an error). */
  webhookUrl: string;
  text: string;
  /** A channel override, for the legacy webhooks that still honour it. */
  channel?: string | undefined;
  /** How long to wait for Slack (10 s). */
  timeoutMs?: number;
}

/**
 * Posts text to a Slack incoming webhook. Throws (so the delivering job retries) on a network
 * error or a non-2xx answer, with its status.
 */
export async function notifySlack(
  fetchImpl: typeof fetch = fetch,
  { webhookUrl, text, channel, timeoutMs = 10_000 }: SlackNotification,
): Promise<void> {
  const body = JSON.stringify({ text: escapeSlack(text), ...(channel ? { channel } : {}) });
  await postJson(fetchImpl, webhookUrl, body, { channel: 'slack', timeoutMs });
}

/**
 * Slack reads `<...>` as links and mentions (`<!channel>`), so text taken from GitHub could ping a
 * whole channel; Slack asks for exactly these three characters to be escaped.
 */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
