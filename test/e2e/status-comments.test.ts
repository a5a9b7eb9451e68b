import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../src/db/schema.js';
import { type InProcess, startInProcess } from './in-process.js';

// The one status comment a session keeps on its issue, the app in-process.
describe('the status comment', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess();
  });
  afterAll(() => h?.cleanup());

  it('edits one status comment through many transitions instead of adding comments', async () => {
    await h.deliver('issues', h.labelled(70));
    const s = await h.waitForSession(70, ['waiting']);
    await h.settled();
    const writesBefore = h.github.writes().length;
    for (let i = 0; i < 50; i++) {
      await h.db
        .update(sessions)
        .set({ costUsd: i / 100 })
        .where(eq(sessions.id, s.id));
      await h.db.transaction((tx) => h.orchestrator.sessionService.touch(tx, s.id));
    }
    await h.settled();
    expect(h.statusComments(70)).toHaveLength(1);
    const writes = h.github.writes().slice(writesBefore);
    expect(writes.every((w) => w.method === 'PATCH')).toBe(true);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.length).toBeLessThanOrEqual(50);
  }, 60_000);
});

describe('status comment edits that GitHub is slow to answer', () => {
  let h: InProcess;
  beforeAll(async () => {
    h = await startInProcess({ repoConfig: { maxConcurrent: 10 } });
  });
  afterAll(() => h?.cleanup());

  // Five sessions at once, then a sixth: their waits get longer than the harness's 30 s default.
  const LONG = 90_000;

  it('hold up neither the next webhook nor a second edit of the same comment', async () => {
    const busy = [80, 81, 82, 83, 84];
    for (const number of busy) await h.deliver('issues', h.labelled(number));
    const started = await Promise.all(
      busy.map((n) => h.waitForSession(n, ['waiting'], undefined, LONG)),
    );
    await h.settled(LONG);

    // GitHub stops answering comment edits; every session changes twice.
    const edits = h.github.hold(
      (call) => call.method === 'PATCH' && call.path.includes('/issues/comments/'),
    );
    for (const [i, s] of started.entries()) {
      for (const cost of [0.25, 0.5]) {
        await h.db
          .update(sessions)
          .set({ costUsd: cost + i })
          .where(eq(sessions.id, s.id));
        await h.db.transaction((tx) => h.orchestrator.sessionService.touch(tx, s.id));
      }
    }
    try {
      await h.until('four edits stuck at GitHub', async () => edits.waiting.length >= 4, LONG);

      // A new issue still gets its session and first turn while those edits hang.
      await h.deliver('issues', h.labelled(85));
      const fresh = await h.waitForSession(85, ['waiting'], undefined, LONG);
      expect(fresh.prNumber).toBeTruthy();
      // One edit in flight per comment: the second change of a session waits for its first.
      const edited = edits.waiting.map((call) => call.path);
      expect(new Set(edited).size).toBe(edited.length);
    } finally {
      edits.release();
    }
    await h.settled(LONG);
    for (const [i, n] of busy.entries()) {
      const [comment] = h.statusComments(n);
      expect(h.statusComments(n)).toHaveLength(1);
      expect(comment!.body).toContain(`$${(0.5 + i).toFixed(2)}`);
    }
    expect(h.statusComments(85)).toHaveLength(1);
  }, 300_000);
});
