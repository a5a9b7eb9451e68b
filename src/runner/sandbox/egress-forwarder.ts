/** The one line the forwarder prints on stdout once every listener is up. */
export const FORWARDER_READY_LINE = 'egress-forwarder ready';

/** A host:port the sandbox reaches at 127.0.0.1:localPort, tunnelled through the proxy. */
export interface ForwardedPort {
  target: string;
  localPort: number;
}

export interface ForwarderArgs {
  /** The egress proxy's Unix socket, as bound into the sandbox. */
  socketPath: string;
  /** The sandbox's port for HTTPS_PROXY and HTTP_PROXY. */
  proxyPort: number;
  forwards?: readonly ForwardedPort[];
}

/**
 * Runs inside the sandbox, whose network is its own loopback: 127.0.0.1:<proxyPort> is piped raw
 * to the proxy's socket, and each 127.0.0.1:<localPort> is tunnelled there with CONNECT, for
 * clients with no proxy support (a model server on the host's loopback). Plain JavaScript with no
 * dependencies, for `node -e`; it runs until killed with the sandbox.
 */
export const FORWARDER_SOURCE = String.raw`'use strict';
const net = require('node:net');
const [socketPath, proxyPort, ...forwards] = process.argv.slice(1);
const MAX_HEAD = 16384;

function port(text) {
  const value = /^\d{1,5}$/.test(text || '') ? Number(text) : 0;
  if (value < 1 || value > 65535) usage('not a port: ' + text);
  return value;
}

function usage(why) {
  process.stderr.write('egress-forwarder: ' + why + '\n' +
    'usage: node -e SOURCE <socketPath> <proxyPort> [<host:port>=<localPort> ...]\n');
  process.exit(2);
}

// An error on either side breaks both; an end is passed on by pipe, so no data is cut off.
function pair(a, b) {
  const destroy = () => { a.destroy(); b.destroy(); };
  a.on('error', destroy);
  b.on('error', destroy);
}

function toProxy(client) {
  const proxy = net.connect(socketPath);
  pair(client, proxy);
  client.pipe(proxy).pipe(client);
}

function toTarget(target) {
  return (client) => {
    client.pause();
    const proxy = net.connect(socketPath, () => {
      proxy.write('CONNECT ' + target + ' HTTP/1.1\r\nHost: ' + target + '\r\n\r\n');
    });
    let tunnelled = false;
    pair(client, proxy);
    client.on('close', () => { if (!tunnelled) proxy.destroy(); });
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_HEAD) proxy.destroy();
        return;
      }
      proxy.off('data', onData);
      tunnelled = true;
      if (/^HTTP\/1\.[01] 200 /.test(head.toString('latin1', 0, end))) {
        client.write(head.subarray(end + 4));
        client.pipe(proxy);
      } else {
        // The proxy's refusal or failure, passed on whole: an HTTP client shows its text.
        client.write(head);
        client.resume();
      }
      proxy.pipe(client);
    };
    proxy.on('data', onData);
    proxy.on('end', () => { if (!tunnelled) client.destroy(); });
  };
}

function listen(localPort, onConnection) {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConnection);
    server.once('error', reject);
    server.listen(localPort, '127.0.0.1', resolve);
  });
}

if (!socketPath) usage('no socket path');
const listeners = [listen(port(proxyPort), toProxy)];
for (const forward of forwards) {
  const at = forward.lastIndexOf('=');
  if (at < 1) usage('not <host:port>=<localPort>: ' + forward);
  listeners.push(listen(port(forward.slice(at + 1)), toTarget(forward.slice(0, at))));
}
process.stdout.on('error', () => {});
Promise.all(listeners).then(
  () => process.stdout.write('${FORWARDER_READY_LINE}\n'),
  (error) => {
    process.stderr.write('egress-forwarder: ' + error.message + '\n');
    process.exit(1);
  },
);
`;

/** The argv that starts the forwarder with the given node binary. */
export function forwarderArgv(node: string, args: ForwarderArgs): string[] {
  const forwards = (args.forwards ?? []).map((f) => `${f.target}=${f.localPort}`);
  return [node, '-e', FORWARDER_SOURCE, args.socketPath, String(args.proxyPort), ...forwards];
}

/**
 * The environment that sends an agent's HTTP(S) through the forwarder. NO_PROXY replaces whatever
 * the agent inherited and names only the sandbox's own loopback: a server the agent starts there
 * (a test suite's) is reached directly, and nothing else can be, the sandbox having no network.
 */
export function proxyEnvironment(proxyPort: number): Record<string, string> {
  const url = `http://127.0.0.1:${proxyPort}`;
  const local = 'localhost,127.0.0.1,::1';
  return {
    HTTPS_PROXY: url,
    HTTP_PROXY: url,
    https_proxy: url,
    http_proxy: url,
    NO_PROXY: local,
    no_proxy: local,
  };
}
