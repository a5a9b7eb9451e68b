import { rm } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from 'pino';
import { egressAllowed, parseAllowEntry } from './egress-allow.js';
import { answerConnect, forwardRequest, replyText, tunnel } from './egress-relay.js';
import {
  type EgressTarget,
  formatTarget,
  parseAbsoluteTarget,
  parseConnectTarget,
} from './egress-target.js';

/** A request the allow list refused: the runner records it as a session event. */
export interface EgressRefusal extends EgressTarget {
  method: string;
}

export interface EgressProxyOptions {
  /** The Unix socket to listen on, bound into the sandbox. Removed on close. */
  socketPath: string;
  /** `egress.allow` from the operator YAML; an invalid entry fails the start. */
  allow: readonly string[];
  /** Called once per refused request. */
  onRefused: (refusal: EgressRefusal) => void;
  log: Logger;
}

export interface EgressProxy {
  /** Stops listening, breaks every open tunnel and request, removes the socket file. */
  close(): Promise<void>;
}

/**
 * The sandbox's only way out: an HTTP proxy on a Unix socket that tunnels `CONNECT host:port` and
 * forwards absolute-form requests (`GET http://host/path`) to allowed targets, streaming both
 * ways. A refused target is answered 403 before any DNS lookup.
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const { socketPath, allow, log } = options;
  for (const entry of allow) parseAllowEntry(entry);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  // Host and port only: a request's path may carry a token in its query.
  const refused = ({ host, port }: EgressTarget, method: string): boolean => {
    if (egressAllowed(allow, host, port)) return false;
    log.info({ host, port, method }, 'egress refused');
    try {
      options.onRefused({ host, port, method });
    } catch (error) {
      // A failing recorder must not take the proxy, and the turn's egress, down with it.
      log.warn({ err: error }, 'could not record a refused egress request');
    }
    return true;
  };

  const server = http.createServer();
  server.on('connection', track);
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on('error', () => client.destroy());
    const target = parseConnectTarget(req.url ?? '');
    if (!target) return answerConnect(client, 400, 'CONNECT takes host:port.');
    if (refused(target, 'CONNECT')) return answerConnect(client, 403, refusalText(target));
    tunnel(client, head, target, track);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = parseAbsoluteTarget(req.url ?? '');
    if (!target) {
      const text = 'This is an egress proxy: send CONNECT host:port or GET http://host/path.';
      return replyText(res, 400, text);
    }
    if (refused(target, req.method ?? 'GET')) return replyText(res, 403, refusalText(target));
    forwardRequest(req, res, target, track);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.warn({ err: error, socketPath }, 'egress proxy error'));

  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await rm(socketPath, { force: true });
    },
  };
}

function refusalText(target: EgressTarget): string {
  return (
    `Egress to ${formatTarget(target)} was refused: it is not on the allow list. ` +
    'The operator can allow it under egress.allow in the operator YAML.'
  );
}
