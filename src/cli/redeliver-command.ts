import { destination, type Logger, pino } from 'pino';
import { createDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createGitHubApp } from '../github/app.js';
import { createDeliveryRecovery } from '../github/delivery-recovery.js';
import type { Octokit } from '../github/octokit.js';
import { githubApiUrl, loadSettings, type Settings } from '../settings.js';
import { parseCommandArgs } from './args.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { configured, configuredAsync } from './configured.js';
import type { Io } from './io.js';
import { USAGE } from './usage.js';

interface HookDelivery {
  id: number;
  guid: string;
  status_code: number;
  delivered_at: string;
  event?: string;
  action?: string | null;
}

/** Pages of 100 deliveries searched for one GUID (GitHub keeps them for a few days). */
const MAX_PAGES = 10;

/**
 * `agent-orchestrator redeliver [guid]`: the failed-delivery recovery, run once now with the
 * app's credentials, or a redelivery of one delivery by its GUID.
 */
export async function redeliverCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {}, USAGE.redeliver);
  if (values.help) {
    io.out(USAGE.redeliver);
    return EXIT.ok;
  }
  if (positionals.length > 1)
    throw usageError(`Unexpected argument "${positionals[1]}".`, USAGE.redeliver);
  const [guid] = positionals;
  if (guid !== undefined && !/^[\w-]{1,100}$/.test(guid))
    throw usageError(`"${guid}" is not a delivery GUID (X-GitHub-Delivery).`, USAGE.redeliver);

  const settings = configured(() => loadSettings(io.env, { receivesWebhooks: false }));
  if (!settings.app)
    throw new CliError(
      "Configuration error: redeliver needs the app's credentials: set APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH)",
      EXIT.config,
    );
  // Only what goes wrong reaches stderr; what was asked for is printed on stdout.
  const log = pino({ level: 'warn', base: { app: 'agent-orchestrator' } }, destination(2));
  const probot = createGitHubApp(settings, log).probot!;
  const appOctokit = () => probot.auth() as Promise<Octokit>;
  try {
    if (guid) await redeliverOne(await appOctokit(), guid, io);
    else await redeliverFailed(settings, appOctokit, log, io);
  } catch (error) {
    throw asGitHubError(error, settings);
  }
  return EXIT.ok;
}

async function redeliverOne(octokit: Octokit, guid: string, io: Io): Promise<void> {
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await octokit.request('GET /app/hook/deliveries', {
      per_page: 100,
      ...(cursor ? { cursor } : {}),
    });
    const list = response.data as HookDelivery[];
    // Newest first: the first attempt found is the latest.
    const latest = list.find((d) => d.guid === guid);
    if (latest) {
      await octokit.request('POST /app/hook/deliveries/{delivery_id}/attempts', {
        delivery_id: latest.id,
      });
      io.out(`Asked GitHub to redeliver ${describe(latest)}.`);
      return;
    }
    cursor = nextCursor(response.headers.link);
    if (!cursor || list.length === 0) break;
  }
  throw new CliError(
    `GitHub lists no delivery ${guid} among the app's recent deliveries; check the GUID (the X-GitHub-Delivery header).`,
    EXIT.failure,
  );
}

async function redeliverFailed(
  settings: Settings,
  appOctokit: () => Promise<Octokit>,
  log: Logger,
  io: Io,
): Promise<void> {
  if (!settings.databaseUrl) await refuseIfServedEmbedded(io.env);
  const database = await configuredAsync(() =>
    createDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir }),
  );
  try {
    await runMigrations(database);
    // What the recovery lists and asks for, seen on its own Octokit's requests.
    const listed = new Map<number, HookDelivery>();
    const asked: number[] = [];
    const recovery = createDeliveryRecovery({
      database,
      log,
      async appOctokit() {
        const octokit = await appOctokit();
        octokit.hook.after('request', (response, options) => {
          if (options.url === '/app/hook/deliveries')
            for (const d of response.data as HookDelivery[]) listed.set(d.id, d);
          else if (options.url === '/app/hook/deliveries/{delivery_id}/attempts')
            asked.push(Number(options.delivery_id));
        });
        return octokit;
      },
    });
    await recovery.runOnce();
    for (const id of asked) {
      const delivery = listed.get(id);
      io.out(`Asked GitHub to redeliver ${delivery ? describe(delivery) : `attempt ${id}`}.`);
    }
    io.out(
      asked.length > 0
        ? `Asked for ${asked.length} ${asked.length === 1 ? 'delivery' : 'deliveries'}; they arrive as new webhook attempts.`
        : 'Nothing to redeliver: every delivery GitHub failed to hand over in the last 24 hours was recorded.',
    );
  } finally {
    await database.close();
  }
}

/**
 * The embedded database serves one process: while the server runs on it, the server's own
 * recovery (at startup and every 10 minutes) is the one to use.
 */
async function refuseIfServedEmbedded(env: Record<string, string | undefined>): Promise<void> {
  const url = env.AGENT_ORCHESTRATOR_URL?.trim() || `http://localhost:${env.PORT?.trim() || 3000}`;
  let database: unknown;
  try {
    const response = await fetch(`${url.replace(/\/+$/, '')}/readyz`, {
      signal: AbortSignal.timeout(2_000),
    });
    database = ((await response.json()) as { database?: unknown }).database;
  } catch {
    return; // nothing answers there: the embedded database is free
  }
  if (database === 'pglite')
    throw new CliError(
      `The server at ${url} is running on the embedded database, which only one process may open. It asks GitHub for failed deliveries itself at startup and every 10 minutes: restart it to look now, or run with Postgres (DATABASE_URL).`,
      EXIT.failure,
    );
}

function describe(d: HookDelivery): string {
  const event = d.event ? `${d.event}${d.action ? `.${d.action}` : ''}, ` : '';
  return `${d.guid} (${event}last attempt answered ${d.status_code} at ${d.delivered_at})`;
}

function nextCursor(link: string | undefined): string | undefined {
  return /[?&]cursor=([^&>]+)[^>]*>;\s*rel="next"/.exec(String(link ?? ''))?.[1];
}

/** GitHub's refusals and silences, with the exit codes the session commands use for ours. */
function asGitHubError(error: unknown, settings: Settings): unknown {
  if (error instanceof CliError) return error;
  const status = (error as { status?: number }).status;
  const message = (error as Error).message;
  if (status === 401)
    return new CliError(
      `GitHub refused the app's credentials (401: ${message}); check APP_ID and the private key.`,
      EXIT.noPermission,
      undefined,
      { cause: error },
    );
  // Octokit reports a request that got no answer as a 500 carrying the network error's message.
  if (status === 500 && /fetch failed|socket|E[A-Z]{4,}/.test(message))
    return new CliError(
      `Cannot reach GitHub at ${githubApiUrl(settings)} (${message}).`,
      EXIT.unavailable,
      undefined,
      { cause: error },
    );
  if (typeof status === 'number')
    return new CliError(`GitHub answered ${status}: ${message}`, EXIT.failure, undefined, {
      cause: error,
    });
  return error;
}
