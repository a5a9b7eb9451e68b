import { z } from 'zod';
import type { Session } from '../db/schema.js';
import { DEFAULT_REPO_CONFIG, type RepoConfig, repoConfigSchema } from './repo-config.js';

/**
 * Who wrote a text of the snapshot, as far as the prompt cares: their role on the repository when
 * the session was triggered (admin, maintain, write, triage, read, `none`; `bot`; `operator` for
 * the API) and whether their text is the task. Not trusted (or not known, in a snapshot taken
 * before provenance was recorded): quoted in the prompt as untrusted material.
 */
const provenance = { role: z.string().optional(), trusted: z.boolean().optional() };

export const snapshotCommentSchema = z.object({
  author: z.string(),
  body: z.string(),
  createdAt: z.string().optional(),
  ...provenance,
});
export type SnapshotComment = z.infer<typeof snapshotCommentSchema>;

/** What the snapshot left out of the issue's comments, for the prompt to say. */
export const omittedSchema = z.object({
  /** Edited after the trigger: GitHub keeps no earlier text to take, so they are left out. */
  edited: z.array(z.object({ author: z.string(), createdAt: z.string() })).default([]),
  /** Left out to keep within the cap: how many, and the cap. */
  overCap: z.number().int().default(0),
  cap: z.object({ comments: z.number().int(), chars: z.number().int() }).optional(),
});
export type Omitted = z.infer<typeof omittedSchema>;

/** The issue as it was when the session was triggered (title, body, comments), with provenance. */
export const issueSnapshotSchema = z.object({
  repository: z.string(),
  number: z.number().int(),
  title: z.string(),
  body: z.string(),
  url: z.string().optional(),
  /** Who opened the issue: the title and body are theirs. */
  author: z.object({ login: z.string(), ...provenance }).optional(),
  comments: z.array(snapshotCommentSchema).default([]),
  omitted: omittedSchema.optional(),
});
export type IssueSnapshot = z.infer<typeof issueSnapshotSchema>;

/** What a session's `context` column holds; every key is optional, unknown keys are kept. */
export const sessionContextSchema = z.looseObject({
  // Each key on its own: a malformed one reads as absent and leaves the others be.
  issue: issueSnapshotSchema.optional().catch(undefined),
  /** The repository's `.github/agent.yml` as it was at trigger time. */
  config: z.record(z.string(), z.unknown()).optional().catch(undefined),
  /** The tip of the base branch when the workspace was made: no commits since means no push. */
  baseSha: z.string().optional().catch(undefined),
  /** `api` when an operator started the session through the JSON API. */
  startedThrough: z.literal('api').optional().catch(undefined),
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
