import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { mergeIntoEnvFile } from './env-file.js';
import { FRAMING_AND_REFERRER_HEADERS } from './security-headers.js';
import { refuseSetup, SETUP_CODE_PARAM } from './setup-refusal.js';
import { createSetupTicket } from './setup-ticket.js';
import { WEBHOOK_PATH } from './webhook-route.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

type SetupAppFactory = (options: {
  host: string;
  port: number;
  log: Logger;
  updateEnv: (env: Record<string, string>) => Record<string, string>;
}) => () => Promise<NodeHandler>;
interface ManifestCreation {
  pkg: { name?: string; version?: string; description?: string };
  getManifest(options: { pkg: unknown; baseUrl: string }): string;
  readonly createAppUrl: string;
}
type SetupView = (options: {
  name?: string | undefined;
  version?: string | undefined;
  description?: string | undefined;
  createAppUrl: string;
  manifest: string;
}) => string;

// Probot ships its registration flow but does not export it; load it from Probot's own files.
const probotLib = path.dirname(fileURLToPath(import.meta.resolve('probot')));
const probotStatic = path.join(probotLib, '..', 'static');
const fromProbot = async <T>(file: string) =>
  (await import(pathToFileURL(path.join(probotLib, file)).href)) as T;

/** The cookie that carries the setup code from page to page (SameSite=Strict: not cross-site). */
const SETUP_COOKIE = 'ao_setup';

export interface SetupModeOptions {
  host: string;
  port: number;
  log: Logger;
  /** Where the new app's APP_ID, PRIVATE_KEY and WEBHOOK_SECRET are written (default `.env`). */
  envFile: string;
  /** The address GitHub reaches this server at; without it, the address the page was opened at. */
  publicUrl?: string | undefined;
}

export interface SetupMode {
  handle: NodeHandler;
  /** The one-time code the registration and import pages take; printed at startup. */
  code: string;
}

/**
 * Probot's app-registration (manifest) flow built from app.yml: `/probot` posts the manifest to
 * GitHub, `/probot/setup` exchanges GitHub's code for the app's credentials and writes them to
 * .env; `/probot/import` writes those of an existing app. Whoever can reach the port could do
 * that, so the pages take a one-time code from the log, and GitHub's answer must carry the state
 * our page sent. The code writes once.
 */
export async function createSetupHandler({
  host,
  port,
  log,
  envFile,
  publicUrl,
}: SetupModeOptions): Promise<SetupMode> {
  const { setupAppFactory } = await fromProbot<{ setupAppFactory: SetupAppFactory }>(
    'apps/setup.js',
  );
  const { ManifestCreation } = await fromProbot<{ ManifestCreation: new () => ManifestCreation }>(
    'manifest-creation.js',
  );
  const { setupView } = await fromProbot<{ setupView: SetupView }>('views/setup.js');
  const ticket = createSetupTicket();

  // No smee.io relay unless the operator asked for one: the manifest points GitHub at this server.
  const proxyUrl = process.env.WEBHOOK_PROXY_URL;
  if (!proxyUrl) process.env.NO_SMEE_SETUP = 'true';

  const probotHandler = await setupAppFactory({
    host,
    port,
    log,
    updateEnv: (vars) => {
      // Only a request the ticket admitted writes; anything else is a bug, not a registration.
      if (!ticket.writing) throw new Error('setup mode refused to write .env outside a setup');
      const merged = mergeIntoEnvFile(envFile, vars);
      ticket.spend();
      Object.assign(process.env, vars);
      log.info({ envFile }, 'app registered; credentials written. Restart to leave setup mode.');
      return merged;
    },
  })();
  const creation = new ManifestCreation();

  /** The registration page, whose form posts the manifest to GitHub with our state. */
  const registrationPage = (req: IncomingMessage, res: ServerResponse) => {
    // The manifest's webhook URL is WEBHOOK_PROXY_URL or the site root; ours lives at WEBHOOK_PATH.
    // Probot builds the manifest synchronously, so setting it around the call cannot race.
    const base = baseUrl(req);
    if (!proxyUrl)
      process.env.WEBHOOK_PROXY_URL = `${publicUrl?.replace(/\/$/, '') ?? base}${WEBHOOK_PATH}`;
    let manifest: string;
    try {
      manifest = creation.getManifest({ pkg: creation.pkg, baseUrl: base });
    } finally {
      if (!proxyUrl) delete process.env.WEBHOOK_PROXY_URL;
    }
    const { name, version, description } = creation.pkg;
    const createAppUrl = `${creation.createAppUrl}?state=${ticket.state}`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(setupView({ name, version, description, createAppUrl, manifest }));
    return true;
  };

  /** Runs Probot's handler for a request that may write .env, one at a time. */
  const write = async (req: IncomingMessage, res: ServerResponse, where: string) => {
    const admitted = ticket.begin();
    if (admitted !== 'ok') return refuseSetup(res, admitted, where);
    try {
      return await probotHandler(req, res);
    } finally {
      ticket.finish();
    }
  };

  const route: NodeHandler = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const where = url.pathname;
    if (req.method === 'GET' && where.startsWith('/probot/static/')) {
      return serveStatic(where.slice('/probot/static/'.length), res);
    }
    if (where === '/probot/setup' && req.method === 'GET') {
      // GitHub's redirect back: its code is for whoever started the registration on our page.
      const check = ticket.checkState(url.searchParams.get('state') ?? undefined);
      if (check === 'missing' || check === 'wrong') return refuseSetup(res, 'foreign-state', where);
      if (check !== 'ok') return refuseSetup(res, check, where);
      return write(req, res, where);
    }
    if (where !== '/probot' && where !== '/probot/import') return probotHandler(req, res);

    const fromQuery = url.searchParams.get(SETUP_CODE_PARAM) ?? undefined;
    const check = ticket.checkCode(fromQuery ?? cookie(req, SETUP_COOKIE));
    if (check !== 'ok') return refuseSetup(res, check, where);
    if (req.method === 'GET' && fromQuery) {
      // Keep the code for the next pages in a cookie, and out of the address bar and history.
      url.searchParams.delete(SETUP_CODE_PARAM);
      const secure = baseUrl(req).startsWith('https:') ? '; Secure' : '';
      res.writeHead(303, {
        location: `${where}${url.search}`,
        'set-cookie': `${SETUP_COOKIE}=${ticket.code}; Path=/probot; HttpOnly; SameSite=Strict${secure}`,
      });
      res.end();
      return true;
    }
    if (req.method === 'GET' && where === '/probot') return registrationPage(req, res);
    if (req.method === 'POST') return write(req, res, where);
    return probotHandler(req, res);
  };

  return {
    code: ticket.code,
    async handle(req, res) {
      const { pathname } = new URL(req.url ?? '/', 'http://localhost');
      if (pathname === '/' || pathname.startsWith('/probot')) {
        for (const [name, value] of Object.entries(FRAMING_AND_REFERRER_HEADERS))
          res.setHeader(name, value);
        res.setHeader('content-security-policy', "frame-ancestors 'none'");
      }
      try {
        return await route(req, res);
      } catch (error) {
        log.error({ err: error }, 'app registration failed');
        if (res.headersSent) {
          res.end();
          return true;
        }
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`Registering the app with GitHub failed: ${(error as Error).message}\n`);
        return true;
      }
    },
  };
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
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
