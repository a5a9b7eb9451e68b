import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { stringify } from 'yaml';
import { adminUrl } from '../helpers/databases.js';
import { createOrigin, type Origin } from '../helpers/git.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';
import { generatePrivateKey, REPO_ROOT } from '../helpers/processes.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { until as waitUntil } from '../helpers/until.js';
import { deliveryHeaders, examplePayload } from '../helpers/webhooks.js';
import { fakeAgentConfig } from '../runner/harness.js';

export const REPOSITORY = 'octo/widgets';
export const REPOSITORY_ID = 4242;
export const INSTALLATION = 7;
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

// biome-ignore lint/suspicious/noExplicitAny: example payloads are untyped JSON, edited freely per scenario
export type EditablePayload = Record<string, any>;

/** A session as the JSON API returns it. */
export interface ApiSession {
  id: string;
  issueNumber: number;
  prNumber: number | null;
  branch: string | null;
  headSha: string | null;
  status: string;
  statusReason: string | null;
  workspacePath: string | null;
  triggeredBy: string;
  reactionAttempts: Record<string, number>;
}

export interface ApiEvent {
  id: number;
  kind: string;
  data: Record<string, unknown>;
}

/** One JSON log line of the server (pino). */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * `npm start` is `npm run build` (its prestart script) and then `node dist/cli.js start`. Test files
 * run in parallel, and two builds writing dist/ at once would collide (and a server starting while
 * another file builds could load half-written files), so the build runs under a lock, at most once
 * per test run (the workers of one run share a parent process), and only when a source is newer
 * than the last build these tests made.
 */
