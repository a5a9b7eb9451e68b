import { z } from 'zod';

/**
 * The format of an agent the operator defines in ORCHESTRATOR_CONFIG (see
 * runner/adapters/command.ts, which runs it): argv templates whose arguments may hold
 * `{promptFile}`, `{messageFile}`, `{sessionRef}`, `{workdir}` and `{model}`. It lives apart
 * from the runner because the operator config validates it at startup, for every process.
 */

export const PLACEHOLDERS = [
  'promptFile',
  'messageFile',
  'sessionRef',
  'workdir',
  'model',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Partial<Record<Placeholder, string | null | undefined>>;

const FIRST_TURN_ONLY: Placeholder[] = ['promptFile'];
const NEXT_TURN_ONLY: Placeholder[] = ['messageFile', 'sessionRef'];
export const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const argTemplate = z.union([z.string(), z.array(z.string()).min(1)]);
const argvTemplate = z
  .array(argTemplate)
  .min(1)
  .refine((argv) => typeof argv[0] === 'string' && argv[0] !== '' && !argv[0].includes('{'), {
    message: 'the first argument must be the program itself, without placeholders',
  });

const fields = {
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
};

function checkTurns(
  definition: { firstTurn: (string | string[])[]; nextTurn: (string | string[])[] },
  ctx: z.RefinementCtx,
) {
  checkPlaceholders(definition.firstTurn, NEXT_TURN_ONLY, ['firstTurn'], ctx);
  checkPlaceholders(definition.nextTurn, FIRST_TURN_ONLY, ['nextTurn'], ctx);
}

/** An agent as the operator's YAML defines it, under its name in `agents`. */
export const operatorAgentSchema = z.object(fields).superRefine(checkTurns);

/** An agent definition with its name, as the command adapter takes it. */
export const commandAgentDefinitionSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and dashes'),
    ...fields,
  })
  .superRefine(checkTurns);

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

export function isPlaceholder(name: string | undefined): name is Placeholder {
  return (PLACEHOLDERS as readonly (string | undefined)[]).includes(name);
}
