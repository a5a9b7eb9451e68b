import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { WEBHOOK_PATH } from './webhook-route.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

type SetupAppFactory = (options: {
  host: string;
  port: number;
  log: Logger;
  updateEnv: (env: Record<string, string>) => Record<string, string>;
}) => () => Promise<NodeHandler>;

// Probot ships its registration flow but does not export it; load it from Probot's own files.
const probotLib = path.dirname(fileURLToPath(import.meta.resolve('probot')));
const probotStatic = path.join(probotLib, '..', 'static');

export interface SetupModeOptions {
  host: string;
  port: number;
  log: Logger;
  /** Where the new app's APP_ID, PRIVATE_KEY and WEBHOOK_SECRET are written (default `.env`). */
  envFile: string;
  /** The address GitHub reaches this server at; without it, the address the page was opened at. */
  publicUrl?: string | undefined;
}

/**
 * Probot's app-registration (manifest) flow built from app.yml: `/probot` posts the manifest to
 * GitHub, `/probot/setup` exchanges the code for the app's credentials and writes them to .env.
 */
export async function createSetupHandler({
  host,
  port,
  log,
  envFile,
  publicUrl,
}: SetupModeOptions): Promise<NodeHandler> {
  const { setupAppFactory } = (await import(
    pathToFileURL(path.join(probotLib, 'apps', 'setup.js')).href
  )) as { setupAppFactory: SetupAppFactory };

  // No smee.io relay unless the operator asked for one: the manifest points GitHub at this server.
  const proxyUrl = process.env.WEBHOOK_PROXY_URL;
  if (!proxyUrl) process.env.NO_SMEE_SETUP = 'true';

  const probotHandler = await setupAppFactory({
    host,
    port,
    log,
    updateEnv: (vars) => {
      const merged = { ...readEnvFile(envFile), ...vars };
      writeFileSync(envFile, formatEnv(merged), { mode: 0o600 });
      Object.assign(process.env, vars);
      log.info({ envFile }, 'app registered; credentials written. Restart to leave setup mode.');
      return merged;
    },
  })();

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname.startsWith('/probot/static/')) {
      return serveStatic(url.pathname.slice('/probot/static/'.length), res);
    }
    if (req.method === 'GET' && url.pathname === '/probot' && !proxyUrl) {
      // The manifest's webhook URL is WEBHOOK_PROXY_URL or the site root; ours lives at WEBHOOK_PATH.
      // Probot builds the manifest synchronously, so setting it around the call cannot race.
      process.env.WEBHOOK_PROXY_URL = `${publicUrl?.replace(/\/$/, '') ?? baseUrl(req)}${WEBHOOK_PATH}`;
      try {
        return await probotHandler(req, res);
      } finally {
        delete process.env.WEBHOOK_PROXY_URL;
      }
    }
    try {
      return await probotHandler(req, res);
    } catch (error) {
      log.error({ err: error }, 'app registration failed');
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`Registering the app with GitHub failed: ${(error as Error).message}\n`);
      return true;
    }
  };
}

function baseUrl(req: IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0] ?? 'http';
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  return `${proto}://${host}`;
}

const contentTypes: Record<string, string> = {
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function serveStatic(name: string, res: ServerResponse): boolean {
  const type = contentTypes[path.extname(name)];
  const file = path.join(probotStatic, name);
  if (!type || !/^[\w.-]+$/.test(name) || !existsSync(file)) return false;
  res.writeHead(200, { 'content-type': type, 'cache-control': 'max-age=3600' });
  res.end(readFileSync(file));
  return true;
}

function readEnvFile(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([\w.]+)\s*=\s*(.*)$/.exec(line);
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

function formatEnv(vars: Record<string, string>): string {
  return `${Object.entries(vars)
    .map(([key, value]) => `${key}=${value.replace(/\n/g, '\\n')}`)
    .join('\n')}\n`;
}
