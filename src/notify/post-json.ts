import { type NotificationChannel, NotificationError } from './notification-error.js';

export interface PostJsonOptions {
  channel: NotificationChannel;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/**
 * POSTs a JSON body and throws a NotificationError unless the answer is 2xx. Redirects are not
 * followed (a signed body goes only where it was addressed), and the URL is never put in the
 * error: a Slack webhook URL is itself the secret.
 */
export async function postJson(
  fetchImpl: typeof fetch,
  url: string,
  body: string,
  { channel, headers = {}, timeoutMs }: PostJsonOptions,
): Promise<void> {
  const host = new URL(url).host;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'agent-orchestrator',
        ...headers,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new NotificationError(
      `${channel} notification to ${host} failed: ${(error as Error).message}`,
      {
        channel,
        cause: error,
      },
    );
  }
  const answer = await response.text().catch(() => '');
  if (response.status < 200 || response.status > 299) {
    const detail = answer.trim().slice(0, 200);
    throw new NotificationError(
      `${channel} notification to ${host} answered ${response.status}${detail ? `: ${detail}` : ''}`,
      { channel, status: response.status },
    );
  }
}
