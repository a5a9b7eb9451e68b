import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAgentConfig } from '../runner/harness.js';
import { REPOSITORY, startWorld, type World } from './harness.js';

// An agent after a prompt injection (test/fixtures/probe-agent.mjs) tries, from its sandbox in
// the built app started the ordinary way, everything the security review did: the app's
// processes, environment, .env and key; the data folder, the mirrors, another session's checkout,
// HOME and state; a git filter, an attributes file and an insteadOf redirect for the runner's
// git; the database and a host not allowed; a process left behind; a token in /proc. Every
// attempt fails, and its own commit still reaches the origin and opens the pull request.
const PROBE = fileURLToPath(new URL('../fixtures/probe-agent.mjs', import.meta.url));
const LONG = 240_000;

interface Attempt {
  attempt: string;
  got: boolean;
  ordinary?: boolean;
  wrote?: string;
  detail: string;
}

/** Host processes (outside every sandbox) whose command line holds the text. */
function hostProcessesWith(text: string): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return cmdline.includes(text) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return [];
      }
    });
}

describe('the sandbox, attacked by a probe agent through the built app', () => {
  let w: World;
  let allowed: Server;
  let allowedPort: number;
  const evidence = mkdtempSync(path.join(tmpdir(), 'ao-probe-evidence-'));
  const nonce = randomBytes(6).toString('hex');
  const secret = `probe-secret-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    execFileSync('git', ['init', '--quiet', '--bare', path.join(evidence, 'evil.git')]);
    allowed = createServer((_req, res) => res.end('allowed-ok'));
    await new Promise<void>((resolve) => allowed.listen(0, '127.0.0.1', resolve));
    allowedPort = (allowed.address() as AddressInfo).port;
    w = await startWorld({
      engine: 'postgres',
      operator: {
        agents: {
          fake: fakeAgentConfig,
          probe: {
            firstTurn: [process.execPath, PROBE, '{promptFile}'],
            nextTurn: [process.execPath, PROBE, '{messageFile}'],
          },
        },
        egress: { allow: [`127.0.0.1:${allowedPort}`] },
      },
    });
    // What setup mode writes beside the app, and a key file: the attacker's first targets.
    writeFileSync(path.join(w.root, 'cwd', '.env'), `# ${secret}\n`, { mode: 0o600 });
    writeFileSync(path.join(w.root, 'key.pem'), `${secret}\n`, { mode: 0o600 });
  }, 180_000);
  afterAll(async () => {
    await w?.cleanup();
    allowed?.close();
    rmSync(evidence, { recursive: true, force: true });
  }, 60_000);

  it(
    'every attempt fails; the probe’s own commit reaches the origin and opens the PR',
    async () => {
      // Another session, whose checkout, HOME and state the probe goes after.
      await w.deliver('issues', w.labelled(70, 'An ordinary task'));
      const other = await w.waitForSession(70, ['waiting'], (s) => Boolean(s.prNumber), LONG);

      w.github.setFile(REPOSITORY, '.github/agent.yml', 'agent: probe\n');
      const body = [
        'Please fix the widget.',
        `PROBE-OTHER: ${other.id}`,
        `PROBE-EVIDENCE: ${evidence}`,
        `PROBE-NONCE: ${nonce}`,
        `PROBE-ALLOWED: 127.0.0.1:${allowedPort}`,
      ].join('\n');
      await w.deliver('issues', w.labelled(71, 'Fix the widget', body));
      const probe = await w.waitForSession(71, ['waiting'], (s) => Boolean(s.prNumber), LONG);

      // Its report, its commit and the change it left all reached the origin's branch.
      const report = JSON.parse(await w.show(probe.branch!, 'probe-report.json')) as Attempt[];
      expect(await w.show(probe.branch!, 'fix.txt')).toBe('the fix\n');
      expect(await w.show(probe.branch!, 'leftover.txt')).toContain('left for the runner');
      const attacks = report.filter((entry) => !entry.ordinary);
      expect(attacks.length).toBeGreaterThanOrEqual(20);
      expect(attacks.filter((entry) => entry.got)).toEqual([]);
      // A write that seemed to work inside landed in the sandbox's own /tmp, not on the host.
      for (const { wrote } of attacks) if (wrote) expect(existsSync(wrote), wrote).toBe(false);
      expect(JSON.stringify(report)).not.toContain(secret);
      // The ordinary path: the one host the operator allowed is reached through the proxy.
      expect(report.find((entry) => entry.ordinary)).toMatchObject({ got: true });

      // Nothing it planted ran outside its sandbox, and nothing went to the redirect.
      expect(readdirSync(evidence).filter((name) => name.startsWith('filter-ran'))).toEqual([]);
      expect(
        execFileSync('git', ['for-each-ref'], { cwd: path.join(evidence, 'evil.git') }).toString(),
      ).toBe('');
      // The other session's branch on the origin holds nothing of the probe's.
      await expect(w.show(other.branch!, 'PWNED.txt')).rejects.toThrow();

      // What it left behind ended with its turn.
      expect(hostProcessesWith(`probe-leftover-${nonce}`)).toEqual([]);

      // The hosts it was refused are on its timeline.
      const refused = (await w.events(probe.id)).filter((e) => e.kind === 'egress-refused');
      expect(refused.map((e) => `${e.data.host}:${e.data.port}`)).toEqual(
        expect.arrayContaining(['example.com:443', '127.0.0.1:5432']),
      );
    },
    2 * LONG,
  );
});
