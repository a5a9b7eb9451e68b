import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { assertSessionId } from '../names.js';
import { type EgressProxy, startEgressProxy } from './egress-proxy.js';
import type { SandboxEgress } from './sandbox.js';

/** The port the forwarder inside a sandbox listens on for HTTP(S)_PROXY. */
export const PROXY_PORT = 3128;

export interface EgressPlan {
  /** Hosts the proxy lets through (egress-allow.ts entries). */
  allow: readonly string[];
  /** Loopback ports inside that reach a host's port: `host:port=localPort`. */
  forwards: readonly string[];
}

export interface SessionEgress {
  /** The session's proxy, started when it is not running (again after a restart), and its plan. */
  open(sessionId: string, plan: EgressPlan): Promise<SandboxEgress>;
  close(sessionId: string): Promise<void>;
  closeAll(): Promise<void>;
}

/**
 * One egress proxy per session with a sandbox, on a Unix socket under
 * `<dir>/<session id>/proxy.sock`: the sandbox sees only its own session's folder. A refused
 * host is told once per proxy to `onRefused` (the runner records it on the session's timeline).
 */
export function createSessionEgress({
  dir,
  log,
  onRefused,
}: {
  dir: string;
  log: Logger;
  onRefused(sessionId: string, target: { host: string; port: number }): void;
}): SessionEgress {
  const proxies = new Map<string, { proxy: Promise<EgressProxy>; allow: string }>();

  const close = async (sessionId: string) => {
    const entry = proxies.get(sessionId);
    proxies.delete(sessionId);
    await (await entry?.proxy.catch(() => undefined))?.close();
  };

  return {
    async open(sessionId, plan) {
      const socketDir = path.join(dir, assertSessionId(sessionId));
      const socketPath = path.join(socketDir, 'proxy.sock');
      const allow = [...plan.allow].sort().join(' ');
      const running = proxies.get(sessionId);
      if (running && running.allow !== allow) await close(sessionId);
      if (!proxies.has(sessionId)) {
        const refused = new Set<string>();
        const proxy = mkdir(socketDir, { recursive: true, mode: 0o700 }).then(async () => {
          // A socket left by an earlier process of this runner is in the way of a new one.
          await rm(socketPath, { force: true });
          return startEgressProxy({
            socketPath,
            allow: plan.allow,
            log: log.child({ sessionId }),
            onRefused: ({ host, port }: { host: string; port: number }) => {
              const key = `${host}:${port}`;
              if (refused.has(key)) return;
              refused.add(key);
              onRefused(sessionId, { host, port });
            },
          });
        });
        proxies.set(sessionId, { proxy, allow });
        proxy.catch(() => proxies.delete(sessionId));
      }
      await proxies.get(sessionId)!.proxy;
      return { socketDir, socketPath, proxyPort: PROXY_PORT, forwards: plan.forwards };
    },
    async close(sessionId) {
      await close(sessionId);
      await rm(path.join(dir, assertSessionId(sessionId)), { recursive: true, force: true });
    },
    async closeAll() {
      await Promise.all([...proxies.keys()].map((id) => close(id)));
    },
  };
}
