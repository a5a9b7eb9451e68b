import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Probot's fallback secret; never acceptable in production. */
export const DEVELOPMENT_WEBHOOK_SECRET = 'development';

export class SettingsError extends Error {
  override name = 'SettingsError';
  constructor(
    readonly variable: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${variable}: ${message}`, options);
  }
}

const emptyAsUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optionalText = z.preprocess(emptyAsUndefined, z.string().optional());

const port = (fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(fallback));

const schema = z.object({
  NODE_ENV: z.preprocess(emptyAsUndefined, z.string().default('development')),
  APP_ID: z.preprocess(emptyAsUndefined, z.string().regex(/^\d+$/, 'must be a number').optional()),
  PRIVATE_KEY: optionalText,
  PRIVATE_KEY_PATH: optionalText,
  WEBHOOK_SECRET: optionalText,
  GHE_HOST: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be a host name such as github.example.com')
      .optional(),
  ),
  GHE_PROTOCOL: z.preprocess(emptyAsUndefined, z.enum(['https', 'http']).default('https')),
  GH_ORG: optionalText,
  PORT: port(3000),
  HOST: optionalText,
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  ),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
  ),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('.data')),
  WORKSPACE_ROOT: optionalText,
  WORKSPACE_CHECKOUT: z.preprocess(
    emptyAsUndefined,
    z.enum(['auto', 'worktree', 'overlay']).default('auto'),
  ),
  SANDBOX: z.preprocess(emptyAsUndefined, z.enum(['bwrap', 'off']).default('bwrap')),
  API_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  METRICS_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  RUNNER: z.preprocess(emptyAsUndefined, z.enum(['embedded', 'off']).default('embedded')),
  MAX_SESSIONS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(4)),
  ORCHESTRATOR_CONFIG: optionalText,
  PUBLIC_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
});

const fixes: Record<string, string> = {
  APP_ID: 'set it to the numeric App ID shown on the GitHub App settings page',
  PRIVATE_KEY: 'paste the PEM text of the key GitHub generated, or use PRIVATE_KEY_PATH',
  PRIVATE_KEY_PATH: 'point it at the .pem file downloaded from the GitHub App settings page',
  WEBHOOK_SECRET: 'set it to the webhook secret configured on the GitHub App',
  GHE_PROTOCOL: 'use https (or http for a local test server)',
  PORT: 'use a port number between 0 and 65535',
  LOG_LEVEL: 'use one of trace, debug, info, warn, error, fatal, silent',
  DATABASE_URL: 'use a URL like postgres://user:password@host:5432/dbname, or unset it for PGlite',
  API_TOKEN: 'generate one with `openssl rand -hex 32`',
  METRICS_TOKEN:
    'generate one with `openssl rand -hex 32`, and give it to the scraper as its bearer token',
  RUNNER: 'use embedded (run agents in this process) or off (webhooks and API only)',
  MAX_SESSIONS: 'use a whole number of at least 1',
  WORKSPACE_CHECKOUT:
    'use auto (overlay where the sandbox can mount it, else every file per session), worktree (every file checked out per session) or overlay (one shared checkout per commit; with the sandbox, Linux 5.11 or later; without it, root or CAP_SYS_ADMIN)',
  SANDBOX:
    'use bwrap (every turn and setup command in a bubblewrap sandbox) or off (agents run as the app itself, with its authority)',
  PUBLIC_URL: 'use the URL people open the dashboard at, e.g. https://agents.example.com',
};

export interface Settings {
  nodeEnv: string;
  production: boolean;
  /** Null in setup mode: the app is not registered yet. */
  app: { id: number; privateKey: string } | null;
  webhookSecret: string;
  github: { host: string | undefined; protocol: 'https' | 'http'; org: string | undefined };
  port: number;
  /** HOST, or 127.0.0.1 in setup mode and 0.0.0.0 otherwise when it is unset. */
  host: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  databaseUrl: string | undefined;
  dataDir: string;
  workspaceRoot: string;
  /** How sessions' files are laid out: a full worktree each, or overlays on a shared checkout. */
  workspaceCheckout: 'auto' | 'worktree' | 'overlay';
  /** Where turns and setup commands run: `bwrap` (default) or `off`, only ever explicitly. */
  sandbox: 'bwrap' | 'off';
  apiToken: string | undefined;
  /** With it, GET /metrics takes only `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  runner: 'embedded' | 'off';
  maxSessions: number;
  orchestratorConfig: string | undefined;
  publicUrl: string | undefined;
}

export interface LoadOptions {
  /**
   * Whether this process serves the webhook route (`start`; the default). A runner, a migration
   * or a CLI command verifies no signature, so it needs no WEBHOOK_SECRET outside production.
   */
  receivesWebhooks?: boolean;
}

/** Reads and validates every setting; throws a SettingsError naming the variable and the fix. */
export function loadSettings(
  env: Record<string, string | undefined> = process.env,
  { receivesWebhooks = true }: LoadOptions = {},
): Settings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const fix = fixes[variable];
    throw new SettingsError(variable, `${issue.message}${fix ? `; ${fix}` : ''}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';

  const webhookSecret = e.WEBHOOK_SECRET ?? DEVELOPMENT_WEBHOOK_SECRET;
  if (production && webhookSecret === DEVELOPMENT_WEBHOOK_SECRET) {
    throw new SettingsError(
      'WEBHOOK_SECRET',
      `${e.WEBHOOK_SECRET ? 'the development default' : 'missing'} in production; ${fixes.WEBHOOK_SECRET}`,
    );
  }

  const privateKey = readPrivateKey(e.PRIVATE_KEY, e.PRIVATE_KEY_PATH);
  if (e.APP_ID && !privateKey) {
    throw new SettingsError('PRIVATE_KEY', `missing while APP_ID is set; ${fixes.PRIVATE_KEY}`);
  }
  if (privateKey && !e.APP_ID) {
    throw new SettingsError('APP_ID', `missing while a private key is set; ${fixes.APP_ID}`);
  }
  // Probot's fallback secret would let anyone who knows it sign webhooks: only setup mode has it.
  if (e.APP_ID && privateKey && !e.WEBHOOK_SECRET && receivesWebhooks) {
    throw new SettingsError(
      'WEBHOOK_SECRET',
      `missing while APP_ID is set; ${fixes.WEBHOOK_SECRET} (setup mode writes it to .env with APP_ID)`,
    );
  }
  if (production && !e.APP_ID) {
    throw new SettingsError(
      'APP_ID',
      `missing in production (setup mode runs only outside production); ${fixes.APP_ID}`,
    );
  }

  const dataDir = path.resolve(e.DATA_DIR);
  const app = e.APP_ID && privateKey ? { id: Number(e.APP_ID), privateKey } : null;
  return {
    nodeEnv: e.NODE_ENV,
    production,
    app,
    webhookSecret,
    github: { host: e.GHE_HOST, protocol: e.GHE_PROTOCOL, org: e.GH_ORG },
    port: e.PORT,
    // Setup mode's pages write .env: only this machine reaches them unless HOST says otherwise.
    host: e.HOST ?? (app ? '0.0.0.0' : '127.0.0.1'),
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    workspaceRoot: path.resolve(e.WORKSPACE_ROOT ?? path.join(dataDir, 'workspaces')),
    workspaceCheckout: e.WORKSPACE_CHECKOUT,
    sandbox: e.SANDBOX,
    apiToken: e.API_TOKEN,
    metricsToken: e.METRICS_TOKEN,
    runner: e.RUNNER,
    maxSessions: e.MAX_SESSIONS,
    orchestratorConfig: e.ORCHESTRATOR_CONFIG,
    publicUrl: e.PUBLIC_URL,
  };
}

/** The REST API base URL: github.com, or GitHub Enterprise (and the tests' local GitHub). */
export function githubApiUrl(settings: Pick<Settings, 'github'>): string {
  const { host, protocol } = settings.github;
  return host ? `${protocol}://${host}/api/v3` : 'https://api.github.com';
}

/** Where git reaches the repositories (and sends its tokens): github.com, or GitHub Enterprise. */
export function githubGitHost(settings: Pick<Settings, 'github'>): {
  protocol: 'https' | 'http';
  host: string;
} {
  const { host, protocol } = settings.github;
  return host ? { protocol, host } : { protocol: 'https', host: 'github.com' };
}

function readPrivateKey(inline: string | undefined, file: string | undefined): string | undefined {
  if (inline) {
    const key = normalizePem(inline);
    if (!key.includes('-----BEGIN')) {
      throw new SettingsError('PRIVATE_KEY', `is not a PEM key; ${fixes.PRIVATE_KEY}`);
    }
    return key;
  }
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingsError('PRIVATE_KEY_PATH', `cannot read ${file}; ${fixes.PRIVATE_KEY_PATH}`, {
      cause: error,
    });
  }
  if (!text.includes('-----BEGIN')) {
    throw new SettingsError('PRIVATE_KEY_PATH', `${file} is not a PEM key file`);
  }
  return text;
}

/** Accepts a PEM with real or escaped newlines, optionally quoted, or base64 of a PEM. */
function normalizePem(value: string): string {
  let key = value.trim().replace(/^"|"$/g, '');
  if (!key.includes('-----BEGIN')) {
    const decoded = Buffer.from(key, 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) key = decoded;
  }
  return `${key.replace(/\\n/g, '\n').trim()}\n`;
}
