import {
  type CommandAgentDefinitionInput,
  commandAgentDefinitionSchema,
  isPlaceholder,
  PLACEHOLDER,
  type PlaceholderValues as Values,
} from '../../agent-definition.js';
import type { AgentAdapter, AgentEvent } from './adapter.js';
import { createClaudeStreamParser } from './claude-stream-parser.js';

/**
 * An agent defined by the operator (ORCHESTRATOR_CONFIG): argv templates whose arguments may hold
 * `{promptFile}`, `{messageFile}`, `{sessionRef}`, `{workdir}` and `{model}`. Each argument is
 * substituted on its own and the result is run without a shell, so a value can never split into
 * more arguments or reach a shell.
 *
 * An argument that names a placeholder without a value (no model, no session ref yet) is left
 * out. An argument may also be a list, a group left out whole when any of its placeholders has
 * no value: `[--model, '{model}']` gives `--model x` or nothing.
 */

export {
  type CommandAgentDefinition,
  type CommandAgentDefinitionInput,
  commandAgentDefinitionSchema,
} from '../../agent-definition.js';

/** Validates the definition (throws a ZodError) and builds its adapter. */
export function createCommandAdapter(input: CommandAgentDefinitionInput): AgentAdapter {
  const definition = commandAgentDefinitionSchema.parse(input);
  const program = definition.firstTurn[0] as string;
  const stdin = (file: string) => (definition.stdin === 'turn-file' ? { stdinFile: file } : {});

  return {
    name: definition.name,
    binary: definition.binary ?? program,
    passEnv: definition.passEnv,
    egress: [],
    firstTurn({ workdir, promptFile, profile }) {
      const values = { workdir, promptFile, model: profile.model };
      return {
        argv: expand(definition.firstTurn, values),
        env: { ...definition.env },
        ...stdin(promptFile),
      };
    },
    nextTurn({ workdir, messageFile, sessionRef, profile }) {
      const values = { workdir, messageFile, sessionRef, model: profile.model };
      return {
        argv: expand(definition.nextTurn, values),
        env: { ...definition.env },
        ...stdin(messageFile),
      };
    },
    createParser:
      definition.output === 'claude-stream-json' ? createClaudeStreamParser : createTextParser,
  };
}

/** Substitutes each argument; arguments and groups with a placeholder lacking a value drop out. */
export function expand(template: (string | string[])[], values: Values): string[] {
  const argv: string[] = [];
  for (const item of template) {
    const group = (typeof item === 'string' ? [item] : item).map((arg) => substitute(arg, values));
    if (group.every((arg) => arg !== undefined)) argv.push(...group);
  }
  return argv;
}

function substitute(arg: string, values: Values): string | undefined {
  let missing = false;
  const result = arg.replace(PLACEHOLDER, (whole, name: string) => {
    if (!isPlaceholder(name)) return whole;
    const value = values[name];
    if (value === undefined || value === null || value === '') missing = true;
    return value ?? '';
  });
  return missing ? undefined : result;
}

function createTextParser(): (line: string) => AgentEvent[] {
  return (line) => (line.trim() === '' ? [] : [{ type: 'text', text: line }]);
}
