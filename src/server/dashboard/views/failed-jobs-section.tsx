import { couldNot } from '../../../sessions/dead-job.js';
import type { DeadJobListing } from '../../dead-jobs.js';
import { Ago } from './parts.js';

/**
 * The newest jobs that gave up, for operators: above all those of no session (an intent that
 * failed before a session existed), which no timeline or status comment shows. Not live: as of
 * when the page was made.
 */
export function FailedJobsSection({ jobs, now }: { jobs: DeadJobListing[]; now: Date }) {
  if (jobs.length === 0) return null;
  return (
    <section id="failed-jobs" aria-labelledby="failed-jobs-heading">
      <div class="bar">
        <div class="title">
          <h2 id="failed-jobs-heading">Failed jobs</h2>
          <span class="muted">
            The newest {jobs.length} that ran out of attempts; also at GET /api/jobs/dead.
          </span>
        </div>
      </div>
      <div class="panel">
        <table>
          <thead>
            <tr>
              <th>Job</th>
              <th>About</th>
              <th class="num">Died</th>
              <th class="num">Attempts</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr class="failed-job" data-job-id={String(job.jobId)}>
                <td>
                  <code>{job.job}</code>
                </td>
                <td>
                  {job.sessionId ? (
                    <a href={`/sessions/${job.sessionId}`}>{job.sessionId}</a>
                  ) : (
                    <span>
                      {job.repository ?? 'no session'}
                      {job.deliveryId && <span class="muted"> (delivery {job.deliveryId})</span>}
                    </span>
                  )}
                </td>
                <td class="num">
                  <Ago date={job.diedAt} now={now} />
                </td>
                <td class="num">{job.attempts}</td>
                <td title={couldNot(job)}>{job.error}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
