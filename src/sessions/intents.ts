/**
 * What a webhook means to the app, independent of GitHub's payload shapes. The webhook route
 * translates a delivery into at most one intent (pure, no API calls) and queues it as a job;
 * everything that needs GitHub happens in that job. The schemas are the job payload's too: the
 * worker parses an intent job's payload once, so handlers never cast.
 */
import { z } from 'zod';

export const repoRefSchema = z.object({
  id: z.number().int(),
  /** owner/name */
  fullName: z.string(),
  cloneUrl: z.string(),
  defaultBranch: z.string(),
});
export type RepoRef = z.infer<typeof repoRefSchema>;

export const actorSchema = z.object({
  login: z.string(),
  /** GitHub's account type: User, Bot, Organization. */
  type: z.string(),
});
export type Actor = z.infer<typeof actorSchema>;

const base = { installationId: z.number().int(), repo: repoRefSchema, sender: actorSchema };

/** How a check suite or workflow run can finish. */
export const CHECK_CONCLUSIONS = [
  'success',
  'failure',
  'neutral',
  'cancelled',
  'skipped',
  'timed_out',
  'action_required',
  'stale',
] as const;
/** A CI result's conclusion: a check's, or a commit status's `error`. */
export const CI_CONCLUSIONS = [...CHECK_CONCLUSIONS, 'error'] as const;

export const intentSchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.enum(['label-added', 'label-removed']),
    label: z.string(),
    issue: z.object({
      number: z.number().int(),
      title: z.string(),
      body: z.string(),
      url: z.string(),
      isPullRequest: z.boolean(),
      /** Who opened the issue (absent in intents queued before it was recorded). */
      author: actorSchema.optional(),
    }),
  }),
  z.object({
    ...base,
    kind: z.literal('issue-closed'),
    issueNumber: z.number().int(),
    /** Who opened the issue (they may close it and so end its session); null when unknown. */
    issueAuthor: z.string().nullable().default(null),
  }),
  z.object({
    ...base,
    /** An issue or pull request comment holding a command line (`/agent ...`). */
    kind: z.literal('comment'),
    issueNumber: z.number().int(),
    isPullRequest: z.boolean(),
    commentId: z.number().int(),
    /** The comment as of the trigger: a later edit does not change the task. */
    body: z.string(),
    issue: z.object({
      title: z.string(),
      body: z.string(),
      url: z.string(),
      author: actorSchema.optional(),
    }),
  }),
  z.object({
    ...base,
    kind: z.literal('review'),
    prNumber: z.number().int(),
    reviewId: z.number().int(),
    state: z.enum(['approved', 'changes_requested', 'commented', 'dismissed']),
    body: z.string(),
    headSha: z.string(),
  }),
  z.object({
    ...base,
    /** A finished CI signal for a commit: a check suite, a workflow run or a commit status. */
    kind: z.literal('ci'),
    headSha: z.string(),
    conclusion: z.enum(CI_CONCLUSIONS),
    source: z.enum(['check_suite', 'workflow_run', 'status']),
    /** Check suite id, workflow run id, or status id. */
    sourceId: z.number().int(),
    /** Workflow re-runs count as new events. */
    runAttempt: z.number().int(),
    name: z.string(),
    /** Pull requests GitHub links to the commit, when the payload says. */
    prNumbers: z.array(z.number().int()),
  }),
  z.object({
    ...base,
    kind: z.enum(['pr-opened', 'pr-updated']),
    prNumber: z.number().int(),
    branch: z.string(),
    baseBranch: z.string(),
    headSha: z.string(),
    fromFork: z.boolean(),
  }),
  z.object({
    ...base,
    kind: z.literal('pr-closed'),
    prNumber: z.number().int(),
    branch: z.string(),
    merged: z.boolean(),
    /** Its head is not in the base repository: never a session's by its branch name. */
    fromFork: z.boolean().default(false),
  }),
  z.object({ ...base, kind: z.literal('push'), branch: z.string(), headSha: z.string() }),
]);
export type Intent = z.infer<typeof intentSchema>;
export type IntentKind = Intent['kind'];
export type IntentOf<K extends IntentKind> = Extract<Intent, { kind: K }>;

/**
 * A session the operator asked for through the API (`POST /api/sessions`). The caller holds the
 * API token, so it is trusted as a writer; it knows only the repository's name, so the intent's
 * job finds the installation (as the app) and reads the repository and the issue itself.
 */
export const operatorStartSchema = z.object({
  kind: z.literal('operator-start'),
  /** owner/name */
  repository: z.string(),
  issueNumber: z.number().int(),
  /** Given to the agent with the issue, in its first prompt. */
  message: z.string().optional(),
  agent: z.string().optional(),
  profile: z.string().optional(),
});
export type OperatorStart = z.infer<typeof operatorStartSchema>;

/** What became of a start asked for through the API. */
export type OperatorStartOutcome =
  | 'session-created'
  | 'already-running'
  | 'at-limit'
  | 'not-installed'
  | 'installation-not-allowed'
  | 'no-such-issue'
  | 'pull-request'
  | 'issue-closed'
  | 'unknown-profile'
  | 'unknown-agent';
