import type { AgentAdapter, AgentEvent, AgentProfile } from './adapter.js';
import {
  type JsonObject,
  numberField,
  objectField,
  parseJsonLine,
  stringField,
} from './json-line.js';
import { shorten, summarizeToolInput } from './tool-summary.js';

/**
 * OpenCode, `opencode run --format json`.
 *
 * Verified in its sources (packages/opencode/src/cli/cmd/run.ts and session/message-v2.ts of
 * anomalyco/opencode, formerly sst/opencode): `run [message..]` appends piped stdin to the
 * message, so the prompt goes on stdin and the argv holds none of it; `--session <id>` and
 * `--continue` resume; `--model provider/model`. With `--format json` each stdout line is
 * `{type, timestamp, sessionID, ...}` with type `text` (a finished TextPart), `tool_use` (a
 * ToolPart whose state is completed or error), `step_start`, `step_finish` (a StepFinishPart with
 * reason, cost and tokens), `reasoning`, `error` ({error: {name, data: {message}}}) and, in
 * recent versions, `done` when the session goes idle.
 * Permission requests are rejected when not interactive; the default permissions let it edit and
 * run commands in its directory, so no `--auto` (which would also approve leaving the worktree).
 * Assumed, not run: no opencode binary is installed here, and older versions may differ.
 */
export const opencodeAdapter: AgentAdapter = {
  name: 'opencode',
  binary: 'opencode',
  egress: ['api.anthropic.com', 'api.openai.com', 'openrouter.ai', 'models.dev'],
  passEnv: [
    'ANTHROPIC_API_KEY',
    'OPENAI_API_KEY',
    'GOOGLE_GENERATIVE_AI_API_KEY',
    'OPENROUTER_API_KEY',
    'GROQ_API_KEY',
    'DEEPSEEK_API_KEY',
    'XAI_API_KEY',
    'OPENCODE_CONFIG',
  ],

  firstTurn({ promptFile, profile }) {
    return { argv: argv(profile, []), env: { ...OPENCODE_ENV }, stdinFile: promptFile };
  },

  nextTurn({ messageFile, sessionRef, profile }) {
    const resume = sessionRef ? ['--session', sessionRef] : ['--continue'];
    return { argv: argv(profile, resume), env: { ...OPENCODE_ENV }, stdinFile: messageFile };
  },

  createParser: createOpencodeParser,
};

const OPENCODE_ENV: Readonly<Record<string, string>> = {
  OPENCODE_DISABLE_AUTOUPDATE: '1',
  OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
};

function argv(profile: AgentProfile, resume: string[]): string[] {
  const args = ['opencode', 'run', '--format', 'json'];
  if (profile.model) args.push('--model', profile.model);
  return [...args, ...resume];
}

/**
 * The session ref comes from the first event's sessionID. Each model call ends with a
 * step_finish; the one that does not ask for tools ends the turn and becomes the result, with
 * cost and tokens summed over the turn's steps.
 */
export function createOpencodeParser(): (line: string) => AgentEvent[] {
  let session: string | undefined;
  let lastText: string | undefined;
  let costUsd = 0;
  let inputTokens = 0;
  let outputTokens = 0;

  return (line) => {
    const event = parseJsonLine(line);
    if (!event) return [];
    const events: AgentEvent[] = [];
    const ref = stringField(event, 'sessionID');
    if (ref && !session) {
      session = ref;
      events.push({ type: 'session', ref });
    }
    const part = objectField(event, 'part');
    switch (event.type) {
      case 'text': {
        const text = stringField(part, 'text');
        if (text?.trim()) {
          lastText = text;
          events.push({ type: 'text', text });
        }
        break;
      }
      case 'tool_use':
        events.push(toolUse(part));
        break;
      case 'step_finish': {
        const tokens = objectField(part, 'tokens');
        const cache = objectField(tokens, 'cache');
        costUsd += numberField(part, 'cost') ?? 0;
        // OpenCode's `input` excludes cached tokens; count them as input like the other adapters.
        inputTokens +=
          (numberField(tokens, 'input') ?? 0) +
          (numberField(cache, 'read') ?? 0) +
          (numberField(cache, 'write') ?? 0);
        outputTokens += numberField(tokens, 'output') ?? 0;
        if (stringField(part, 'reason') !== 'tool-calls') {
          events.push({
            type: 'result',
            isError: false,
            summary: lastText,
            costUsd,
            inputTokens,
            outputTokens,
          });
        }
        break;
      }
      case 'error': {
        const error = objectField(event, 'error');
        const message =
          stringField(objectField(error, 'data'), 'message') ?? stringField(error, 'name');
        events.push({
          type: 'result',
          isError: true,
          summary: message ?? 'opencode reported an error',
          costUsd,
          inputTokens,
          outputTokens,
        });
        break;
      }
    }
    return events;
  };
}

function toolUse(part: JsonObject | undefined): AgentEvent {
  const state = objectField(part, 'state');
  const title = stringField(state, 'title');
  return {
    type: 'tool_use',
    name: stringField(part, 'tool') ?? 'unknown',
    summary:
      summarizeToolInput(objectField(state, 'input')) ?? (title ? shorten(title) : undefined),
  };
}
