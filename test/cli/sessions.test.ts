import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session, SessionEvent } from '../../src/db/schema.js';
import { git } from '../helpers/git.js';
import { type CliHarness, closedPort, REPOSITORY, startCliHarness } from './harness.js';

describe('agent-orchestrator sessions, against a running server', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(() => h?.cleanup());

  const show = (branch: string, file: string) =>
    git(h.origin.path, ['show', `refs/heads/${branch}:${file}`]);
  const turnsDone = (id: string, n: number) =>
    h.until(`session ${id} to finish turn ${n}`, async () => {
      const { body } = await h.api<{ events: SessionEvent[] }>(`/api/sessions/${id}/events`);
      const s = await h.session(id);
      const finished = body.events.filter((e) => e.kind === 'turn-finished').length;
      return finished >= n && s?.status === 'waiting' ? s : undefined;
    });
  const startSession = async (issue: number, ...message: string[]) => {
    h.addIssue(issue, `Issue ${issue}`, `Issue ${issue} needs fixing.`);
    const result = await h.cli(['sessions', 'start', REPOSITORY, String(issue), ...message]);
    expect(result.code, result.stderr).toBe(0);
    const id = /Started session (s-[a-z0-9]+) on octo\/widgets#\d+/.exec(result.stdout)?.[1];
    expect(id, result.stdout).toBeDefined();
    return id!;
  };

  let first: string;

  it('starts a session on an issue with `sessions start`; the agent gets the issue and the message', async () => {
    first = await startSession(5, 'Also', 'update the docs.');
    const session = await h.until('the first turn and the pull request', async () => {
      const s = await h.session(first);
      return s?.status === 'waiting' && s.prNumber ? s : undefined;
    });
    const prompt = await show(session.branch!, 'agent-first.md');
    expect(prompt).toContain('Issue 5 needs fixing.');
    expect(prompt).toContain('Also update the docs.');
  });

  it('lists sessions as a table, filtered, and as JSON for scripts', async () => {
    const second = await startSession(6);
    await turnsDone(second, 1);

    const table = await h.cli(['sessions', 'list']);
    expect(table.code, table.stderr).toBe(0);
    const [header, ...rows] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+REPOSITORY\s+ISSUE\s+PR\s+STATUS\s+AGENT\s+AGE\s+COST$/);
    // Newest first.
    expect(rows[0]).toMatch(
      new RegExp(`^${second}\\s+octo/widgets\\s+#6\\s+#\\d+\\s+waiting\\s+fake\\s`),
    );
    expect(rows[1]).toMatch(new RegExp(`^${first}\\s+octo/widgets\\s+#5\\s`));

    const limited = await h.cli(['sessions', 'list', '--limit', '1', '--json']);
    expect(limited.code).toBe(0);
    const json = JSON.parse(limited.stdout) as { sessions: Session[] };
    expect(json.sessions.map((s) => s.id)).toEqual([second]);

    const other = await h.cli(['sessions', 'list', '--repository', 'octo/gadgets']);
    expect(other.stdout.trim()).toBe('No sessions.');
    const queued = await h.cli(['sessions', 'list', '--status', 'queued', '--json']);
    expect((JSON.parse(queued.stdout) as { sessions: Session[] }).sessions).toEqual([]);
  });

  it('shows one session with its recent events, and as JSON', async () => {
    const text = await h.cli(['sessions', 'show', first]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Session ${first}`);
    expect(text.stdout).toMatch(/Repository\s+octo\/widgets/);
    expect(text.stdout).toMatch(/Status\s+waiting/);
    expect(text.stdout).toMatch(/Triggered by\s+operator \(API\)/);
    expect(text.stdout).toMatch(/Recent events \(\d+\):/);
    expect(text.stdout).toMatch(/\screated\s+.*triggeredBy=operator \(API\)/);

    const json = await h.cli(['sessions', 'show', first, '--json', '--events', '2']);
    const shown = JSON.parse(json.stdout) as { session: Session; events: SessionEvent[] };
    expect(shown.session.id).toBe(first);
    expect(shown.events).toHaveLength(2);
    const { body } = await h.api<{ events: SessionEvent[] }>(`/api/sessions/${first}/events`);
    expect(shown.events.map((e) => e.id)).toEqual(body.events.slice(-2).map((e) => e.id));
  });

  it('sends a message from the arguments and from stdin; each reaches the agent as a turn', async () => {
    const sent = await h.cli(['sessions', 'send', first, 'Please', 'add a test.']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain(`Message queued for ${first}`);
    const session = await turnsDone(first, 2);
    expect(await show(session.branch!, 'agent-next.md')).toContain('Please add a test.');

    const piped = await h.cli(['sessions', 'send', first, '-'], {
      stdin: 'From stdin:\nrename the helper.\n',
    });
    expect(piped.code, piped.stderr).toBe(0);
    await turnsDone(first, 3);
    expect(await show(session.branch!, 'agent-next.md')).toContain(
      'From stdin:\nrename the helper.',
    );
  });

  it('stops sessions, removing the worktree unless --keep-worktree', async () => {
    const kept = await startSession(7);
    const keptSession = await turnsDone(kept, 1);
    const stopKept = await h.cli(['sessions', 'stop', kept, '--keep-worktree']);
    expect(stopKept.code, stopKept.stderr).toBe(0);
    expect(stopKept.stdout).toContain('worktree is kept');

    const firstSession = (await h.session(first))!;
    const stopFirst = await h.cli(['sessions', 'stop', first]);
    expect(stopFirst.code, stopFirst.stderr).toBe(0);

    for (const id of [kept, first])
      await h.until(`${id} to stop`, async () => (await h.session(id))?.status === 'stopped');
    expect(existsSync(keptSession.workspacePath!)).toBe(true);
    expect(existsSync(firstSession.workspacePath!)).toBe(false);
  });

  it('reports what the server refuses with its message and exit code 1', async () => {
    const ended = await h.cli(['sessions', 'send', first, 'too late']);
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain(`session ${first} has ended (HTTP 409)`);

    const missing = await h.cli(['sessions', 'show', 's-doesnotexist1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error: no session s-doesnotexist1 (HTTP 404)');

    const live = await h.cli(['sessions', 'start', REPOSITORY, '6']);
    expect(live.code).toBe(1);
    expect(live.stderr).toMatch(
      /octo\/widgets#6 already has a live session: s-\w+ \(waiting\) \(HTTP 409\)/,
    );

    const unknown = await h.cli(['sessions', 'start', 'octo/gadgets', '1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('the app is not installed on octo/gadgets');
  });

  // One CLI process per case: slow on a busy machine, so a generous limit.
  it('answers bad usage with the usage text and exit code 2, before asking the server', {
    timeout: 120_000,
  }, async () => {
    for (const [args, message, usage] of [
      [['sessions'], 'Missing subcommand.', 'Usage: agent-orchestrator sessions <subcommand>'],
      [['sessions', 'frob'], 'Unknown subcommand "sessions frob".', 'Subcommands:'],
      [['sessions', 'list', '--colour'], "Unknown option '--colour'", 'sessions list'],
      [['sessions', 'list', '--status', 'asleep'], '--status must be one of', 'sessions list'],
      [['sessions', 'list', '--limit', '0'], '--limit must be a whole number', 'sessions list'],
      [['sessions', 'show'], 'Missing the session id.', 'sessions show <id>'],
      [['sessions', 'send', 's-1'], 'Missing the message text', 'sessions send <id>'],
      [['sessions', 'stop', 's-1', 's-2'], 'Unexpected argument "s-2".', 'sessions stop <id>'],
      [['sessions', 'start', 'widgets', '5'], 'must be owner/name', 'sessions start'],
      [['sessions', 'start', REPOSITORY, 'five'], 'The issue number must be', 'sessions start'],
      [['launch'], 'Unknown command "launch"', 'Usage: agent-orchestrator <command>'],
    ] as const) {
      // A token the server would refuse: usage is checked first, so it never gets that far.
      const result = await h.cli([...args], { env: { API_TOKEN: 'wrong-token-0123456789' } });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain(usage);
      expect(result.stdout).toBe('');
    }
  });

  it('says which URL it cannot reach (69), a refused token (77) and a missing one (78)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const down = await h.cli(['sessions', 'list'], { env: { AGENT_ORCHESTRATOR_URL: url } });
    expect(down.code).toBe(69);
    expect(down.stderr).toContain(`Cannot reach the server at ${url} (ECONNREFUSED)`);

    const refused = await h.cli(['sessions', 'list'], {
      env: { API_TOKEN: 'wrong-token-0123456789' },
    });
    expect(refused.code).toBe(77);
    expect(refused.stderr).toContain('The server refused the API token');

    const unset = await h.cli(['sessions', 'list'], { env: { API_TOKEN: '' } });
    expect(unset.code).toBe(78);
    expect(unset.stderr).toContain('API_TOKEN: not set');

    const badUrl = await h.cli(['sessions', 'list'], { env: { AGENT_ORCHESTRATOR_URL: 'nope' } });
    expect(badUrl.code).toBe(78);
    expect(badUrl.stderr).toContain('AGENT_ORCHESTRATOR_URL');
  });

  // One CLI process per case: slow on a busy machine, so a generous limit.
  // Thirteen starts of the CLI, one after another: on a loaded machine each can take seconds.
  it('prints help for every command and subcommand on stdout, exit 0', {
    timeout: 300_000,
  }, async () => {
    for (const [args, expected] of [
      [['--help'], 'Usage: agent-orchestrator <command>'],
      [['help', 'sessions'], 'Usage: agent-orchestrator sessions <subcommand>'],
      [['sessions', '--help'], 'Usage: agent-orchestrator sessions <subcommand>'],
      [['sessions', 'list', '--help'], 'Usage: agent-orchestrator sessions list'],
      [['sessions', 'show', '--help'], 'Usage: agent-orchestrator sessions show <id>'],
      [['sessions', 'send', '-h'], 'Usage: agent-orchestrator sessions send <id>'],
      [['sessions', 'stop', '--help'], 'Usage: agent-orchestrator sessions stop <id>'],
      [['sessions', 'start', '--help'], 'Usage: agent-orchestrator sessions start <owner/name>'],
      [['redeliver', '--help'], 'Usage: agent-orchestrator redeliver'],
      [['mcp', '--help'], 'Usage: agent-orchestrator mcp'],
      [['start', '--help'], 'Usage: agent-orchestrator start'],
      [['runner', '--help'], 'Usage: agent-orchestrator runner'],
      [['migrate', '--help'], 'Usage: agent-orchestrator migrate'],
    ] as const) {
      const result = await h.cli([...args]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(expected);
    }
  });
});
