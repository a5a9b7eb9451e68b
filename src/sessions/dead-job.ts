/**
 * A job that gave up, in the words a person on the issue understands: what could not be done,
 * after how many attempts, and the error, clipped. The session's timeline keeps it as a
 * `job-dead` event and its status comment says it (github/status-comment.ts).
 */
import { z } from 'zod';
import type { Job } from '../db/schema.js';
import { JOB_KINDS } from './job-kinds.js';

export const JOB_DEAD_EVENT = 'job-dead';

/** What each job is for, as "Could not …" finishes it. */
const PURPOSES: Record<string, string> = {
  [JOB_KINDS.spawn]: 'prepare the workspace and start the agent',
  [JOB_KINDS.turn]: "run the agent's next turn",
  [JOB_KINDS.stop]: 'stop the session and clean up',
  [JOB_KINDS.intent]: 'act on an event from GitHub',
  [JOB_KINDS.reaction]: 'act on what the runner reported',
  [JOB_KINDS.statusComment]: 'update the status comment',
  [JOB_KINDS.notify]: 'send a notification',
};

/** The longest error a timeline event or a status comment carries. */
export const DEAD_JOB_ERROR_CHARS = 300;

/** The `job-dead` event's data. */
export const deadJobSchema = z.object({
  /** The job's kind, e.g. `session.turn`. */
  job: z.string(),
  jobId: z.number().int(),
  /** What could not be done, e.g. "run the agent's next turn". */
  what: z.string(),
  attempts: z.number().int(),
  /** The last error's first line, clipped, with anything like a credential taken out. */
  error: z.string(),
});
export type DeadJob = z.infer<typeof deadJobSchema>;

export function deadJob(job: Pick<Job, 'id' | 'kind' | 'attempts' | 'lastError'>): DeadJob {
  return {
    job: job.kind,
    jobId: job.id,
    what: PURPOSES[job.kind] ?? `run the ${job.kind} job`,
    attempts: job.attempts,
    error: clipError(job.lastError ?? 'no error was recorded'),
  };
}

/** "Could not run the agent's next turn after 25 attempts", for people; the error follows. */
export function couldNot(dead: Pick<DeadJob, 'what' | 'attempts'>): string {
  const attempts = dead.attempts === 1 ? '1 attempt' : `${dead.attempts} attempts`;
  return `Could not ${dead.what} after ${attempts}`;
}

/**
 * The first line of an error (a stack's message line), at most DEAD_JOB_ERROR_CHARS long. The
 * text may reach a public comment, so credentials in URLs, authorization headers and GitHub
 * tokens are taken out first.
 */
export function clipError(text: string): string {
  const line = (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  const clean = line
    .replace(/(\/\/[^/@\s:]*:)[^/@\s]+@/g, '$1[redacted]@')
    .replace(/(authorization:\s*\w+\s+)\S+/gi, '$1[redacted]')
    .replace(/\bgh[opsur]_[A-Za-z0-9]{16,}/g, '[redacted]');
  return clean.length > DEAD_JOB_ERROR_CHARS
    ? `${clean.slice(0, DEAD_JOB_ERROR_CHARS - 1)}…`
    : clean;
}
