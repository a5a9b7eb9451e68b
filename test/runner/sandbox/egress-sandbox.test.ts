import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FORWARDER_READY_LINE,
  forwarderArgv,
  proxyEnvironment,
} from '../../../src/runner/sandbox/egress-forwarder.js';
import {
  type EgressProxy,
  type EgressRefusal,
  startEgressProxy,
} from '../../../src/runner/sandbox/egress-proxy.js';
import { type SandboxShell, shellQuote, startSandboxShell } from './egress-sandbox-shell.js';

// The whole way out of a turn: curl in a real bubblewrap sandbox with no network, the forwarder
// in it, the proxy on a real Unix socket, real servers on the host's loopback behind it.
const PROXY_PORT = 3128;
const MODEL_PORT = 11434;
const REFUSED_FORWARD_PORT = 8081;
let dir: string;
let socketPath: string;
let httpServer: http.Server;
let httpsServer: https.Server;
let httpPort: number;
let httpsPort: number;
let closedPort: number;
let requestsSeen = 0;
let proxy: EgressProxy;
let sandbox: SandboxShell;
const refusals: EgressRefusal[] = [];

/** `env NAME=value ... curl ...` with the agent's proxy environment. */
const proxied = (curl: string) =>
  `env ${Object.entries(proxyEnvironment(PROXY_PORT))
    .map(([name, value]) => shellQuote(`${name}=${value}`))
    .join(' ')} ${curl}`;
const CURL = 'curl -sS --max-time 60';
// The host's 127.0.0.1 stands in for a remote host here. An agent's own 127.0.0.1 is the
// sandbox's loopback and is not proxied (NO_PROXY, the last test), so these curls say so.
const CURL_REMOTE = `${CURL} --noproxy ''`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ao-egress-'));
  socketPath = join(dir, 'egress.sock');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1'],
      ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    ],
    { stdio: 'ignore' },
  );
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    requestsSeen++;
    res.end(`host server: ${req.method} ${req.url}`);
  };
  httpServer = http.createServer(onRequest);
  httpsServer = https.createServer(
    { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
    onRequest,
  );
  httpPort = await listen(httpServer);
  httpsPort = await listen(httpsServer);
  const closed = http.createServer();
  closedPort = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));

  proxy = await startEgressProxy({
    socketPath,
    allow: [`127.0.0.1:${httpPort}`, `127.0.0.1:${httpsPort}`, `127.0.0.1:${closedPort}`],
    onRefused: (refusal) => refusals.push(refusal),
    log: pino({ level: 'silent' }),
  });
  const [node, , source, ...args] = forwarderArgv('/usr/bin/node', {
    socketPath,
    proxyPort: PROXY_PORT,
    forwards: [
      { target: `127.0.0.1:${httpPort}`, localPort: MODEL_PORT },
      { target: `blocked.example:80`, localPort: REFUSED_FORWARD_PORT },
    ],
  });
  sandbox = startSandboxShell(dir, { FORWARDER_SOURCE: source! });
  await sandbox.run(`${node} -e "$FORWARDER_SOURCE" ${args.map(shellQuote).join(' ')} &`);
  await sandbox.waitForLine(FORWARDER_READY_LINE);
});

afterAll(async () => {
  await sandbox?.stop();
  await proxy?.close();
  await new Promise((resolve) => httpServer?.close(resolve));
  await new Promise((resolve) => httpsServer?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('egress from a sandbox', () => {
  it('an allowed host answers over HTTPS through HTTPS_PROXY, its certificate verified', async () => {
    const { output, code } = await sandbox.run(
      proxied(`${CURL_REMOTE} --cacert ${dir}/cert.pem https://127.0.0.1:${httpsPort}/hello`),
    );
    expect(output).toBe('host server: GET /hello');
    expect(code).toBe(0);
  });

  it('an allowed host answers plain HTTP through HTTP_PROXY', async () => {
    const { output, code } = await sandbox.run(
      proxied(`${CURL_REMOTE} http://127.0.0.1:${httpPort}/plain?q=1`),
    );
    expect(output).toBe('host server: GET /plain?q=1');
    expect(code).toBe(0);
  });

  it('a host not on the allow list is refused, and the refusal is reported once', async () => {
    const { output, code } = await sandbox.run(proxied(`${CURL} https://blocked.example/`));
    expect(output).toContain('CONNECT tunnel failed, response 403');
    expect(code).not.toBe(0);
    expect(refusals.filter((r) => r.host === 'blocked.example')).toEqual([
      { host: 'blocked.example', port: 443, method: 'CONNECT' },
    ]);
  });

  it('a refused plain HTTP request says what was refused and how to allow it', async () => {
    const { output } = await sandbox.run(
      proxied(`${CURL_REMOTE} -w ' %{http_code}' http://127.0.0.1:${httpsPort + 1}/`),
    );
    expect(output).toBe(
      `Egress to 127.0.0.1:${httpsPort + 1} was refused: it is not on the allow list. ` +
        'The operator can allow it under egress.allow in the operator YAML.\n 403',
    );
    expect(refusals).toContainEqual({ host: '127.0.0.1', port: httpsPort + 1, method: 'GET' });
  });

  it('an allowed host that does not answer gets a 502 with the reason', async () => {
    const { output } = await sandbox.run(
      proxied(`${CURL_REMOTE} -w ' %{http_code}' http://127.0.0.1:${closedPort}/`),
    );
    expect(output).toMatch(
      new RegExp(`^Could not connect to 127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED.*\\n 502$`),
    );
  });

  it('a client with no proxy support reaches the host server through a forwarded port', async () => {
    const { output, code } = await sandbox.run(
      `${CURL} --noproxy '*' http://127.0.0.1:${MODEL_PORT}/api/tags`,
    );
    expect(output).toBe('host server: GET /api/tags');
    expect(code).toBe(0);
  });

  it('a forwarded port to a refused target shows the refusal', async () => {
    const { output } = await sandbox.run(
      `${CURL} --noproxy '*' -w ' %{http_code}' http://127.0.0.1:${REFUSED_FORWARD_PORT}/`,
    );
    expect(output).toMatch(/^Egress to blocked\.example:80 was refused.*egress\.allow.*\n 403$/);
  });

  it('a direct connection to the host server fails: the sandbox has no network', async () => {
    const before = requestsSeen;
    const { output, code } = await sandbox.run(
      `${CURL} --noproxy '*' http://127.0.0.1:${httpPort}/direct`,
    );
    expect(output).toContain('Failed to connect');
    expect(code).toBe(7); // curl: could not connect
    expect(requestsSeen).toBe(before);
  });

  it('a server the agent runs on the sandbox loopback is reached directly, not proxied', async () => {
    const server = `require('http').createServer((q, s) => s.end('sandbox server')).listen(8000, '127.0.0.1', () => console.log('sandbox server up'))`;
    await sandbox.run(`/usr/bin/node -e ${shellQuote(server)} &`);
    await sandbox.waitForLine('sandbox server up');
    const { output, code } = await sandbox.run(proxied(`${CURL} http://localhost:8000/`));
    expect(output).toBe('sandbox server');
    expect(code).toBe(0);
  });
});

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
