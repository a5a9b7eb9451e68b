import { z } from 'zod';
import type { Job } from '../db/schema.js';
import { type JobContext, type JobHandler, PermanentJobError } from './worker.js';

/**
 * A handler whose payload is parsed once, with its schema, before it runs: the handler gets typed
 * data and never casts. A payload that does not fit can never succeed, so its job dies at once
 * with the reason in its last error.
 */
export function defineJob<S extends z.ZodType>(
  schema: S,
  run: (payload: z.output<S>, context: JobContext, job: Job) => Promise<void>,
): JobHandler {
  return async (job, context) => {
    const parsed = schema.safeParse(job.payload);
    if (!parsed.success) {
      throw new PermanentJobError(
        `job ${job.id} (${job.kind}) has a payload that does not fit its schema: ${z.prettifyError(parsed.error)}`,
      );
    }
    await run(parsed.data, context, job);
  };
}
