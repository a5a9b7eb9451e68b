import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { forwarderArgv, proxyEnvironment } from '../../../src/runner/sandbox/egress-forwarder.js';

// How the forwarder fails to start, where the runner waiting for its ready line would see it.
const run = async (argv: string[]) => {
  const [node, ...args] = argv;
  try {
    const { stdout } = await promisify(execFile)(node!, args, { timeout: 60_000 });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

describe('the egress forwarder', () => {
  it('exits with the reason, and is never ready, when its port is taken', async () => {
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const result = await run(
        forwarderArgv(process.execPath, { socketPath: '/nowhere.sock', proxyPort: port }),
      );
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: `egress-forwarder: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`,
      });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('exits with its usage on a forward it cannot read', async () => {
    const argv = forwarderArgv(process.execPath, { socketPath: '/nowhere.sock', proxyPort: 3128 });
    const result = await run([...argv, 'localhost:11434']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not <host:port>=<localPort>: localhost:11434');
    expect(result.stdout).toBe('');
  });

  it('points every proxy variable at the forwarder and keeps loopback local', () => {
    expect(proxyEnvironment(3128)).toEqual({
      HTTPS_PROXY: 'http://127.0.0.1:3128',
      HTTP_PROXY: 'http://127.0.0.1:3128',
      https_proxy: 'http://127.0.0.1:3128',
      http_proxy: 'http://127.0.0.1:3128',
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
    });
  });
});
