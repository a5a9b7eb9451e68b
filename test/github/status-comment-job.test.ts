import nock from 'nock';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/db/schema.js';
import { STATUS_MARKER } from '../../src/github/status-comment.js';
import { statusCommentJob } from '../../src/github/status-comment-job.js';
import { RetryLaterError } from '../../src/jobs/worker.js';
import { deadJob } from '../../src/sessions/dead-job.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import { type FakeLifecycle, fakeLifecycle, job, session } from './support/fake-lifecycle.js';
import { API, captureReplies, issueComment, repoPath, useNock } from './support/github-api.js';

const context = { signal: new AbortController().signal, log: pino({ level: 'silent' }) };

const run = (f: FakeLifecycle, sessionId: string) =>
  statusCommentJob(f.deps)(job(JOB_KINDS.statusComment, { sessionId }), context);

/** `PATCH /repos/{o}/{r}/issues/comments/{id}`; the bodies sent are captured. */
function captureEdits(commentId: number): string[] {
  const bodies: string[] = [];
  nock(API)
    .patch(`${repoPath()}/issues/comments/${commentId}`)
    .reply(200, (_uri, body) => {
      const { body: text } = body as { body: string };
      bodies.push(text);
      return issueComment(commentId, 12, 'agent-orchestrator[bot]', text, undefined, 'Bot');
    });
  return bodies;
}

const working = (overrides: Partial<Session> = {}) =>
  session({ issueNumber: 12, status: 'working', branch: 'agent/12-saving-crashes', ...overrides });

describe('the status comment job', () => {
  useNock();

  it('creates the comment once: claimed, posted, and its id kept', async () => {
    const s = working();
    const f = fakeLifecycle({ rows: [s] });
    const posted = captureReplies(12, 1, 9001);

    await run(f, s.id);

    expect(posted).toHaveLength(1);
    expect(posted[0]!.split('\n').slice(0, 2)).toEqual([
      STATUS_MARKER,
      `**Agent Orchestrator** · session \`${s.id}\``,
    ]);
    expect(posted[0]).toContain('| Status | 🤖 working |');
    expect(f.calls).toEqual([
      { method: 'claimStatusComment', args: [s.id] },
      { method: 'setStatusComment', args: [s.id, 9001] },
    ]);
  });

  it('edits the comment in place once its id is known', async () => {
    const s = working({ statusCommentId: 4321, status: 'waiting', prNumber: 7 });
    const f = fakeLifecycle({ rows: [s] });
    const edited = captureEdits(4321);

    await run(f, s.id);

    expect(edited).toHaveLength(1);
    expect(edited[0]).toContain('| Status | 👀 waiting for review or CI |');
    expect(edited[0]).toContain('| Pull request | #7 |');
    expect(f.calls).toEqual([]);
  });

  it('a second run after the first edits the comment the first created', async () => {
    const s = working();
    const f = fakeLifecycle({ rows: [s] });
    captureReplies(12, 1, 9001);
    const edited = captureEdits(9001);

    await run(f, s.id);
    await run(f, s.id);

    expect(edited).toHaveLength(1);
    expect(f.callsTo('claimStatusComment')).toHaveLength(1);
  });

  it('shows the last reaction the session recorded, with its attempts', async () => {
    const s = working({ statusCommentId: 4321, reactionAttempts: { 'ci-failed': 2 } });
    const f = fakeLifecycle({ rows: [s] });
    f.events.push({
      sessionId: s.id,
      kind: 'reaction',
      data: { key: 'ci-failed', action: 'send-to-agent' },
      deliveryId: 'delivery-1',
    });
    const edited = captureEdits(4321);

    await run(f, s.id);

    expect(edited[0]).toContain('| Last reaction | ci-failed → send-to-agent (attempt 2 of 3) |');
  });

  it('says above the table what a job of the session could not do, the error in a code span', async () => {
    const s = working({ statusCommentId: 4321 });
    const f = fakeLifecycle({ rows: [s] });
    f.events.push({
      sessionId: s.id,
      kind: 'job-dead',
      data: deadJob({
        id: 77,
        kind: JOB_KINDS.turn,
        attempts: 25,
        lastError:
          'Error: push refused for @maya on #3 (`main` is protected)\n    at push (run.js:1)',
      }),
      deliveryId: null,
    });
    const edited = captureEdits(4321);

    await run(f, s.id);

    const lines = edited[0]!.split('\n');
    expect(lines[3]).toBe(
      "⚠️ Could not run the agent's next turn after 25 attempts: `Error: push refused for @maya on #3 ('main' is protected)`",
    );
    expect(lines[5]).toBe('| | |');
  });

  it('gives the claim back when GitHub refuses the comment, and fails the job', async () => {
    const s = working();
    const f = fakeLifecycle({ rows: [s] });
    nock(API).post(`${repoPath()}/issues/12/comments`).reply(403, {
      message: 'Resource not accessible by integration',
      documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
      status: '403',
    });

    await expect(run(f, s.id)).rejects.toMatchObject({ status: 403 });
    expect(f.calls).toEqual([
      { method: 'claimStatusComment', args: [s.id] },
      { method: 'setStatusComment', args: [s.id, null] },
    ]);
    expect(f.rows.find((r) => r.id === s.id)?.statusCommentId).toBeNull();
  });

  it('retries later, posting nothing, while another job holds the claim', async () => {
    const s = working({ statusCommentId: 0 });
    const f = fakeLifecycle({ rows: [s] });

    await expect(run(f, s.id)).rejects.toBeInstanceOf(RetryLaterError);
    expect(f.calls).toEqual([{ method: 'claimStatusComment', args: [s.id] }]);
  });

  it.each([
    ['a session that no longer exists', []],
    ['a session without an installation', [working({ id: 's-noinstall', installationId: null })]],
  ])('does nothing for %s', async (_, rows) => {
    const f = fakeLifecycle({ rows });

    await run(f, 's-noinstall');

    expect(f.octokits).toEqual([]);
    expect(f.calls).toEqual([]);
  });
});
