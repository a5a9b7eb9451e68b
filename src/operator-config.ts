import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { operatorAgentSchema } from './agent-definition.js';
import { guardsSchema, operatorLimitsSchema } from './limits-config.js';

export const profileSchema = z
  .object({
    agent: z.string().min(1),
    model: z.string().min(1).optional(),
    instructions: z.string().optional(),
    mcpConfig: z.string().min(1).optional(),
  })
  .strict();

export const operatorConfigSchema = z
  .object({
    agents: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), operatorAgentSchema).default({}),
    profiles: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), profileSchema).default({}),
    /** Variables every agent gets: names passed through from the app's environment, and values. */
    env: z
      .object({
        pass: z.array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/)).default([]),
        set: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .default({ pass: [], set: {} }),
    /**
     * Time limits, and budgets: the defaults every repository gets and the most any may have (a
     * repository's `.github/agent.yml` may only lower them). Days are UTC days.
     */
    limits: operatorLimitsSchema.default(operatorLimitsSchema.parse({})),
    /** Loop guards: what counts as an agent going round in circles. */
    guards: guardsSchema.default(guardsSchema.parse({})),
    /**
     * What agents in the sandbox may reach beyond their model's API: `host`, `*.domain` (ports
     * 443 and 80) or `host:port` entries, e.g. `registry.npmjs.org` for setup commands.
     */
    egress: z
      .object({ allow: z.array(z.string().min(1)).default([]) })
      .strict()
      .default({ allow: [] }),
    /**
     * What one turn's processes may hold together in the sandbox, where the kernel lets the
     * runner make cgroups: memory, and processes and threads at once.
     */
    sandbox: z
      .object({
        memoryMb: z.number().int().min(64).default(8192),
        processes: z.number().int().min(32).default(4096),
      })
      .strict()
      .default({ memoryMb: 8192, processes: 4096 }),
    /** Where turns run: detached processes, or tmux windows a person can attach to. */
    runtime: z.enum(['process', 'tmux']).default('process'),
    /** When set, only these installation ids are served. */
    allowedInstallations: z.array(z.number().int()).optional(),
    /** Bot accounts (e.g. `renovate[bot]`) allowed to trigger sessions. */
    allowedBots: z.array(z.string()).default([]),
    /** Where notifications go besides the GitHub comment; repositories choose the Slack channel. */
    notify: z
      .object({
        slackWebhookUrl: z.url().optional(),
        webhook: z
          .object({ url: z.url(), secret: z.string().min(16) })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type OperatorConfig = z.infer<typeof operatorConfigSchema>;

export class OperatorConfigError extends Error {
  override name = 'OperatorConfigError';
}

/** Reads ORCHESTRATOR_CONFIG; no file means the defaults. Errors name the file and the field. */
export function loadOperatorConfig(file: string | undefined): OperatorConfig {
  if (!file) return operatorConfigSchema.parse({});
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (error) {
    throw new OperatorConfigError(
      `ORCHESTRATOR_CONFIG: cannot read ${file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const parsed = operatorConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new OperatorConfigError(
      `ORCHESTRATOR_CONFIG: ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}