export async function ensureBuilt(): Promise<void> {
  const key = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12);
  const lock = path.join(tmpdir(), `agent-orchestrator-e2e-build-${key}.lock`);
  const stamp = path.join(REPO_ROOT, 'dist', '.e2e-build-stamp');
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileSafe(path.join(lock, 'pid')));
      if (holder && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the build lock ${lock} was never released`);
      await sleep(200);
    }
  }
  try {
    const built = existsSync(stamp) && existsSync(CLI) ? statSync(stamp).mtimeMs : 0;
    const runId = testRunId();
    if (built && readFileSafe(stamp) === runId) return;
    if (newestSource() < built) return;
    const startedAt = new Date();
    const { code, output } = await run('npm', ['run', 'build'], REPO_ROOT);
    if (code !== 0) throw new Error(`npm run build failed (exit ${code}):\n${output}`);
    // The time the build began: a source saved during the build makes the next run build again.
    writeFileSync(stamp, runId);
    utimesSync(stamp, startedAt, startedAt);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The vitest process this worker belongs to: its pid and start time (pids are reused). */
function testRunId(): string {
  const stat = readFileSafe(`/proc/${process.ppid}/stat`);
  return `${process.ppid}:${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''}`;
}

function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json'])
    newest = Math.max(newest, statSync(path.join(REPO_ROOT, file)).mtimeMs);
  return newest;
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], cwd: string) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** The server as a child process of its own group, with its JSON log lines. */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  logs(): LogLine[];
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals the whole process group (the server and any git it runs; agents have their own). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it is not gone in 15 s. */
  stop(): Promise<void>;
}

/**
 * Runs what `npm start` runs once its prestart build is done: `node dist/cli.js start` (ensureBuilt
 * did the build). Not `npm start --ignore-scripts`: npm would put itself and a shell between the test
 * and the server, and a SIGKILL meant for the server would land on npm first.
 */
function spawnServer(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  // detached: the server leads its own process group, so a test can kill all of it at once.
  const child = spawn(process.execPath, [CLI, 'start'], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines: LogLine[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    partial += text;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line (e.g. a configuration error on stderr): kept in output()
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const pid = child.pid!;
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill('SIGKILL');
      reject(new Error(`the server did not start in 60 s; output:\n${output}`));
    }, 60_000);
    const check = setInterval(() => {
      const listening = lines.find((l) => l.msg === 'agent orchestrator listening');
      if (!listening) return;
      clearInterval(check);
      clearTimeout(timer);
      resolve({
        child,
        pid,
        url: String(listening.url),
        logs: () => lines,
        output: () => output,
        exited,
        kill,
        async stop() {
          kill('SIGTERM');
          const gone = await Promise.race([exited.then(() => true), sleep(15_000, false)]);
          if (!gone) kill('SIGKILL');
          await exited;
          kill('SIGKILL'); // anything of its group left behind (a git it ran)
        },
      });
    }, 50);
    void exited.then(() => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`the server exited before listening; output:\n${output}`));
    });
  });
}

export interface WorldOptions {
  engine: 'pglite' | 'postgres';
  /** Postgres reached through a TCP proxy the test can cut. */
  proxy?: boolean;
  /** Merged into the operator YAML (ORCHESTRATOR_CONFIG), which defines the fake agent. */
  operator?: Record<string, unknown>;
  /** Merged into the repository's .github/agent.yml. */
  repoConfig?: Record<string, unknown>;
  /** Prepares the local GitHub before the server first starts (e.g. failed deliveries to list). */
  beforeStart?: (github: LocalGitHub) => void;
}

export type World = Awaited<ReturnType<typeof startWorld>>;

/**
 * A local GitHub, a bare origin, a fresh database and the real server started as a user starts
 * it, plus what a test needs to drive it over HTTP and to look at every place it leaves traces.
 */
export async function startWorld(options: WorldOptions) {
  await ensureBuilt();
  const root = mkdtempSync(path.join(tmpdir(), 'ao-e2e-'));
  const cwd = path.join(root, 'cwd'); // no .env here: nothing from a developer's .env leaks in
  const home = path.join(root, 'home');
  const dataDir = path.join(root, 'data');
  const workspaceRoot = path.join(dataDir, 'workspaces');
  for (const dir of [cwd, home]) mkdirSync(dir);
  const github: LocalGitHub = await startLocalGitHub();
  const origin: Origin = await createOrigin();
  const secret = randomBytes(16).toString('hex');
  const apiToken = randomBytes(24).toString('hex');
  const operatorFile = path.join(root, 'orchestrator.yml');
  writeFileSync(
    operatorFile,
    stringify({ agents: { fake: fakeAgentConfig }, ...options.operator }),
  );
  github.setFile(
    REPOSITORY,
    '.github/agent.yml',
    stringify({ agent: 'fake', ...options.repoConfig }),
  );
  github.setRole('alice', 'admin');
  github.setRole('wes', 'write');

  let databaseName: string | undefined;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
  let databaseUrl: string | undefined;
  if (options.engine === 'postgres') {
    databaseName = `ao_e2e_${randomBytes(6).toString('hex')}`;
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${databaseName}`);
    await admin.end();
    const url = new URL(adminUrl());
    url.pathname = `/${databaseName}`;
    if (options.proxy) {
      proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
    }
    databaseUrl = url.href;
  }

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    LANG: 'C.UTF-8',
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: secret,
    API_TOKEN: apiToken,
    ...github.env,
    ORCHESTRATOR_CONFIG: operatorFile,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    PUBLIC_URL: 'https://agents.example.com',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };

  /** Stops the server and removes everything this world made, the agents it left running too. */
  async function teardown(running: ServerProcess | undefined) {
    await running?.stop().catch(() => {});
    // Agent turns outlive the server by design; end the ones this test left, by pid.
    for (const p of processesUnder(root, -1)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await proxy?.close();
    if (databaseName) {
      const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${databaseName} with (force)`);
      await admin.end();
    }
    await github.close();
    await origin.cleanup();
    rmSync(root, { recursive: true, force: true });
  }

  options.beforeStart?.(github);
  let server: ServerProcess;
  try {
    server = await spawnServer(env, cwd);
  } catch (error) {
    await teardown(undefined);
    throw error;
  }
  /** Every server started, the killed ones too: their logs count. */
  const servers: ServerProcess[] = [server];

  const user = (login: string, type = login.endsWith('[bot]') ? 'Bot' : 'User') => ({
    login,
    id: login.length,
    type,
  });

  const until = <T>(
    what: string,
    check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
    timeoutMs = 60_000,
  ) => waitUntil(what, check, timeoutMs, () => `server output:\n${tail(server.output())}`);

  async function api<T>(route: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${server.url}${route}`, {
      ...init,
      headers: {
        authorization: `Bearer ${apiToken}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
    if (!res.ok) throw new Error(`${route} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  const world = {
    root,
    dataDir,
    workspaceRoot,
    github,
    origin,
    secret,
    databaseUrl,
    proxy,
    until,
    api,
    get server() {
      return server;
    },
    /** Every log line of every server started so far. */
    logs: () => servers.flatMap((s) => s.logs()),

    /** Kills the server's process group with SIGKILL and waits until it is gone. */
    async crash() {
      server.kill('SIGKILL');
      await server.exited;
    },
    /** Starts the server again with the same settings and DATA_DIR. */
    async restart() {
      server = await spawnServer(env, cwd);
      servers.push(server);
      return server;
    },

    /** A real example payload of the event, edited to this repository, installation and sender. */
    payload(
      event: string,
      action: string | undefined,
      sender: string,
      edit: (p: EditablePayload) => void = () => {},
    ): EditablePayload {
      const p = examplePayload(event, action) as EditablePayload;
      p.repository = {
        id: REPOSITORY_ID,
        node_id: 'R_1',
        name: 'widgets',
        full_name: REPOSITORY,
        owner: { login: 'octo', id: 1, type: 'Organization' },
        clone_url: origin.url,
        html_url: `https://github.example/${REPOSITORY}`,
        default_branch: 'main',
        private: false,
      };
      p.installation = { id: INSTALLATION, node_id: 'I_1' };
      p.sender = user(sender);
      edit(p);
      return p;
    },
    issue: (number: number, title = `Issue ${number}`, body = 'Please fix it.') => ({
      number,
      title,
      body,
      html_url: `https://github.example/${REPOSITORY}/issues/${number}`,
      state: 'open',
      user: user('alice'),
    }),
    /** The labelled-with-`agent` delivery a maintainer's click sends. */
    labelled(number: number, title?: string, body?: string, sender = 'alice') {
      return world.payload('issues', 'labeled', sender, (p) => {
        p.issue = world.issue(number, title, body);
        p.label = { ...p.label, name: 'agent' };
      });
    },
    /** An `issue_comment.created` delivery; add the comment to the local GitHub too, as GitHub has it. */
    commented(number: number, sender: string, body: string, commentId: number) {
      return world.payload('issue_comment', 'created', sender, (p) => {
        p.issue = world.issue(number);
        p.comment = { ...p.comment, id: commentId, body, user: user(sender) };
      });
    },

    /** Posts a signed delivery; resolves with the response, whatever its status. */
    post(
      event: string,
      body: EditablePayload | string,
      { id = randomUUID(), url = server.url }: { id?: string; url?: string } = {},
    ) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return fetch(`${url}/api/github/webhooks`, {
        method: 'POST',
        headers: deliveryHeaders(secret, event, text, id),
        body: text,
      });
    },
    /** Posts a signed delivery that must be answered 200; returns its JSON answer. */
    async deliver(event: string, body: EditablePayload, id = randomUUID()) {
      const res = await world.post(event, body, { id });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`delivery answered ${res.status}: ${text}`);
      return JSON.parse(text) as { outcome?: string; duplicate?: boolean; delivery: string };
    },

    async sessions(issueNumber?: number): Promise<ApiSession[]> {
      const { sessions } = await api<{ sessions: ApiSession[] }>(
        `/api/sessions?repository=${REPOSITORY}&limit=200`,
      );
      return issueNumber === undefined
        ? sessions
        : sessions.filter((s) => s.issueNumber === issueNumber);
    },
    async session(id: string): Promise<ApiSession> {
      return (await api<{ session: ApiSession }>(`/api/sessions/${id}`)).session;
    },
    async events(id: string): Promise<ApiEvent[]> {
      return (await api<{ events: ApiEvent[] }>(`/api/sessions/${id}/events?limit=1000`)).events;
    },
    /** How many of the session's turns have finished, by its events. */
    async turnsFinished(id: string): Promise<number> {
      return (await world.events(id)).filter((e) => e.kind === 'turn-finished').length;
    },
    /**
     * Waits for the issue's live session to reach a status once a condition holds. The condition
     * is read first and the status after, so the status cannot be older than the condition.
     */
    async waitForSession(
      issueNumber: number,
      statuses: string[],
      condition: (s: ApiSession) => boolean | Promise<boolean> = () => true,
      timeoutMs = 60_000,
    ): Promise<ApiSession> {
      return until(
        `the session of #${issueNumber} to be ${statuses.join('|')}`,
        async () => {
          const [before] = await world.sessions(issueNumber);
          if (!before || !(await condition(before))) return undefined;
          const after = await world.session(before.id);
          return statuses.includes(after.status) ? after : undefined;
        },
        timeoutMs,
      );
    },
    /** The outcomes the lifecycle logged for a delivery ("intent applied"), one per run. */
    intentOutcomes: (deliveryId: string) =>
      world
        .logs()
        .filter((l) => l.msg === 'intent applied' && l.deliveryId === deliveryId)
        .map((l) => String(l.outcome)),
    /** The origin's branch names. */
    async originBranches(): Promise<string[]> {
      const { stdout } = await runGit(origin.path, ['for-each-ref', '--format=%(refname)']);
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((ref) => ref.replace(/^refs\/heads\//, ''));
    },
    async show(branch: string, file: string): Promise<string> {
      return (await runGit(origin.path, ['show', `refs/heads/${branch}:${file}`])).stdout;
    },
    /** Processes (not zombies) other than the server's own group working in or on a path. */
    processesUnder: (dir: string) => processesUnder(dir, server.pid),

    cleanup: () => teardown(server),
  };
  return world;
}

function runGit(cwd: string, args: string[]) {
  return new Promise<{ stdout: string }>((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`git ${args.join(' ')} failed: ${stderr}`));
      else resolve({ stdout });
    });
  });
}

export interface ProcessInfo {
  pid: number;
  pgid: number;
  cwd: string;
  args: string;
}

/**
 * Live processes whose working directory or command line lies under dir, leaving out the group
 * `excludeGroup` (the server's). Read from /proc, so a process that detached and forgot its
 * arguments (an agent's `sleep` grandchild) is still found by its working directory.
 */
export function processesUnder(dir: string, excludeGroup: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [state, , pgid] = [fields[0], fields[1], Number(fields[2])];
      if (state === 'Z' || pgid === excludeGroup) continue;
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cwd === dir || cwd.startsWith(`${dir}/`) || args.includes(dir))
        found.push({ pid: Number(entry), pgid, cwd, args });
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return found;
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
