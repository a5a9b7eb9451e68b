import { SESSION_STATUSES, type Session, type SessionEvent } from '../../../db/schema.js';
import type { DeadJobListing } from '../../dead-jobs.js';
import type { RepositorySpend } from '../../repository-spend.js';
import { FailedJobsSection } from './failed-jobs-section.js';
import { STATUS_LABELS } from './format.js';
import { Layout } from './layout.js';
import { SessionRow } from './parts.js';
import { SpendSection } from './spend-section.js';

export interface SessionsPageProps {
  sessions: Session[];
  lastEvents: Map<string, SessionEvent>;
  nextCursor: string | null;
  /** The filters as given (even when invalid, so the form shows them back). */
  filters: { repository?: string | undefined; status?: string | undefined };
  cursor: string | undefined;
  /** A page size other than the default, kept in the paging links. */
  limit?: string | undefined;
  repositories: string[];
  error?: string | undefined;
  githubUrl: string;
  now: Date;
  csrfToken: string;
  /** The stream for this view, or none when the filters are invalid. */
  live: string | undefined;
  /** Each repository's spend (only the filtered one's when filtered), for "Spend today". */
  spend?: RepositorySpend[] | undefined;
  /** The newest jobs that gave up, on the unfiltered first page. */
  failedJobs?: DeadJobListing[] | undefined;
}

function pageLink(p: SessionsPageProps, cursor?: string): string {
  const query = new URLSearchParams();
  if (p.filters.repository) query.set('repository', p.filters.repository);
  if (p.filters.status) query.set('status', p.filters.status);
  if (p.limit) query.set('limit', p.limit);
  if (cursor) query.set('cursor', cursor);
  const text = query.toString();
  return text ? `/sessions?${text}` : '/sessions';
}

/** The sessions table with its filters: a plain GET form and plain links, live with a script. */
export function SessionsPage(p: SessionsPageProps) {
  const filtered = Boolean(p.filters.repository || p.filters.status);
  return (
    <Layout title="Sessions" live={p.live} csrfToken={p.csrfToken}>
      <div class="bar">
        <div class="title">
          <h1>Sessions</h1>
          <span class="muted">
            {filtered ? 'Filtered' : 'All repositories'}, newest first
            {p.cursor ? ' (older page)' : ''}
          </span>
        </div>
        <form class="filters" method="get" action="/sessions">
          <label>
            Repository
            <select name="repository">
              <option value="">all</option>
              {[
                ...new Set([
                  ...p.repositories,
                  ...(p.filters.repository ? [p.filters.repository] : []),
                ]),
              ].map((name) => (
                <option value={name} selected={name === p.filters.repository}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Status
            <select name="status">
              <option value="">any</option>
              {SESSION_STATUSES.map((status) => (
                <option value={status} selected={status === p.filters.status}>
                  {STATUS_LABELS[status]}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Filter</button>
          {filtered && (
            <a class="button" href="/sessions">
              Clear
            </a>
          )}
        </form>
      </div>
      {p.error && <p class="flash error">{p.error}</p>}
      <div class="panel">
        <table>
          <thead>
            <tr>
              <th>Repository</th>
              <th>Issue</th>
              <th>PR</th>
              <th>Status</th>
              <th>Agent</th>
              <th>Runner</th>
              <th class="num">Age</th>
              <th class="num">Cost</th>
              <th>Last event</th>
            </tr>
          </thead>
          <tbody id="sessions-body" data-prepend={p.cursor ? 'false' : 'true'}>
            {p.sessions.length === 0 && (
              <tr id="no-sessions">
                <td colspan={9} class="empty">
                  {filtered
                    ? 'No session matches these filters.'
                    : 'No sessions yet. Label an issue to start one.'}
                </td>
              </tr>
            )}
            {p.sessions.map((session) => (
              <SessionRow
                session={session}
                last={p.lastEvents.get(session.id)}
                githubUrl={p.githubUrl}
                now={p.now}
              />
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager">
        {p.cursor && <a href={pageLink(p)}>Newest</a>}
        {p.nextCursor && <a href={pageLink(p, p.nextCursor)}>Older sessions →</a>}
      </nav>
      <FailedJobsSection jobs={p.failedJobs ?? []} now={p.now} />
      <SpendSection spend={p.spend ?? []} now={p.now} />
    </Layout>
  );
}
