import { z } from 'zod';

/**
 * The parts of GitHub's webhook payloads that translate() reads, one zod schema per event. Only
 * those fields are checked, so a delivery with more (or newer) fields still parses.
 */

const id = z.number().int().positive();
/** SHA-1, or SHA-256 for repositories that use it. */
const sha = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/);
const nonEmpty = z.string().min(1);
const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? '');
/** Keeps the numbers of the well-formed entries; one odd entry does not lose the delivery. */
const prNumbers = z
  .array(z.unknown())
  .nullish()
  .transform((list) =>
    (list ?? []).flatMap((pr) => {
      const parsed = z.object({ number: id }).safeParse(pr);
      return parsed.success ? [parsed.data.number] : [];
    }),
  );

export const envelope = z.object({
  installation: z.object({ id }),
  repository: z.object({
    id,
    full_name: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
    clone_url: nonEmpty,
    default_branch: nonEmpty,
  }),
  sender: z.object({ login: nonEmpty, type: nonEmpty }),
});

export const issueFields = z.object({
  number: id,
  title: z.string(),
  body: optionalText,
  html_url: nonEmpty,
  /** Who opened it; null for a deleted account (and an odd one does not lose the delivery). */
  user: z.object({ login: nonEmpty, type: nonEmpty }).nullish().catch(null),
  /** Present (an object) when the issue is a pull request. */
  pull_request: z.unknown().optional(),
});
export const labeled = z.object({
  action: z.enum(['labeled', 'unlabeled']),
  label: z.object({ name: nonEmpty }),
});
export const issueEvent = z.object({ action: z.string(), issue: issueFields });
export const comment = z.object({
  action: z.literal('created'),
  comment: z.object({ id, body: z.string() }),
  issue: issueFields,
});

const branchRef = z.object({
  ref: nonEmpty,
  sha,
  repo: z.object({ full_name: z.string() }).nullable(),
});
export const pullRequestEvent = z.object({
  action: z.string(),
  pull_request: issueFields.omit({ pull_request: true }).extend({
    head: branchRef,
    base: branchRef,
    merged: z.boolean().nullish(),
  }),
});
export const review = z.object({
  action: z.literal('submitted'),
  review: z.object({
    id,
    state: z
      .string()
      .transform((state) => state.toLowerCase())
      .pipe(z.enum(['approved', 'changes_requested', 'commented', 'dismissed'])),
    body: optionalText,
  }),
  pull_request: z.object({ number: id, head: z.object({ sha }) }),
});

export const checkSuite = z.object({
  action: z.literal('completed'),
  check_suite: z.object({
    id,
    head_sha: sha,
    conclusion: z.string().nullable(),
    app: z.object({ slug: z.string().optional() }).nullish(),
    pull_requests: prNumbers,
  }),
});
export const workflowRun = z.object({
  action: z.literal('completed'),
  workflow_run: z.object({
    id,
    head_sha: sha,
    conclusion: z.string().nullable(),
    run_attempt: id.optional(),
    name: z.string().nullish(),
    pull_requests: prNumbers,
  }),
  workflow: z.object({ name: z.string().nullish() }).nullish(),
});
export const commitStatus = z.object({
  id,
  sha,
  state: z.enum(['pending', 'success', 'failure', 'error']),
  context: nonEmpty,
});
export const push = z.object({ ref: z.string(), after: sha, deleted: z.boolean().nullish() });

export type Issue = z.infer<typeof issueFields>;
