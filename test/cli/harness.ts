import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { type Orchestrator, startOrchestrator } from '../../src/composition/start-orchestrator.js';
import { sessions } from '../../src/db/schema.js';
import { STATUS_MARKER } from '../../src/github/status-comment.js';
import { loadSettings } from '../../src/settings.js';
import { openTestDatabase } from '../helpers/databases.js';
import { createOrigin } from '../helpers/git.js';
import { startLocalGitHub } from '../helpers/local-github.js';
import { generatePrivateKey } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { deliveryHeaders, examplePayload } from '../helpers/webhooks.js';
import { fakeAgentConfig } from '../runner/harness.js';

export const API_TOKEN = 'cli-test-api-token-0123456789';
export const SECRET = 'cli-test-webhook-secret';
export const REPOSITORY = 'octo/widgets';
export const REPOSITORY_ID = 4242;
export const INSTALLATION = 7;

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** A port nothing listens on: taken, then given back. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `agent-orchestrator <args>` from the sources (as test/helpers/processes.ts does) in a child
 * process with only the given environment, stdin as given, and stdout and stderr apart.
 */
export function runCommand(
  args: string[],
  env: Record<string, string>,
  { stdin = '', cwd = tmpdir() }: { stdin?: string; cwd?: string } = {},
): Promise<CommandResult> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The whole app in-process on Postgres (so the CLI's `redeliver` may open the same database),
 * against the local GitHub, with the fake agent; and the CLI run against it.
 */
export async function startCliHarness() {
  const github = await startLocalGitHub();
  const origin = await createOrigin();
  const database = await openTestDatabase('postgres');
  const dir = mkdtempSync(path.join(tmpdir(), 'ao-cli-'));
  const operatorFile = path.join(dir, 'orchestrator.yml');
  writeFileSync(
    operatorFile,
    stringify({ agents: { fake: fakeAgentConfig }, profiles: { careful: { agent: 'fake' } } }),
  );
  github.setFile(REPOSITORY, '.github/agent.yml', stringify({ agent: 'fake' }));
  github.setRole('alice', 'admin');
  github.addRepository({
    fullName: REPOSITORY,
    id: REPOSITORY_ID,
    installationId: INSTALLATION,
    gitDir: origin.path,
    defaultBranch: 'main',
  });
  // The app's own settings: what `redeliver` needs as well as the server.
  const appEnv = {
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: SECRET,
    DATABASE_URL: database.url!,
    DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    GHE_HOST: github.host,
    GHE_PROTOCOL: 'http',
  };
  const settings = loadSettings({
    ...appEnv,
    ORCHESTRATOR_CONFIG: operatorFile,
    API_TOKEN,
    PORT: '0',
    HOST: '127.0.0.1',
    PUBLIC_URL: 'https://agents.example.com',
  });
  const orchestrator: Orchestrator = await startOrchestrator({
    settings,
    log: pino({ level: settings.logLevel }),
    envFile: path.join(dir, '.env'),
    githubThrottle: false,
    runnerOptions: { env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, pollMs: 500 },
  });
  const { db } = orchestrator.database;
  const cwd = mkdtempSync(path.join(tmpdir(), 'ao-cli-cwd-'));

  return {
    github,
    origin,
    orchestrator,
    db,
    appEnv,
    /** Runs the CLI against this server with its URL and token (overridable). */
    cli: (args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) =>
      runCommand(
        args,
        {
          AGENT_ORCHESTRATOR_URL: orchestrator.url,
          API_TOKEN,
          ...options.env,
        },
        { cwd, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) },
      ),
    /** The API itself, for checking what the CLI or an MCP client did. */
    async api<T>(route: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
      const res = await fetch(`${orchestrator.url}${route}`, {
        ...init,
        headers: {
          authorization: `Bearer ${API_TOKEN}`,
          'content-type': 'application/json',
          ...init.headers,
        },
      });
      return { status: res.status, body: (await res.json()) as T };
    },
    /** An issue on the repository, as GitHub would answer it. */
    addIssue: (number: number, title = `Issue ${number}`, body = 'Please fix it.') =>
      github.addIssue(REPOSITORY, { number, title, body }),
    /** Sends a signed webhook delivery, as GitHub does. */
    async deliver(event: string, body: Record<string, unknown>, id?: string) {
      const text = JSON.stringify(body);
      const res = await fetch(`${orchestrator.url}/api/github/webhooks`, {
        method: 'POST',
        headers: deliveryHeaders(SECRET, event, text, id),
        body: text,
      });
      if (res.status !== 200) throw new Error(`delivery answered ${res.status}`);
    },
    examplePayload,
    session: async (id: string) => (await db.select().from(sessions).where(eq(sessions.id, id)))[0],
    statusComments: (issueNumber: number) =>
      github.comments.filter((c) => c.issue === issueNumber && c.body.startsWith(STATUS_MARKER)),
    until,
    async cleanup() {
      await orchestrator.close();
      await database.cleanup();
      await github.close();
      await origin.cleanup();
      rmSync(dir, { recursive: true, force: true });
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

export type CliHarness = Awaited<ReturnType<typeof startCliHarness>>;
