import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobQueue } from '../../src/jobs/queue.js';
import { clipError, couldNot, DEAD_JOB_ERROR_CHARS, deadJob } from '../../src/sessions/dead-job.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import { createSessionService } from '../../src/sessions/session-service.js';
import { createSessionStore } from '../../src/sessions/session-store.js';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.js';

describe('a dead job in words', () => {
  it.each([
    [JOB_KINDS.spawn, 3, 'Could not prepare the workspace and start the agent after 3 attempts'],
    [JOB_KINDS.turn, 25, "Could not run the agent's next turn after 25 attempts"],
    [JOB_KINDS.notify, 1, 'Could not send a notification after 1 attempt'],
    ['report.weekly', 5, 'Could not run the report.weekly job after 5 attempts'],
  ])('%s after %i attempts', (kind, attempts, sentence) => {
    expect(couldNot(deadJob({ id: 1, kind, attempts, lastError: 'Error: x' }))).toBe(sentence);
  });

  it.each([
    [
      'the first line of a stack',
      'HttpError: Bad Gateway\n    at request (x.js:1:1)',
      'HttpError: Bad Gateway',
    ],
    ['past blank lines', '\n\n  Error: late  \nmore', 'Error: late'],
    [
      'without a credential in a URL',
      'Error: fetch https://x-access-token:ghs_secret123@github.com/o/r.git failed',
      'Error: fetch https://x-access-token:[redacted]@github.com/o/r.git failed',
    ],
    [
      'without a token',
      'Error: bad token ghs_0123456789abcdefABCDEF given',
      'Error: bad token [redacted] given',
    ],
    [
      'without an authorization header',
      'authorization: token abc123 refused',
      'authorization: token [redacted] refused',
    ],
  ])('an error is clipped to %s', (_, text, clipped) => {
    expect(clipError(text)).toBe(clipped);
  });

  it('an endless error is cut at a bound', () => {
    const clipped = clipError(`Error: ${'x'.repeat(10_000)}`);
    expect(clipped).toHaveLength(DEAD_JOB_ERROR_CHARS);
    expect(clipped.endsWith('…')).toBe(true);
  });

  it('a job with no error recorded says so', () => {
    expect(deadJob({ id: 2, kind: JOB_KINDS.stop, attempts: 5, lastError: null }).error).toBe(
      'no error was recorded',
    );
  });
});

describe('the status comment shows a dead job until the session changes', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('pglite');
  });
  afterAll(() => t?.cleanup());

  it('the newest since the last change, and none once the session moved on', async () => {
    const db = t.database.db;
    const service = createSessionService({ db, queue: createJobQueue({ db }) });
    const store = createSessionStore(db);
    const created = (await service.create({
      repositoryId: 1,
      repositoryFullName: 'octo/widgets',
      cloneUrl: 'https://github.example/octo/widgets.git',
      issueNumber: 3,
      agent: 'fake',
      triggeredBy: 'alice',
    }))!;
    expect(await store.deadJobSince(created)).toBeUndefined();

    const first = deadJob({ id: 10, kind: JOB_KINDS.notify, attempts: 5, lastError: 'Error: one' });
    const second = deadJob({ id: 11, kind: JOB_KINDS.spawn, attempts: 2, lastError: 'Error: two' });
    await service.record(created.id, 'job-dead', { ...first });
    await service.record(created.id, 'job-dead', { ...second });
    expect(await store.deadJobSince((await store.find(created.id))!)).toEqual(second);

    await service.apply(created.id, {
      type: 'stop-requested',
      status: 'stopped',
      reason: 'x',
      cleanup: false,
      by: 'alice',
    });
    const moved = (await store.find(created.id))!;
    expect(moved.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
    expect(await store.deadJobSince(moved)).toBeUndefined();
  });
});
