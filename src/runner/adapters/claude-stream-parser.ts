import type { AgentEvent } from './adapter.js';
import {
  asObject,
  type JsonObject,
  numberField,
  objectField,
  parseJsonLine,
  stringField,
  sumOf,
} from './json-line.js';
import { summarizeToolInput } from './tool-summary.js';

/**
 * Parses `claude -p --output-format stream-json --verbose`: one JSON message a line.
 * `system`/`init` names the session, `assistant` messages carry text and tool_use blocks, and the
 * closing `result` carries the final text, the cost and the token counts. `user` messages (tool
 * results), `stream_event`s and other system messages are not reported. A line that is not JSON
 * (a crash message when stderr shares the stream) becomes text so that it is not lost.
 */
export function createClaudeStreamParser(): (line: string) => AgentEvent[] {
  return (line) => {
    const message = parseJsonLine(line);
    if (!message) return line.trim() === '' ? [] : [{ type: 'text', text: line }];
    switch (message.type) {
      case 'system':
        return sessionEvent(message);
      case 'assistant':
        return assistantEvents(message);
      case 'result':
        return [resultEvent(message)];
      default:
        return [];
    }
  };
}

function sessionEvent(message: JsonObject): AgentEvent[] {
  const ref = stringField(message, 'session_id');
  return message.subtype === 'init' && ref ? [{ type: 'session', ref }] : [];
}

function assistantEvents(message: JsonObject): AgentEvent[] {
  const content = objectField(message, 'message')?.content;
  if (!Array.isArray(content)) return [];
  const events: AgentEvent[] = [];
  for (const item of content) {
    const block = asObject(item);
    if (block?.type === 'text') {
      const text = stringField(block, 'text');
      if (text?.trim()) events.push({ type: 'text', text });
    } else if (block?.type === 'tool_use') {
      events.push({
        type: 'tool_use',
        name: stringField(block, 'name') ?? 'unknown',
        summary: summarizeToolInput(objectField(block, 'input')),
      });
    }
  }
  return events;
}

function resultEvent(message: JsonObject): AgentEvent {
  const usage = objectField(message, 'usage');
  const errors = Array.isArray(message.errors)
    ? message.errors.filter((e): e is string => typeof e === 'string')
    : [];
  return {
    type: 'result',
    isError:
      message.is_error === true || (message.subtype !== undefined && message.subtype !== 'success'),
    summary: stringField(message, 'result') ?? (errors.length > 0 ? errors.join('\n') : undefined),
    costUsd: numberField(message, 'total_cost_usd'),
    // Cached prompt tokens are still input the model read; count them with the rest.
    inputTokens: sumOf(
      numberField(usage, 'input_tokens'),
      numberField(usage, 'cache_creation_input_tokens'),
      numberField(usage, 'cache_read_input_tokens'),
    ),
    outputTokens: numberField(usage, 'output_tokens'),
  };
}
