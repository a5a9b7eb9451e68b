import { z } from 'zod';
import type { Session } from '../db/schema.js';
import { DEFAULT_REPO_CONFIG, type RepoConfig, repoConfigSchema } from './repo-config.js';

/** The issue as it was when the session was triggered (title, body, comments). */
export const issueSnapshotSchema = z.object({
  repository: z.string(),
  number: z.number().int(),
  title: z.string(),
  body: z.string(),
  url: z.string().optional(),
  comments: z
    .array(z.object({ author: z.string(), body: z.string(), createdAt: z.string().optional() }))
    .default([]),
});
export type IssueSnapshot = z.infer<typeof issueSnapshotSchema>;

/** What a session's `context` column holds; every key is optional, unknown keys are kept. */
export const sessionContextSchema = z.looseObject({
  issue: issueSnapshotSchema.optional(),
  /** The repository's `.github/agent.yml` as it was at trigger time. */
  config: z.record(z.string(), z.unknown()).optional(),
  /** The tip of the base branch when the workspace was made: no commits since means no push. */
  baseSha: z.string().optional(),
  /** `api` when an operator started the session through the JSON API. */
  startedThrough: z.literal('api').optional(),
});
export type SessionContext = z.infer<typeof sessionContextSchema>;

/** The session's context, read leniently: a malformed key reads as absent. */
export function contextOf(session: Pick<Session, 'context'>): SessionContext {
  const parsed = sessionContextSchema.safeParse(session.context);
  return parsed.success ? parsed.data : {};
}

/** The repository config the session was started with, over the defaults. */
export function configOf(session: Pick<Session, 'context'>): RepoConfig {
  const parsed = repoConfigSchema.safeParse({
    ...DEFAULT_REPO_CONFIG,
    ...(contextOf(session).config ?? {}),
  });
  return parsed.success ? parsed.data : DEFAULT_REPO_CONFIG;
}
