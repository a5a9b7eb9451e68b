import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { generatePrivateKey } from '../../test/helpers/processes.js';
import type { CleanupStack } from './cleanup.js';
import { type ChildServer, DIST_CLI, ensureBuilt, startChildServer } from './server.js';

export const SECRET = 'bench-webhook-secret-0123456789';

export interface OrchestratorProcess extends ChildServer {
  /** Its DATA_DIR (and WORKSPACE_ROOT under it). */
  dataDir: string;
}

/**
 * The real app, `node dist/cli.js start`, in production mode on Postgres (or on embedded PGlite
 * when databaseUrl is undefined), its GitHub pointed at githubEnv (a local GitHub). Built first if
 * dist/ is stale. Stopped by the cleanup stack.
 */
export async function startOrchestratorProcess(options: {
  name: string;
  databaseUrl: string | undefined;
  /** DATA_DIR to use (e.g. to start again on the same PGlite); default a new one under tmp. */
  dataDir?: string;
  githubEnv: Record<string, string>;
  runner: 'embedded' | 'off';
  resultsDir: string;
  cleanup: CleanupStack;
  log: (message: string) => void;
  operatorConfig?: Record<string, unknown>;
  env?: Record<string, string>;
  timeoutMs?: number;
  onSpawn?: (pid: number) => void;
}): Promise<OrchestratorProcess> {
  await ensureBuilt(options.log);
  const dir = mkdtempSync(path.join(tmpdir(), `ao-bench-${options.name}-`));
  options.cleanup.add(`${options.name} temp dir`, () =>
    rmSync(dir, { recursive: true, force: true }),
  );
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: SECRET,
    DATA_DIR: options.dataDir ?? path.join(dir, 'data'),
    RUNNER: options.runner,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...options.githubEnv,
    ...options.env,
  };
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  if (options.operatorConfig) {
    const file = path.join(dir, 'orchestrator.yml');
    writeFileSync(file, stringify(options.operatorConfig));
    env.ORCHESTRATOR_CONFIG = file;
  }
  const logs = path.join(options.resultsDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const server = await startChildServer({
    argv: [DIST_CLI, 'start'],
    env,
    // Not the repository: the CLI reads .env from its working directory.
    cwd: dir,
    logFile: path.join(logs, `${options.name}-server.log`),
    readyPath: '/readyz',
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
  });
  options.cleanup.add(`${options.name} server`, () => server.stop());
  return { ...server, dataDir: env.DATA_DIR! };
}
