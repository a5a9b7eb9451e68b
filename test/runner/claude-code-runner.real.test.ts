import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git.js';
import {
  type ScriptedModel,
  startScriptedModel,
  textReply,
  toolUseReply,
} from '../helpers/scripted-model.js';
import { type Harness, REPOSITORY, startHarness } from './harness.js';

const BIN = fileURLToPath(new URL('../../node_modules/.bin', import.meta.url));

/**
 * The whole runner with the real `claude` CLI: a scripted model asks for a Write tool call, the
 * CLI writes the file in the session's worktree, and the runner commits and pushes it.
 */
describe('the runner with the real Claude Code CLI and a scripted model', () => {
  let h: Harness;
  let model: ScriptedModel;
  let worktree = '';

  beforeAll(async () => {
    model = await startScriptedModel({
      script: (_request, step) =>
        step === 0
          ? toolUseReply('Write', {
              file_path: path.join(worktree, 'hello.txt'),
              content: 'Hello from Claude\n',
            })
          : textReply('Done: wrote hello.txt with a greeting.'),
    });
    h = await startHarness({
      env: {
        PATH: `${BIN}${path.delimiter}${process.env.PATH}`,
        ANTHROPIC_BASE_URL: model.url,
        ANTHROPIC_API_KEY: 'test-key',
      },
    });
  });
  afterAll(async () => {
    await h?.cleanup();
    await model?.close();
  });

  it('produces a commit on the origin and a pull request with the agent’s summary', async () => {
    const created = await h.createSession({ agent: 'claude-code', title: 'Add a greeting file' });
    worktree = h.host.workspacePath(created.id);
    const s = await h.waitFor(created.id, ['waiting'], { timeoutMs: 60_000 });

    expect(await git(h.origin.path, ['show', `refs/heads/${s.branch}:hello.txt`])).toBe(
      'Hello from Claude',
    );
    expect(await git(h.origin.path, ['log', '-1', '--format=%s', s.branch!])).toBe(
      'Agent Orchestrator: changes left uncommitted after turn 1',
    );
    const [pr] = h.github.pullsOf(REPOSITORY);
    expect(pr?.body).toContain('Done: wrote hello.txt with a greeting.');
    expect(s.agentSessionRef).toMatch(/^[0-9a-f-]{36}$/);
    const kinds = (await h.eventsOf(s.id)).map(
      (e) => `${e.kind}${e.data.name ? `:${e.data.name}` : ''}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining(['agent.session', 'agent.tool_use:Write', 'agent.result']),
    );
    // The prompt the model saw is the runner's, with the issue in it.
    expect(JSON.stringify(model.requests.at(-1)?.body)).toContain('Add a greeting file');
  }, 90_000);
});
