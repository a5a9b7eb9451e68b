import { z } from 'zod';
import { repoLimitsSchema } from '../limits-config.js';

/** `.github/agent.yml`: what a repository asks of the app. Every field has a default. */
export const repoConfigSchema = z
  .object({
    /** The label that starts a session on an issue. */
    label: z.string().min(1).max(50).default('agent'),
    /** The comment command prefix. */
    command: z
      .string()
      .regex(/^\/[a-z][a-z0-9-]*$/, 'must look like /agent')
      .default('/agent'),
    /** Built-in agent (claude-code, codex, aider, opencode) or one from the operator config. */
    agent: z.string().min(1).default('claude-code'),
    /** A profile from the operator config (agent + model + instructions + MCP config). */
    profile: z.string().min(1).optional(),
    /** The branch to work from and open pull requests against; default: the repository's. */
    baseBranch: z.string().min(1).optional(),
    branchPrefix: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,40}$/, 'letters, digits, . _ / - only')
      .default('agent/'),
    /** Open the pull request as a draft. */
    draft: z.boolean().default(false),
    /** Shell commands run in the new worktree before the agent starts (e.g. npm ci). */
    setup: z.array(z.string().min(1)).max(20).default([]),
    /** Extra instructions for the agent, appended to every prompt. */
    instructions: z.string().max(20_000).default(''),
    /** Live sessions this repository may have at once. */
    maxConcurrent: z.number().int().min(1).max(100).default(5),
    reactions: z
      .record(
        z.string(),
        z.object({
          action: z
            .enum(['send-to-agent', 'notify', 'auto-merge', 'cleanup', 'stop', 'ignore'])
            .optional(),
          retries: z.number().int().min(0).max(50).optional(),
          message: z.string().max(5_000).optional(),
          mergeMethod: z.enum(['merge', 'squash', 'rebase']).optional(),
        }),
      )
      .default({}),
    /** Budgets lower than the operator's (never higher), and the repository's own stall time. */
    limits: repoLimitsSchema.default({}),
    notify: z
      .object({
        mentions: z.array(z.string().regex(/^@?[A-Za-z0-9-]+(\/[A-Za-z0-9_.-]+)?$/)).optional(),
        slackChannel: z.string().optional(),
      })
      .default({}),
  })
  .strict();

export type RepoConfig = z.infer<typeof repoConfigSchema>;

export const DEFAULT_REPO_CONFIG: RepoConfig = repoConfigSchema.parse({});
