import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { REPOSITORY, REPOSITORY_ID } from './payloads.js';

/** n active sessions with open pull requests, each with its history (events, turns, done jobs). */
export async function seedSessions(database: Database, n: number): Promise<void> {
  await database.db.execute(sql`
    insert into sessions (id, installation_id, repository_id, repository_full_name, clone_url,
      issue_number, pr_number, branch, base_branch, head_sha, agent, runner_id, status,
      workspace_path, triggered_by, context, status_comment_id)
    select 's-bench' || lpad(i::text, 5, '0'), 7, ${REPOSITORY_ID}, ${REPOSITORY},
      'https://github.example/octo/widgets.git', i, 10000 + i, 'agent/' || i || '-widget', 'main',
      md5('head' || i) || substr(md5('tail' || i), 1, 8), 'claude-code', 'r-elsewhere', 'waiting',
      '/srv/agent-orchestrator/sessions/s-bench' || i, 'alice',
      jsonb_build_object('config', jsonb_build_object('agent', 'claude-code'),
        'issue', jsonb_build_object('repository', ${REPOSITORY}::text, 'number', i,
          'title', 'Widget ' || i || ' is broken', 'body', 'Please fix it.', 'comments', '[]'::jsonb)),
      100000 + i
    from generate_series(1, ${n}::int) as i`);
  await database.db.execute(sql`
    insert into session_events (session_id, kind, data)
    select id, kind, '{}'::jsonb from sessions,
      unnest(array['created', 'spawning', 'workspace-ready', 'pushed', 'pr-opened']) as kind`);
  await database.db.execute(sql`
    insert into turns (session_id, number, status, runner_id, log_path, exit_code, outcome, ended_at)
    select id, 1, 'finished', 'r-elsewhere', '/srv/state/' || id || '/turn-1.log', 0, 'success', now()
    from sessions`);
  await database.db.execute(sql`
    insert into jobs (kind, payload, session_id, status, attempts, completed_at)
    select kind, jsonb_build_object('sessionId', id), id, 'done', 1, now() from sessions,
      unnest(array['session.spawn', 'session.status-comment', 'github.intent',
        'session.status-comment', 'session.status-comment']) as kind`);
  await database.db.execute(sql`analyze`);
}
