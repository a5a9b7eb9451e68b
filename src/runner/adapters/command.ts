import { z } from 'zod';
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

const PLACEHOLDERS = ['promptFile', 'messageFile', 'sessionRef', 'workdir', 'model'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
type Values = Partial<Record<Placeholder, string | null | undefined>>;

const FIRST_TURN_ONLY: Placeholder[] = ['promptFile'];
const NEXT_TURN_ONLY: Placeholder[] = ['messageFile', 'sessionRef'];
const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const argTemplate = z.union([z.string(), z.array(z.string()).min(1)]);
const argvTemplate = z
  .array(argTemplate)
  .min(1)
  .refine((argv) => typeof argv[0] === 'string' && argv[0] !== '' && !argv[0].includes('{'), {
    message: 'the first argument must be the program itself, without placeholders',
  });

export const commandAgentDefinitionSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and dashes'),
    /** The program looked up on PATH; defaults to the first argument of firstTurn. */
    binary: z.string().min(1).optional(),
    firstTurn: argvTemplate,
    nextTurn: argvTemplate,
    passEnv: z.array(z.string().regex(ENV_NAME, 'not an environment variable name')).default([]),
    env: z
      .record(z.string().regex(ENV_NAME, 'not an environment variable name'), z.string())
      .default({}),
    output: z.enum(['text', 'claude-stream-json']).default('text'),
    /** `turn-file`: the prompt (first turn) or the message (next turns) is also fed to stdin. */
    stdin: z.enum(['none', 'turn-file']).default('none'),
  })
  .superRefine((definition, ctx) => {
    checkPlaceholders(definition.firstTurn, NEXT_TURN_ONLY, ['firstTurn'], ctx);
    checkPlaceholders(definition.nextTurn, FIRST_TURN_ONLY, ['nextTurn'], ctx);
  });

/** A validated definition, defaults applied. */
export type CommandAgentDefinition = z.output<typeof commandAgentDefinitionSchema>;
/** A definition as written in the operator's YAML. */
export type CommandAgentDefinitionInput = z.input<typeof commandAgentDefinitionSchema>;

function checkPlaceholders(
  argv: (string | string[])[],
  unavailable: Placeholder[],
  path: (string | number)[],
  ctx: z.RefinementCtx,
) {
  argv.flat().forEach((arg) => {
    for (const [, name] of arg.matchAll(PLACEHOLDER)) {
      if (!isPlaceholder(name)) {
        ctx.addIssue({ code: 'custom', path, message: `unknown placeholder {${name}}` });
      } else if (unavailable.includes(name)) {
        ctx.addIssue({ code: 'custom', path, message: `{${name}} has no value in this turn` });
      }
    }
  });
}

function isPlaceholder(name: string | undefined): name is Placeholder {
  return (PLACEHOLDERS as readonly (string | undefined)[]).includes(name);
}

/** Validates the definition (throws a ZodError) and builds its adapter. */
export function createCommandAdapter(input: CommandAgentDefinitionInput): AgentAdapter {
  const definition = commandAgentDefinitionSchema.parse(input);
  const program = definition.firstTurn[0] as string;
  const stdin = (file: string) => (definition.stdin === 'turn-file' ? { stdinFile: file } : {});

  return {
    name: definition.name,
    binary: definition.binary ?? program,
    passEnv: definition.passEnv,
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
