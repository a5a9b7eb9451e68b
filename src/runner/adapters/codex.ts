import type { AgentAdapter, AgentEvent, AgentProfile } from './adapter.js';
import {
  asObject,
  type JsonObject,
  numberField,
  objectField,
  parseJsonLine,
  stringField,
} from './json-line.js';
import { shorten } from './tool-summary.js';

/**
 * OpenAI Codex CLI, `codex exec --json` (see codex-rs/exec/src/cli.rs and docs/exec.md in
 * openai/codex). The prompt is read from stdin when the positional prompt is `-`. Options of
 * `exec` other than --json and --model are not global, so they go before the `resume` subcommand.
 * `--sandbox workspace-write` lets it edit the worktree and run commands in it (the deprecated
 * `--full-auto` meant the same); exec never stops to ask for approval.
 *
 * Not run here: no codex binary is installed, so the argv and the event format below come from
 * its sources and docs, not from a recorded run.
 */
export const codexAdapter: AgentAdapter = {
  name: 'codex',
  binary: 'codex',
  egress: ['api.openai.com', 'chatgpt.com'],
  passEnv: ['OPENAI_API_KEY', 'CODEX_API_KEY', 'OPENAI_BASE_URL', 'CODEX_HOME'],

  firstTurn({ promptFile, profile }) {
    return { argv: [...options(profile), '-'], env: {}, stdinFile: promptFile };
  },

  nextTurn({ messageFile, sessionRef, profile }) {
    const target = sessionRef ? [sessionRef] : ['--last'];
    return {
      argv: [...options(profile), 'resume', ...target, '-'],
      env: {},
      stdinFile: messageFile,
    };
  },

  createParser: createCodexParser,
};

function options(profile: AgentProfile): string[] {
  const argv = ['codex', 'exec', '--json', '--sandbox', 'workspace-write'];
  if (profile.model) argv.push('--model', profile.model);
  return argv;
}

/**
 * `thread.started` names the session; completed items become text (agent_message) or tool use
 * (command_execution, file_change, mcp_tool_call, web_search); `turn.completed` closes the turn
 * with its token usage (codex reports no cost), and `turn.failed` or `error` close it as failed.
 * An `error` is not always the end (codex may retry and still complete the turn); the result
 * that follows it then replaces it, as the last result wins.
 */
export function createCodexParser(): (line: string) => AgentEvent[] {
  let lastMessage: string | undefined;
  return (line) => {
    const event = parseJsonLine(line);
    if (!event) return [];
    switch (event.type) {
      case 'thread.started': {
        const ref = stringField(event, 'thread_id');
        return ref ? [{ type: 'session', ref }] : [];
      }
      case 'item.completed': {
        const item = objectField(event, 'item');
        if (item?.type === 'agent_message') lastMessage = stringField(item, 'text') ?? lastMessage;
        return itemEvents(item);
      }
      case 'turn.completed': {
        const usage = objectField(event, 'usage');
        return [
          {
            type: 'result',
            isError: false,
            summary: lastMessage,
            // Codex's usage (from the thread's token totals) counts cached input within
            // input_tokens, as its docs' sample shows (cached <= input).
            inputTokens: numberField(usage, 'input_tokens'),
            outputTokens: numberField(usage, 'output_tokens'),
          },
        ];
      }
      case 'turn.failed':
        return [failure(stringField(objectField(event, 'error'), 'message'))];
      case 'error':
        return [failure(stringField(event, 'message'))];
      default:
        return [];
    }
  };
}

function failure(message: string | undefined): AgentEvent {
  return { type: 'result', isError: true, summary: message ?? 'codex reported an error' };
}

function itemEvents(item: JsonObject | undefined): AgentEvent[] {
  switch (item?.type) {
    case 'agent_message': {
      const text = stringField(item, 'text');
      return text?.trim() ? [{ type: 'text', text }] : [];
    }
    case 'command_execution':
      return [
        { type: 'tool_use', name: 'command', summary: summary(stringField(item, 'command')) },
      ];
    case 'file_change': {
      const paths = Array.isArray(item.changes)
        ? item.changes.map((c) => stringField(asObject(c), 'path')).filter((p) => p !== undefined)
        : [];
      return [{ type: 'tool_use', name: 'file_change', summary: summary(paths.join(', ')) }];
    }
    case 'mcp_tool_call': {
      const name = [stringField(item, 'server'), stringField(item, 'tool')]
        .filter(Boolean)
        .join('.');
      return [{ type: 'tool_use', name: name || 'mcp_tool_call' }];
    }
    case 'web_search':
      return [
        { type: 'tool_use', name: 'web_search', summary: summary(stringField(item, 'query')) },
      ];
    case 'error':
      return [{ type: 'text', text: `error: ${stringField(item, 'message') ?? 'unknown'}` }];
    default:
      return [];
  }
}

function summary(text: string | undefined): string | undefined {
  return text ? shorten(text) : undefined;
}
