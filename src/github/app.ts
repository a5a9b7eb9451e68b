import { Webhooks } from '@octokit/webhooks';
import type { Logger } from 'pino';
import { Probot } from 'probot';
import { githubApiUrl, type Settings } from '../settings.js';

export interface GitHubApp {
  /** Null in setup mode (no APP_ID and private key yet): nothing can call GitHub. */
  probot: Probot | null;
  /** Verifies X-Hub-Signature-256 against the raw body. */
  verify(body: string, signature: string): Promise<boolean>;
}

/** Probot for the registered app (authentication, throttling, retries), or a verifier alone. */
export function createGitHubApp(settings: Settings, log: Logger): GitHubApp {
  if (!settings.app) {
    const webhooks = new Webhooks({ secret: settings.webhookSecret });
    return { probot: null, verify: (body, signature) => webhooks.verify(body, signature) };
  }
  const probot = new Probot({
    appId: settings.app.id,
    privateKey: settings.app.privateKey,
    secret: settings.webhookSecret,
    baseUrl: githubApiUrl(settings),
    log: log.child({ name: 'probot' }),
  });
  return { probot, verify: (body, signature) => probot.webhooks.verify(body, signature) };
}
